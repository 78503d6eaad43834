#include "web_html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tandem::server::web::html {
namespace {

// Chart geometry (SVG user units; the chart scales to its box).
constexpr int kChartWidth = 640;
constexpr int kLabelWidth = 230;
constexpr int kValueWidth = 70;
constexpr int kRowHeight = 28;
constexpr int kBarHeight = 18;

}  // namespace

std::string t(const PageContext& ctx, std::string_view key) {
  return html_escape(tr(ctx.lang, key));
}

std::string word(const PageContext& ctx, std::string_view value) {
  const std::string key = "v." + std::string(value);
  const std::string_view found = tr(ctx.lang, key);
  return std::string(found == key ? value : found);
}

std::string label(const PageContext& ctx, std::string_view value) {
  return html_escape(word(ctx, value));
}

std::string number(const PageContext& ctx, double v) {
  if (std::isfinite(v) && std::floor(v) == v && std::fabs(v) < 1e15)
    return std::to_string(static_cast<long long>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  std::string s = buf;
  if (ctx.lang == Lang::kDa) std::replace(s.begin(), s.end(), '.', ',');
  return s;
}

std::string text(const PageContext& ctx, const Json& v) {
  if (v.is_string()) return html_escape(v.get<std::string>());
  if (v.is_boolean()) return t(ctx, v.get<bool>() ? "yes" : "no");
  if (v.is_number()) return number(ctx, v.get<double>());
  if (v.is_null()) return t(ctx, "none");
  return html_escape(v.dump(-1, ' ', false, Json::error_handler_t::replace));
}

std::string str(const Json& object, std::string_view key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

long long count(const Json& object, std::string_view key) {
  if (!object.is_object()) return 0;
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<long long>() : 0;
}

std::string range_query(const PageContext& ctx, std::string_view extra) {
  std::string q;
  const auto add = [&q](std::string_view part) {
    q += q.empty() ? "?" : "&amp;";
    q += part;
  };
  if (!ctx.from.empty()) add("from=" + url_encode(ctx.from));
  if (!ctx.to.empty()) add("to=" + url_encode(ctx.to));
  if (!extra.empty()) add(extra);
  return q;
}

std::string page(const PageContext& ctx, std::string_view title, std::string_view main_html,
                 bool signed_in) {
  std::string h;
  h.reserve(main_html.size() + 2048);
  h += "<!DOCTYPE html>\n<html lang=\"";
  h += lang_code(ctx.lang);
  h += "\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>";
  h += html_escape(title);
  h += " – Tandem</title><link rel=\"stylesheet\" href=\"/assets/tandem.css\"></head><body>";
  h += "<a class=\"skip\" href=\"#main\">" + t(ctx, "nav.skip") + "</a>";
  h += "<header class=\"top\"><p class=\"brand\">" + t(ctx, "app.name") + "</p>";
  h += "<nav aria-label=\"" + t(ctx, "nav.main") + "\"><ul>";
  if (signed_in) {
    h +=
        "<li><a href=\"/overview" + range_query(ctx) + "\">" + t(ctx, "nav.overview") + "</a></li>";
    h += "<li><a href=\"/print" + range_query(ctx) + "\">" + t(ctx, "nav.print") + "</a></li>";
  }
  const Lang other = ctx.lang == Lang::kDa ? Lang::kEn : Lang::kDa;
  h += "<li><a href=\"" + html_escape(ctx.path) +
       range_query(ctx, "lang=" + std::string(lang_code(other))) + "\" lang=\"" +
       std::string(lang_code(other)) + "\" hreflang=\"" + std::string(lang_code(other)) + "\">" +
       t(ctx, "nav.switch") + "</a></li>";
  if (signed_in) {
    h += "<li><form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" "
         "value=\"" +
         html_escape(ctx.csrf) + "\"><button type=\"submit\">" + t(ctx, "nav.logout") +
         "</button></form></li>";
  }
  h += "</ul></nav></header><main id=\"main\" tabindex=\"-1\">";
  h += main_html;
  h += "</main></body></html>\n";
  return h;
}

Bars bars_of(const PageContext& ctx, const Json& counts, bool translate, bool by_value) {
  Bars out;
  if (!counts.is_object()) return out;
  for (auto it = counts.begin(); it != counts.end(); ++it) {
    if (!it.value().is_number()) continue;
    out.emplace_back(translate ? word(ctx, it.key()) : it.key(), it.value().get<double>());
  }
  if (!by_value) return out;
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  return out;
}

std::string counts_table(const PageContext& ctx, std::string_view caption, const Bars& bars) {
  if (bars.empty()) {
    return "<p class=\"empty\"><strong>" + html_escape(caption) + ":</strong> " +
           t(ctx, "chart.empty") + "</p>";
  }
  std::string h = "<table class=\"counts\"><caption>" + html_escape(caption) +
                  "</caption><thead><tr><th scope=\"col\">" + t(ctx, "col.value") +
                  "</th><th scope=\"col\" class=\"num\">" + t(ctx, "col.count") +
                  "</th></tr></thead><tbody>";
  for (const auto& [name, value] : bars) {
    h += "<tr><th scope=\"row\">" + html_escape(name) + "</th><td class=\"num\">" +
         number(ctx, value) + "</td></tr>";
  }
  return h + "</tbody></table>";
}

std::string bar_chart(const PageContext& ctx, std::string_view id, std::string_view title,
                      const Bars& bars, std::string_view value_heading) {
  std::string h = "<figure class=\"chart\" id=\"" + html_escape(id) + "\">";
  if (bars.empty()) {
    return h + "<figcaption>" + html_escape(title) + "</figcaption><p class=\"empty\">" +
           t(ctx, "chart.empty") + "</p></figure>";
  }
  double max = 0;
  for (const auto& b : bars) max = std::max(max, b.second);
  const int height = static_cast<int>(bars.size()) * kRowHeight + 4;
  const std::string title_id = std::string(id) + "-title";
  h += "<svg viewBox=\"0 0 " + std::to_string(kChartWidth) + " " + std::to_string(height) +
       "\" role=\"img\" aria-labelledby=\"" + html_escape(title_id) +
       "\" preserveAspectRatio=\"xMinYMin meet\"><title id=\"" + html_escape(title_id) + "\">" +
       html_escape(title) + "</title>";
  const int bar_room = kChartWidth - kLabelWidth - kValueWidth;
  int y = 2;
  for (const auto& [name, value] : bars) {
    const int w = max > 0 ? static_cast<int>(std::lround(value / max * bar_room)) : 0;
    std::string shown = name;
    if (name.size() > 34) {
      // Cut at a character's start, never inside æ, ø or å.
      std::size_t cut = 32;
      while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
      shown = name.substr(0, cut) + "…";
    }
    h += "<text x=\"" + std::to_string(kLabelWidth - 8) + "\" y=\"" +
         std::to_string(y + kBarHeight - 4) + "\" text-anchor=\"end\">" + html_escape(shown) +
         "</text>";
    h += "<rect x=\"" + std::to_string(kLabelWidth) + "\" y=\"" + std::to_string(y) +
         "\" width=\"" + std::to_string(std::max(w, value > 0 ? 2 : 0)) + "\" height=\"" +
         std::to_string(kBarHeight) + "\"/>";
    h += "<text x=\"" + std::to_string(kLabelWidth + std::max(w, 0) + 6) + "\" y=\"" +
         std::to_string(y + kBarHeight - 4) + "\">" + number(ctx, value) + "</text>";
    y += kRowHeight;
  }
  h += "</svg><figcaption>" + html_escape(title) + "</figcaption>";
  // The figures themselves: what a screen reader reads, and what prints.
  std::string table = "<table class=\"counts\"><caption class=\"visually-hidden\">" +
                      html_escape(title) + "</caption><thead><tr><th scope=\"col\">" +
                      t(ctx, "col.value") + "</th><th scope=\"col\" class=\"num\">" +
                      html_escape(value_heading) + "</th></tr></thead><tbody>";
  for (const auto& [name, value] : bars) {
    table += "<tr><th scope=\"row\">" + html_escape(name) + "</th><td class=\"num\">" +
             number(ctx, value) + "</td></tr>";
  }
  table += "</tbody></table>";
  return h + table + "</figure>";
}

std::string section(std::string_view id, std::string_view heading, std::string_view content) {
  std::string h = "<section aria-labelledby=\"" + std::string(id) + "\"><h2 id=\"" +
                  std::string(id) + "\">" + std::string(heading) + "</h2>";
  h += content;
  return h + "</section>";
}

}  // namespace tandem::server::web::html
