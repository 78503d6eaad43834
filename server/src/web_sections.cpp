// Parts shared by several leader pages (web_html.hpp): the meetings'
// figures, the period form, links to a course.
#include "web_html.hpp"

namespace tandem::server::web::html {

std::string course_link(std::string_view id, std::string_view text) {
  return "<a href=\"/courses/" + url_encode(id) + "\">" + std::string(text) + "</a>";
}

std::string range_form(const PageContext& ctx, const Json& o, std::string_view action) {
  const Json& range = o.contains("range") ? o["range"] : Json::object();
  const std::string from = str(range, "from");
  const std::string to = str(range, "to");
  std::string h = "<p class=\"range\">" + t(ctx, "range.shown") + ": " + html_escape(from) + " – " +
                  html_escape(to) + "</p>";
  h += "<form class=\"range no-print\" method=\"get\" action=\"" + html_escape(action) +
       "\"><fieldset><legend>" + t(ctx, "range.legend") + "</legend>";
  h += "<label for=\"from\">" + t(ctx, "range.from") +
       "</label> <input type=\"date\" id=\"from\" name=\"from\" value=\"" + html_escape(from) +
       "\"> ";
  h += "<label for=\"to\">" + t(ctx, "range.to") +
       "</label> <input type=\"date\" id=\"to\" name=\"to\" value=\"" + html_escape(to) + "\"> ";
  h += "<button type=\"submit\">" + t(ctx, "range.show") + "</button></fieldset></form>";
  return h;
}

std::string meetings(const PageContext& ctx, const Json& o) {
  const Json& m = o.contains("meetings") ? o["meetings"] : Json::object();
  std::string h = "<p class=\"lead-figure\">" + t(ctx, "meetings.total") + ": <strong>" +
                  std::to_string(count(m, "total")) + "</strong></p><div class=\"grid\">";
  h += bar_chart(ctx, "chart-themes", tr(ctx.lang, "meetings.themes"),
                 bars_of(ctx, m.contains("themes") ? m["themes"] : Json(), false),
                 tr(ctx.lang, "col.meetings"));
  h += bar_chart(
      ctx, "chart-needs", tr(ctx.lang, "breakdown.need"),
      bars_of(ctx, o.contains("agenda_items_by_need") ? o["agenda_items_by_need"] : Json(), true),
      tr(ctx.lang, "col.count"));
  h += "</div>";

  const Json& people = m.contains("participation") ? m["participation"] : Json();
  if (people.is_array() && !people.empty()) {
    h += "<table><caption>" + t(ctx, "meetings.participation") +
         "</caption><thead><tr><th scope=\"col\">" + t(ctx, "col.name") +
         "</th><th scope=\"col\">" + t(ctx, "col.role") + "</th><th scope=\"col\">" +
         t(ctx, "col.profession") + "</th><th scope=\"col\" class=\"num\">" +
         t(ctx, "col.meetings") + "</th></tr></thead><tbody>";
    for (const auto& p : people) {
      const std::string profession = str(p, "profession");
      h += "<tr><th scope=\"row\">" + html_escape(str(p, "name")) + "</th><td>" +
           label(ctx, str(p, "role")) + "</td><td>" +
           (profession.empty() ? t(ctx, "none") : html_escape(profession)) +
           "</td><td class=\"num\">" + std::to_string(count(p, "meetings")) + "</td></tr>";
    }
    h += "</tbody></table>";
  }
  h += "<div class=\"grid\">";
  h += counts_table(ctx, tr(ctx.lang, "meetings.by_profession"),
                    bars_of(ctx, m.contains("by_profession") ? m["by_profession"] : Json(), true));
  const Json& f = m.contains("follow_up") ? m["follow_up"] : Json::object();
  h += "<table class=\"counts\"><caption>" + t(ctx, "meetings.follow_up") + "</caption><tbody>";
  for (const auto& [key, word] :
       std::initializer_list<std::pair<const char*, const char*>>{{"actions", "follow.actions"},
                                                                  {"open", "follow.open"},
                                                                  {"overdue", "follow.overdue"},
                                                                  {"done", "follow.done"}}) {
    h += "<tr><th scope=\"row\">" + t(ctx, word) + "</th><td class=\"num\">" +
         std::to_string(count(f, key)) + "</td></tr>";
  }
  return h + "</tbody></table></div>";
}

}  // namespace tandem::server::web::html
