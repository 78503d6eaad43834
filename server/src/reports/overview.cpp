// The overview of the school's view (docs/reports.md defines every figure).
#include <algorithm>
#include <map>
#include <set>

#include "compute.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/core/session_summary.hpp"
#include "tandem/server/limits.hpp"

namespace tandem::server {
namespace {

void count(Json& obj, const std::string& key) {
  if (key.empty()) return;
  auto it = obj.find(key);
  if (it == obj.end()) {
    obj[key] = 1;
  } else {
    *it = it->get<std::int64_t>() + 1;
  }
}

std::string or_none(const std::string& s) { return s.empty() ? std::string("none") : s; }

}  // namespace

bool action_overdue(const Record& a, std::string_view today) {
  const std::string due = str(a, "due");
  return !flag(a, "done") && is_valid_date(due) && due < today;
}

std::string done_day(const Record& a) {
  if (!flag(a, "done")) return {};
  const auto it = a.stamps.find("done");
  return it == a.stamps.end() ? std::string() : stamp_day(it->second);
}

Json action_source(const SchoolData& data, const Record& a) {
  const std::string source = str(a, "source");
  Json out = {{"source", source}, {"source_kind", ""}, {"source_title", ""}};
  const Record* s = data.get(source);
  if (!s) return out;
  out["source_kind"] = s->kind;
  std::string title = str(*s, "title");
  if (s->kind == "session") {
    if (const Record* c = data.get(str(*s, "course"), "course")) title = str(*c, "title");
  } else if (s->kind == "agenda_item") {
    if (title.empty()) title = str(*s, "need");
  } else if (s->kind == "meeting" && title.empty()) {
    title = str(*s, "date");
  }
  out["source_title"] = title;
  return out;
}

std::string child_named(const Record& r) {
  if (r.kind == "child") return r.id;
  if (r.kind == "entry" || r.kind == "agenda_item" || r.kind == "consent") return str(r, "child");
  return {};
}

Json compute_overview(const SchoolData& data, const DateRange& range, std::string_view today) {
  Json o = Json::object();
  const Record* school = data.get(data.school, "school");
  o["school"] = {{"id", data.school}, {"name", school ? str(*school, "name") : std::string()}};
  o["range"] = {{"from", range.from}, {"to", range.to}};
  o["today"] = std::string(today);

  // Focus areas: the municipality's four, then the school's own.
  Json areas = Json::array();
  std::set<std::string> seen;
  for (const auto& a : builtin_focus_areas()) {
    if (seen.insert(a).second) areas.push_back(a);
  }
  if (school) {
    for (const auto& a : set_of(*school, "focus_areas")) {
      if (seen.insert(a).second) areas.push_back(a);
    }
  }
  o["focus_areas"] = std::move(areas);

  // ---- courses ----
  Json by_kind = Json::object(), by_target = Json::object(), by_horizon = Json::object(),
       by_character = Json::object(), by_focus = Json::object(), by_status = Json::object(),
       by_group = Json::object(), by_month = Json::object(), by_eval = Json::object();
  std::set<std::string> courses_in_range;
  struct Work {
    std::int64_t courses = 0, tovholder = 0, participant = 0, sessions = 0, observations = 0, meetings = 0;
  };
  std::map<std::string, Work> work;
  for (const Record* p : data.persons) work[p->id];
  for (const Record* c : data.courses) {
    const std::string day = day_of(data, *c);
    if (!in_range(day, range)) continue;
    courses_in_range.insert(c->id);
    count(by_kind, str(*c, "kind"));
    count(by_target, str(*c, "target"));
    count(by_horizon, str(*c, "horizon"));
    count(by_character, str(*c, "character"));
    for (const auto& a : set_of(*c, "focus_areas")) count(by_focus, a);
    count(by_status, str(*c, "status"));
    for (const auto& g : set_of(*c, "groups")) {
      std::string name = data.name_of(g);
      count(by_group, name.empty() ? g : name);
    }
    count(by_month, day.substr(0, 7));
    count(by_eval, or_none(str(*c, "environment_changed")));
    const std::string tov = str(*c, "tovholder");
    std::set<std::string> people;
    if (!tov.empty()) {
      people.insert(tov);
      if (auto it = work.find(tov); it != work.end()) ++it->second.tovholder;
    }
    for (const auto& p : set_of(*c, "participants")) {
      people.insert(p);
      if (auto it = work.find(p); it != work.end()) ++it->second.participant;
    }
    for (const auto& p : people) {
      if (auto it = work.find(p); it != work.end()) ++it->second.courses;
    }
  }
  o["courses_total"] = courses_in_range.size();
  o["courses_by_kind"] = std::move(by_kind);
  o["courses_by_target"] = std::move(by_target);
  o["courses_by_horizon"] = std::move(by_horizon);
  o["courses_by_character"] = std::move(by_character);
  o["courses_by_focus_area"] = std::move(by_focus);
  o["courses_by_status"] = std::move(by_status);
  o["courses_by_group"] = std::move(by_group);
  o["courses_by_month"] = std::move(by_month);
  o["courses_by_evaluation"] = std::move(by_eval);

  // ---- sessions, observations ----
  Json by_approach = Json::object();
  std::int64_t sessions_total = 0;
  struct Profile {
    std::string name;
    std::vector<summary::IntervalSummary> summaries;
  };
  std::map<std::string, Profile> profiles;
  for (const Record* s : data.sessions) {
    if (!in_range(day_of(data, *s), range)) continue;
    ++sessions_total;
    count(by_approach, str(*s, "approach"));
    // Whose session: the course's people and the observer, each once.
    std::set<std::string> people;
    if (const Record* c = data.get(str(*s, "course"), "course")) {
      if (auto t = str(*c, "tovholder"); !t.empty()) people.insert(t);
      for (const auto& p : set_of(*c, "participants")) people.insert(p);
    }
    const std::string observer = str(*s, "observer");
    const auto found = data.entries_of_session.find(s->id);
    const std::vector<const Record*> none;
    const auto& entries = found == data.entries_of_session.end() ? none : found->second;
    std::set<std::string> observers;
    if (!observer.empty()) {
      observers.insert(observer);
    } else {
      for (const Record* e : entries) {
        if (auto a = str(*e, "author"); !a.empty()) observers.insert(a);
      }
    }
    for (const auto& p : observers) people.insert(p);
    for (const auto& p : people) {
      if (auto it = work.find(p); it != work.end()) ++it->second.sessions;
    }
    const std::string tmpl_id = str(*s, "template");
    if (!entries.empty()) {
      for (const auto& p : observers) {
        if (auto it = work.find(p); it != work.end()) ++it->second.observations;
      }
    }
    if (tmpl_id.empty() || entries.empty()) continue;
    const TemplateInfo tmpl = template_info(data.get(tmpl_id, "template"), tmpl_id);
    auto summary = summarize_session(*s, entries, tmpl);
    if (!summary || !summary->intervals) continue;
    auto& profile = profiles[tmpl_id];
    profile.name = tmpl.name;
    profile.summaries.push_back(std::move(*summary->intervals));
  }
  o["sessions_total"] = sessions_total;
  o["sessions_by_approach"] = std::move(by_approach);
  Json profs = Json::array();
  for (const auto& [id, p] : profiles) {
    const summary::MeanSummary mean = summary::mean_summary(p.summaries);
    Json codes = Json::array(), cats = Json::array();
    for (const auto& c : mean.codes)
      codes.push_back({{"code", c.code}, {"group", c.group}, {"mean_percent", c.mean_percent_of_intervals}});
    for (const auto& c : mean.categories)
      cats.push_back({{"name", c.name}, {"group", c.group}, {"mean_percent", c.mean_percent_of_intervals}});
    profs.push_back({{"template", id},
                     {"template_name", p.name},
                     {"sessions", mean.observations_with_intervals},
                     {"codes", std::move(codes)},
                     {"categories", std::move(cats)}});
  }
  o["observation_profiles"] = std::move(profs);

  // ---- actions ----
  std::int64_t a_total = 0, a_open = 0, a_overdue = 0, a_done = 0, a_on_time = 0;
  std::vector<const Record*> overdue;
  for (const Record* a : data.actions) {
    if (!in_range(day_of(data, *a), range)) continue;
    ++a_total;
    if (flag(*a, "done")) {
      ++a_done;
      const std::string due = str(*a, "due"), done = done_day(*a);
      if (is_valid_date(due) && !done.empty() && done <= due) ++a_on_time;
    } else {
      ++a_open;
      if (action_overdue(*a, today)) {
        ++a_overdue;
        overdue.push_back(a);
      }
    }
  }
  std::stable_sort(overdue.begin(), overdue.end(),
                   [](const Record* x, const Record* y) { return str(*x, "due") < str(*y, "due"); });
  Json list = Json::array();
  for (const Record* a : overdue) {
    if (list.size() >= kMaxReportListRows) break;
    Json row = {{"id", a->id},
                {"text", str(*a, "text")},
                {"due", str(*a, "due")},
                {"tovholder", str(*a, "tovholder")},
                {"tovholder_name", data.name_of(str(*a, "tovholder"))}};
    row.update(action_source(data, *a));
    list.push_back(std::move(row));
  }
  o["actions"] = {{"total", a_total}, {"open", a_open},           {"overdue", a_overdue},
                  {"done", a_done},   {"done_on_time", a_on_time}, {"overdue_list", std::move(list)}};

  // ---- resource-team meetings ----
  Json by_need = Json::object(), themes = Json::object(), by_profession = Json::object();
  std::int64_t meetings_total = 0;
  std::map<std::string, std::int64_t> attended;
  std::int64_t f_actions = 0, f_open = 0, f_overdue = 0, f_done = 0;
  const auto follow = [&](const std::string& source) {
    const auto it = data.actions_of_source.find(source);
    if (it == data.actions_of_source.end()) return;
    for (const Record* a : it->second) {
      ++f_actions;
      if (flag(*a, "done")) {
        ++f_done;
      } else {
        ++f_open;
        if (action_overdue(*a, today)) ++f_overdue;
      }
    }
  };
  for (const Record* m : data.meetings) {
    if (!in_range(day_of(data, *m), range)) continue;
    ++meetings_total;
    for (const auto& t : set_of(*m, "themes")) count(themes, t);
    for (const auto& p : set_of(*m, "participants")) {
      ++attended[p];
      if (auto it = work.find(p); it != work.end()) ++it->second.meetings;
    }
    follow(m->id);
    if (auto it = data.items_of_meeting.find(m->id); it != data.items_of_meeting.end()) {
      for (const Record* i : it->second) {
        count(by_need, str(*i, "need"));
        follow(i->id);
      }
    }
  }
  Json participation = Json::array();
  for (const auto& [p, n] : attended) {
    const Record* person = data.get(p, "person");
    const std::string role = person ? str(*person, "role") : std::string();
    const std::string profession = person ? str(*person, "profession") : std::string();
    participation.push_back({{"person", p},
                             {"name", person ? str(*person, "name") : std::string()},
                             {"role", role},
                             {"profession", profession},
                             {"meetings", n}});
    by_profession[profession.empty() ? or_none(role) : profession] =
        by_profession.value(profession.empty() ? or_none(role) : profession, std::int64_t{0}) + n;
  }
  o["agenda_items_by_need"] = by_need;
  o["meetings"] = {{"total", meetings_total},
                   {"themes", std::move(themes)},
                   {"participation", std::move(participation)},
                   {"by_profession", std::move(by_profession)},
                   {"follow_up", {{"actions", f_actions}, {"open", f_open}, {"overdue", f_overdue}, {"done", f_done}}}};

  // ---- workload ----
  Json wl = Json::object();
  for (const auto& [id, w] : work) {
    const Record* p = data.get(id, "person");
    if (!p) continue;
    wl[id] = {{"name", str(*p, "name")},
              {"role", str(*p, "role")},
              {"profession", str(*p, "profession")},
              {"courses", w.courses},
              {"tovholder", w.tovholder},
              {"participant", w.participant},
              {"sessions", w.sessions},
              {"observations", w.observations},
              {"meetings", w.meetings}};
  }
  o["workload_by_person"] = std::move(wl);
  return o;
}

}  // namespace tandem::server
