// The stylesheet of the leaders' pages, compiled into the binary (no CDN,
// no files to install). Colours keep a contrast of at least 4.5:1 against
// their background (WCAG AA); focus is always visible; a print layout drops
// the menu and forms.
#include "tandem/server/web.hpp"

namespace tandem::server::web {

std::string_view stylesheet() {
  static constexpr std::string_view kCss = R"css(
:root { --ink: #1a1a1a; --muted: #4a4a4a; --paper: #ffffff; --band: #f1f4f7;
  --link: #0b4f8a; --bar: #1d5f8a; --line: #c5ccd3; --focus: #b3541e; --alert: #8a1c1c; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 100%;
  color: var(--ink); background: var(--paper); line-height: 1.5; }
body { margin: 0; }
a { color: var(--link); }
a:focus-visible, button:focus-visible, input:focus-visible, main:focus-visible {
  outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: 0.5rem; top: -4rem; background: var(--paper); padding: 0.5rem 1rem;
  border: 2px solid var(--link); z-index: 10; }
.skip:focus { top: 0.5rem; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; }
header.top { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between;
  gap: 0.5rem 1.5rem; padding: 0.5rem 1.5rem; background: var(--band); border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; font-size: 1.25rem; margin: 0; }
nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: 0.5rem 1.25rem; margin: 0; padding: 0;
  align-items: center; }
nav form { margin: 0; }
button { font: inherit; padding: 0.4rem 1rem; border: 2px solid var(--link); background: var(--link);
  color: #fff; border-radius: 4px; cursor: pointer; min-height: 44px; }
nav button { background: var(--paper); color: var(--link); }
input { font: inherit; padding: 0.4rem; border: 2px solid var(--muted); border-radius: 4px; min-height: 44px; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.75rem; margin: 0.5rem 0; }
h2 { font-size: 1.35rem; margin-top: 2rem; border-bottom: 2px solid var(--line); padding-bottom: 0.25rem; }
.message { border-left: 4px solid var(--alert); padding: 0.5rem 1rem; background: #fbeeee; color: var(--alert); }
fieldset { border: 1px solid var(--line); display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
dl.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); gap: 0.75rem; margin: 0; }
dl.figures div { background: var(--band); padding: 0.75rem; border-radius: 4px; }
dl.figures dt { color: var(--muted); font-size: 0.9rem; }
dl.figures dd { margin: 0; font-size: 1.75rem; font-weight: 700; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
dl.facts div { display: contents; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: 1rem 2rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1rem; }
caption { text-align: left; font-weight: 600; padding: 0.25rem 0; }
th, td { text-align: left; padding: 0.3rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { border-bottom: 2px solid var(--muted); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
figure.chart { margin: 0 0 1rem; }
figure.chart svg { width: 100%; height: auto; max-width: 40rem; display: block; }
figure.chart svg rect { fill: var(--bar); }
figure.chart svg text { fill: var(--ink); font-size: 13px; }
figcaption { font-weight: 600; }
.text { white-space: pre-wrap; }
.overdue { color: var(--alert); }
ul.downloads { padding-left: 1.25rem; }
ul.downloads a { margin-left: 0.5rem; }
.table-name { display: inline-block; min-width: 10rem; }
@media (max-width: 48rem) {
  main { padding: 0.75rem; }
  header.top { padding: 0.5rem 0.75rem; }
  .grid { grid-template-columns: 1fr; }
}
@media print {
  header.top, .skip, .no-print, nav, form { display: none !important; }
  main { max-width: none; padding: 0; }
  a { color: var(--ink); text-decoration: none; }
  section, figure, table { break-inside: avoid; }
  h2 { margin-top: 1rem; }
  body { font-size: 10.5pt; }
}
)css";
  return kCss.substr(1);
}

}  // namespace tandem::server::web
