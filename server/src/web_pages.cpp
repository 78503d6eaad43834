// The login form, message pages and one course's page (web.hpp).
#include "web_html.hpp"

namespace tandem::server::web {
namespace {

using html::count;
using html::str;
using html::t;

// A row of the course's facts; `value` is HTML already.
std::string fact(const PageContext& ctx, std::string_view key, const std::string& value) {
  return "<div><dt>" + t(ctx, key) + "</dt><dd>" + (value.empty() ? t(ctx, "none") : value) +
         "</dd></div>";
}

std::string names(const Json& list) {
  std::string out;
  if (!list.is_array()) return out;
  for (const auto& p : list) {
    if (!out.empty()) out += ", ";
    out += html_escape(str(p, "name"));
  }
  return out;
}

// A long text of the data: its line breaks kept (CSS), its markup escaped.
std::string long_text(std::string_view text) {
  return "<div class=\"text\">" + html_escape(text) + "</div>";
}

std::string session_html(const PageContext& ctx, const Json& s, int n) {
  const std::string id = "session-" + std::to_string(n);
  std::string h = "<article class=\"session\" aria-labelledby=\"" + id + "\"><h3 id=\"" + id +
                  "\">" +
                  html_escape(str(s, "started_at").empty() ? str(s, "id") : str(s, "started_at")) +
                  "</h3><dl class=\"facts\">";
  h += fact(ctx, "session.approach",
            str(s, "approach").empty() ? "" : html::label(ctx, str(s, "approach")));
  h += fact(ctx, "session.focus", html_escape(str(s, "focus")));
  h += fact(ctx, "session.observer", html_escape(str(s, "observer_name")));
  h += fact(ctx, "session.template", html_escape(str(s, "template_name")));
  h += fact(ctx, "session.entries", std::to_string(count(s, "entries")));
  h += "</dl>";
  if (!str(s, "log").empty())
    h += "<h4>" + t(ctx, "session.log") + "</h4>" + long_text(str(s, "log"));
  if (s.contains("reflections") && s["reflections"].is_array() && !s["reflections"].empty()) {
    h += "<h4>" + t(ctx, "session.reflections") + "</h4><ul class=\"reflections\">";
    for (const auto& r : s["reflections"]) {
      h += "<li><strong>" + html_escape(str(r, "author_name")) + ":</strong> " +
           long_text(str(r, "text")) + "</li>";
    }
    h += "</ul>";
  }
  return h + "</article>";
}

std::string actions_table(const PageContext& ctx, const Json& actions) {
  if (!actions.is_array() || actions.empty()) return "<p>" + t(ctx, "course.no_actions") + "</p>";
  std::string h = "<table><caption class=\"visually-hidden\">" + t(ctx, "course.actions") +
                  "</caption><thead><tr><th scope=\"col\">" + t(ctx, "col.action") +
                  "</th><th scope=\"col\">" + t(ctx, "col.due") + "</th><th scope=\"col\">" +
                  t(ctx, "col.tovholder") + "</th><th scope=\"col\">" + t(ctx, "col.done") +
                  "</th></tr></thead><tbody>";
  for (const auto& a : actions) {
    const bool done = a.contains("done") && a["done"].is_boolean() && a["done"].get<bool>();
    const bool overdue =
        a.contains("overdue") && a["overdue"].is_boolean() && a["overdue"].get<bool>();
    std::string state = t(ctx, done ? "yes" : "no");
    if (overdue) state += " <strong class=\"overdue\">(" + t(ctx, "overdue") + ")</strong>";
    const std::string who = str(a, "tovholder_name");
    h += "<tr><td>" + html_escape(str(a, "text")) + "</td><td>" +
         (str(a, "due").empty() ? t(ctx, "none") : html_escape(str(a, "due"))) + "</td><td>" +
         (who.empty() ? t(ctx, "none") : html_escape(who)) + "</td><td>" + state + "</td></tr>";
  }
  return h + "</tbody></table>";
}

}  // namespace

std::string render_login(const PageContext& ctx, std::string_view message_key) {
  std::string m = "<h1>" + t(ctx, "login.title") + "</h1>";
  if (!message_key.empty()) {
    // role=alert: read out at once when the form comes back with it.
    m += "<p class=\"message\" role=\"alert\">" + t(ctx, message_key) + "</p>";
  }
  m += "<p>" + t(ctx, "login.intro") + "</p>";
  m += "<form method=\"post\" action=\"/login\" class=\"login\"><label for=\"code\">" +
       t(ctx, "login.code") +
       "</label> <input id=\"code\" name=\"code\" type=\"text\" required "
       "autocomplete=\"one-time-code\" "
       "autocapitalize=\"characters\" spellcheck=\"false\" inputmode=\"text\" maxlength=\"32\" "
       "autofocus> <button type=\"submit\">" +
       t(ctx, "login.submit") + "</button></form>";
  return html::page(ctx, tr(ctx.lang, "login.title"), m, false);
}

std::string render_message(const PageContext& ctx, std::string_view title_key,
                           std::string_view message_key) {
  std::string m = "<h1>" + t(ctx, title_key) + "</h1><p class=\"message\">" + t(ctx, message_key) +
                  "</p><p><a href=\"/overview\">" + t(ctx, "course.back") + "</a></p>";
  return html::page(ctx, tr(ctx.lang, title_key), m, !ctx.csrf.empty());
}

std::string render_course(const Json& detail, const PageContext& ctx) {
  const Json& c = detail.contains("course") ? detail["course"] : Json::object();
  const std::string title = std::string(tr(ctx.lang, "course.title")) + ": " + str(c, "title");
  std::string m = "<p class=\"back no-print\"><a href=\"/overview" + html::range_query(ctx) +
                  "\">" + t(ctx, "course.back") + "</a></p><h1>" + html_escape(title) + "</h1>";
  std::string facts = "<dl class=\"facts\">";
  for (const auto& [field, key] :
       std::initializer_list<std::pair<const char*, const char*>>{{"kind", "course.kind"},
                                                                  {"target", "course.target"},
                                                                  {"horizon", "course.horizon"},
                                                                  {"character", "course.character"},
                                                                  {"status", "course.status"}}) {
    facts += fact(ctx, key, str(c, field).empty() ? "" : html::label(ctx, str(c, field)));
  }
  std::string areas;
  if (c.contains("focus_areas") && c["focus_areas"].is_array()) {
    for (const auto& a : c["focus_areas"]) {
      if (!a.is_string()) continue;
      if (!areas.empty()) areas += ", ";
      areas += html::label(ctx, a.get<std::string>());
    }
  }
  facts += fact(ctx, "course.focus_areas", areas);
  std::string dates = html_escape(str(c, "start_date"));
  if (!str(c, "end_date").empty()) dates += " – " + html_escape(str(c, "end_date"));
  facts += fact(ctx, "course.dates", dates);
  facts += fact(ctx, "course.tovholder", html_escape(str(c, "tovholder_name")));
  facts += fact(ctx, "course.participants",
                names(c.contains("participants") ? c["participants"] : Json()));
  facts += fact(ctx, "course.groups", names(c.contains("groups") ? c["groups"] : Json()));
  facts += fact(
      ctx, "course.environment_changed",
      str(c, "environment_changed").empty() ? "" : html::label(ctx, str(c, "environment_changed")));
  facts += "</dl>";
  if (!str(c, "evaluation").empty())
    facts += "<h3>" + t(ctx, "course.evaluation") + "</h3>" + long_text(str(c, "evaluation"));
  m += html::section("facts", t(ctx, "course.facts"), facts);

  const Json& a = detail.contains("agreement") ? detail["agreement"] : Json::object();
  std::string agreement;
  for (const auto& [field, key] : std::initializer_list<std::pair<const char*, const char*>>{
           {"goals", "course.goals"}, {"frame", "course.frame"}, {"roles", "course.roles"}}) {
    agreement +=
        "<h3>" + t(ctx, key) + "</h3>" +
        (str(a, field).empty() ? "<p>" + t(ctx, "none") + "</p>" : long_text(str(a, field)));
  }
  m += html::section("agreement", t(ctx, "course.agreement"), agreement);

  std::string sessions;
  const Json& list = detail.contains("sessions") ? detail["sessions"] : Json();
  if (!list.is_array() || list.empty()) {
    sessions = "<p>" + t(ctx, "course.no_sessions") + "</p>";
  } else {
    int n = 0;
    for (const auto& s : list) sessions += session_html(ctx, s, n++);
  }
  m += html::section("sessions", t(ctx, "course.sessions"), sessions);
  m += html::section("actions", t(ctx, "course.actions"),
                     actions_table(ctx, detail.contains("actions") ? detail["actions"] : Json()));
  return html::page(ctx, title, m, true);
}

}  // namespace tandem::server::web
