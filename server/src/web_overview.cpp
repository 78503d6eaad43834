// The overview page and the printable årsplan/evaluation page (web.hpp).
#include <set>

#include "web_html.hpp"

namespace tandem::server::web {
namespace {

using html::Bars;
using html::count;
using html::str;
using html::t;

// Tables a leader can download, as named by /v1/schools/{school}/tables/{name}.
constexpr std::string_view kTables[] = {"courses",      "sessions",     "actions", "meetings",
                                        "agenda_items", "observations", "workload"};

std::string figure(const PageContext& ctx, std::string_view key, long long value) {
  return "<div><dt>" + t(ctx, key) + "</dt><dd>" + std::to_string(value) + "</dd></div>";
}

// Focus areas in the school's order (zeros included: an area nobody works
// on is a finding), then any the courses name that the list lacks.
Bars focus_bars(const PageContext& ctx, const Json& o) {
  Bars out;
  const Json& counts = o.contains("courses_by_focus_area") ? o["courses_by_focus_area"] : Json();
  std::set<std::string> seen;
  if (o.contains("focus_areas") && o["focus_areas"].is_array()) {
    for (const auto& a : o["focus_areas"]) {
      if (!a.is_string() || !seen.insert(a.get<std::string>()).second) continue;
      out.emplace_back(html::word(ctx, a.get<std::string>()),
                       static_cast<double>(count(counts, a.get<std::string>())));
    }
  }
  for (const auto& [name, value] : html::bars_of(ctx, counts, false)) {
    if (!seen.count(name)) out.emplace_back(html::word(ctx, name), value);
  }
  return out;
}

std::string overdue_table(const PageContext& ctx, const Json& actions) {
  const Json& list = actions.contains("overdue_list") ? actions["overdue_list"] : Json::array();
  if (!list.is_array() || list.empty()) return "<p>" + t(ctx, "overdue.none") + "</p>";
  std::string h = "<table><caption class=\"visually-hidden\">" + t(ctx, "overdue.title") +
                  "</caption><thead><tr><th scope=\"col\">" + t(ctx, "col.action") +
                  "</th><th scope=\"col\">" + t(ctx, "col.due") + "</th><th scope=\"col\">" +
                  t(ctx, "col.tovholder") + "</th><th scope=\"col\">" + t(ctx, "col.source") +
                  "</th></tr></thead><tbody>";
  for (const auto& a : list) {
    std::string source = html::label(ctx, str(a, "source_kind"));
    const std::string title = str(a, "source_title");
    if (!title.empty()) source += ": " + html_escape(title);
    if (str(a, "source_kind") == "course" && !str(a, "source").empty())
      source = html::course_link(str(a, "source"), source);
    const std::string who = str(a, "tovholder_name");
    h += "<tr><td>" + html_escape(str(a, "text")) + "</td><td>" + html_escape(str(a, "due")) +
         "</td><td>" + (who.empty() ? t(ctx, "none") : html_escape(who)) + "</td><td>" +
         (str(a, "source").empty() ? t(ctx, "none") : source) + "</td></tr>";
  }
  return h + "</tbody></table>";
}

std::string workload_table(const PageContext& ctx, const Json& o) {
  const Json& w = o.contains("workload_by_person") ? o["workload_by_person"] : Json::object();
  if (!w.is_object() || w.empty()) return "<p>" + t(ctx, "chart.empty") + "</p>";
  std::string h = "<table><caption class=\"visually-hidden\">" + t(ctx, "workload.title") +
                  "</caption><thead><tr><th scope=\"col\">" + t(ctx, "col.name") +
                  "</th><th scope=\"col\">" + t(ctx, "col.role") + "</th>";
  for (const char* k : {"col.courses", "col.as_tovholder", "col.as_participant", "col.sessions",
                        "col.observations"}) {
    h += "<th scope=\"col\" class=\"num\">" + t(ctx, k) + "</th>";
  }
  h += "</tr></thead><tbody>";
  for (auto it = w.begin(); it != w.end(); ++it) {
    const Json& p = it.value();
    std::string role = html::label(ctx, str(p, "role"));
    if (!str(p, "profession").empty()) role += " (" + html_escape(str(p, "profession")) + ")";
    h += "<tr><th scope=\"row\">" + html_escape(str(p, "name")) + "</th><td>" + role + "</td>";
    for (const char* k : {"courses", "tovholder", "participant", "sessions", "observations"})
      h += "<td class=\"num\">" + std::to_string(count(p, k)) + "</td>";
    h += "</tr>";
  }
  return h + "</tbody></table>";
}

std::string downloads(const PageContext& ctx, const Json& o) {
  const std::string school = o.contains("school") ? str(o["school"], "id") : std::string();
  std::string range;
  if (!ctx.from.empty()) range += "&amp;from=" + url_encode(ctx.from);
  if (!ctx.to.empty()) range += "&amp;to=" + url_encode(ctx.to);
  std::string h = "<p>" + t(ctx, "downloads.intro") + "</p><ul class=\"downloads\">";
  for (std::string_view name : kTables) {
    const std::string base = "/v1/schools/" + url_encode(school) + "/tables/" + std::string(name);
    h += "<li><span class=\"table-name\">" + t(ctx, "table." + std::string(name)) +
         "</span> <a href=\"" + base + "?format=csv" + range + "\" download>CSV</a> <a href=\"" +
         base + "?format=csv&amp;sep=semicolon&amp;bom=1" + range + "\" download>" +
         t(ctx, "downloads.excel") + "</a> <a href=\"" + base + "?format=json" + range +
         "\" download>JSON</a></li>";
  }
  return h + "</ul>";
}

std::string copus(const PageContext& ctx, const Json& o) {
  const Json& profiles = o.contains("observation_profiles") ? o["observation_profiles"] : Json();
  if (!profiles.is_array() || profiles.empty()) return "<p>" + t(ctx, "chart.empty") + "</p>";
  std::string h = "<p>" + t(ctx, "chart.copus_note") + "</p>";
  int n = 0;
  for (const auto& p : profiles) {
    for (const char* part : {"codes", "categories"}) {
      if (!p.contains(part) || !p[part].is_array() || p[part].empty()) continue;
      Bars bars;
      for (const auto& c : p[part]) {
        const std::string name = str(c, part == std::string_view("codes") ? "code" : "name");
        const auto m = c.find("mean_percent");
        bars.emplace_back(name, m != c.end() && m->is_number() ? m->get<double>() : 0.0);
      }
      const std::string title = str(p, "template_name") + " (" +
                                std::to_string(count(p, "sessions")) + " " +
                                std::string(tr(ctx.lang, "chart.sessions_n")) + ")";
      h += html::bar_chart(ctx, "copus-" + std::to_string(n++), title, bars,
                           tr(ctx.lang, "col.percent"));
    }
  }
  return h;
}

}  // namespace

std::string render_overview(const Json& o, const PageContext& ctx) {
  const std::string school = o.contains("school") ? str(o["school"], "name") : std::string();
  const std::string title = std::string(tr(ctx.lang, "overview.title")) + " – " + school;
  const Json& actions = o.contains("actions") ? o["actions"] : Json::object();
  const Json& meetings = o.contains("meetings") ? o["meetings"] : Json::object();
  std::string m = "<h1>" + html_escape(title) + "</h1>";
  m += html::range_form(ctx, o, "/overview");

  std::string figures = "<dl class=\"figures\">";
  figures += figure(ctx, "figures.courses", count(o, "courses_total"));
  figures += figure(ctx, "figures.sessions", count(o, "sessions_total"));
  figures += figure(ctx, "figures.actions_open", count(actions, "open"));
  figures += figure(ctx, "figures.actions_overdue", count(actions, "overdue"));
  figures += figure(ctx, "figures.actions_done", count(actions, "done"));
  figures += figure(ctx, "figures.actions_on_time", count(actions, "done_on_time"));
  figures += figure(ctx, "figures.meetings", count(meetings, "total"));
  m += html::section("figures", t(ctx, "figures.title"), figures + "</dl>");

  const std::string n_courses(tr(ctx.lang, "col.courses"));
  std::string charts = "<div class=\"grid\">";
  charts += html::bar_chart(
      ctx, "chart-month", tr(ctx.lang, "chart.by_month"),
      html::bars_of(ctx, o.value("courses_by_month", Json::object()), false, false), n_courses);
  charts += html::bar_chart(ctx, "chart-focus", tr(ctx.lang, "chart.focus_areas"),
                            focus_bars(ctx, o), n_courses);
  charts +=
      html::bar_chart(ctx, "chart-approach", tr(ctx.lang, "chart.approaches"),
                      html::bars_of(ctx, o.value("sessions_by_approach", Json::object()), true),
                      tr(ctx.lang, "col.sessions"));
  charts += "</div>";
  m += html::section("charts", t(ctx, "figures.courses"), charts);
  m += html::section("overdue", t(ctx, "overdue.title"), overdue_table(ctx, actions));

  std::string breakdown = "<div class=\"grid\">";
  for (const auto& [field, key] : std::initializer_list<std::pair<const char*, const char*>>{
           {"courses_by_kind", "breakdown.kind"},
           {"courses_by_target", "breakdown.target"},
           {"courses_by_horizon", "breakdown.horizon"},
           {"courses_by_character", "breakdown.character"},
           {"courses_by_status", "breakdown.status"},
           {"courses_by_group", "breakdown.group"},
           {"courses_by_evaluation", "breakdown.evaluation"}}) {
    const bool translate = std::string_view(field) != "courses_by_group";
    breakdown += html::counts_table(ctx, tr(ctx.lang, key),
                                    html::bars_of(ctx, o.value(field, Json::object()), translate));
  }
  breakdown += "</div>";
  m += html::section("breakdown", t(ctx, "breakdown.title"), breakdown);
  m += html::section("copus", t(ctx, "chart.copus"), copus(ctx, o));
  m += html::section("workload", t(ctx, "workload.title"), workload_table(ctx, o));
  m += html::section("meetings", t(ctx, "meetings.title"), html::meetings(ctx, o));
  m += html::section("downloads", t(ctx, "downloads.title"), downloads(ctx, o));
  return html::page(ctx, title, m, true);
}

std::string render_print(const Json& o, const PageContext& ctx) {
  const std::string school = o.contains("school") ? str(o["school"], "name") : std::string();
  const std::string title = std::string(tr(ctx.lang, "print.title")) + " – " + school;
  const Json& actions = o.contains("actions") ? o["actions"] : Json::object();
  std::string m = "<h1>" + html_escape(title) + "</h1>";
  m += html::range_form(ctx, o, "/print");
  m += "<p class=\"no-print\">" + t(ctx, "print.print") + "</p>";
  m += html::section("p-meetings", t(ctx, "meetings.title"), html::meetings(ctx, o));
  std::string figures = "<dl class=\"figures\">";
  figures += figure(ctx, "figures.courses", count(o, "courses_total"));
  figures += figure(ctx, "figures.actions_open", count(actions, "open"));
  figures += figure(ctx, "figures.actions_overdue", count(actions, "overdue"));
  figures += figure(ctx, "figures.actions_done", count(actions, "done"));
  figures += figure(ctx, "figures.actions_on_time", count(actions, "done_on_time"));
  figures += "</dl><div class=\"grid\">";
  figures += html::counts_table(
      ctx, tr(ctx.lang, "breakdown.evaluation"),
      html::bars_of(ctx, o.value("courses_by_evaluation", Json::object()), true));
  figures += html::counts_table(ctx, tr(ctx.lang, "chart.focus_areas"), focus_bars(ctx, o));
  figures += "</div>";
  m += html::section("p-courses", t(ctx, "figures.title"), figures);
  return html::page(ctx, title, m, true);
}

}  // namespace tandem::server::web
