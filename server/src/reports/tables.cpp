// The school's view: one course in full, and the tables of the page as
// exported (CSV/JSON). docs/reports.md lists their columns.
#include <algorithm>
#include <map>

#include "compute.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/core/session_summary.hpp"

namespace tandem::server {
namespace {

const std::vector<const Record*>& under(const std::unordered_map<std::string, std::vector<const Record*>>& m,
                                        const std::string& id) {
  static const std::vector<const Record*> kNone;
  const auto it = m.find(id);
  return it == m.end() ? kNone : it->second;
}

// Names of the referenced records, joined for one cell.
std::string names(const SchoolData& data, const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) {
    std::string n = data.name_of(id);
    if (!out.empty()) out += ", ";
    out += n.empty() ? id : n;
  }
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

Json people_json(const SchoolData& data, const std::vector<std::string>& ids) {
  Json out = Json::array();
  for (const auto& id : ids) out.push_back({{"id", id}, {"name", data.name_of(id)}});
  return out;
}

Json action_json(const SchoolData& data, const Record& a, std::string_view today) {
  Json j = {{"id", a.id},
            {"text", str(a, "text")},
            {"due", str(a, "due")},
            {"done", flag(a, "done")},
            {"done_on", done_day(a)},
            {"overdue", action_overdue(a, today)},
            {"tovholder", str(a, "tovholder")},
            {"tovholder_name", data.name_of(str(a, "tovholder"))}};
  j.update(action_source(data, a));
  return j;
}

}  // namespace

std::vector<std::string> child_records_of_course(const SchoolData& data, std::string_view course) {
  std::vector<std::string> out;
  for (const Record* s : under(data.sessions_of_course, std::string(course))) {
    for (const Record* e : under(data.entries_of_session, s->id)) {
      if (!child_named(*e).empty()) out.push_back(e->id);
    }
  }
  return out;
}

Json compute_course(const SchoolData& data, std::string_view id, std::string_view today) {
  const Record* c = data.get(id, "course");
  if (!c) return nullptr;
  Json course = {{"id", c->id},
                 {"kind", str(*c, "kind")},
                 {"title", str(*c, "title")},
                 {"target", str(*c, "target")},
                 {"horizon", str(*c, "horizon")},
                 {"character", str(*c, "character")},
                 {"focus_areas", set_of(*c, "focus_areas")},
                 {"status", str(*c, "status")},
                 {"start_date", str(*c, "start_date")},
                 {"end_date", str(*c, "end_date")},
                 {"tovholder", str(*c, "tovholder")},
                 {"tovholder_name", data.name_of(str(*c, "tovholder"))},
                 {"participants", people_json(data, set_of(*c, "participants"))},
                 {"groups", people_json(data, set_of(*c, "groups"))},
                 {"children", set_of(*c, "children").size()},
                 {"environment_changed", str(*c, "environment_changed")},
                 {"evaluation", str(*c, "evaluation")}};
  Json sessions = Json::array();
  std::vector<const Record*> sorted = under(data.sessions_of_course, c->id);
  std::stable_sort(sorted.begin(), sorted.end(), [&](const Record* a, const Record* b) {
    return iso_time(*a, "started_at") < iso_time(*b, "started_at");
  });
  Json actions = Json::array();
  for (const Record* a : under(data.actions_of_source, c->id)) actions.push_back(action_json(data, *a, today));
  for (const Record* s : sorted) {
    Json reflections = Json::array();
    for (const Record* r : under(data.reflections_of_session, s->id)) {
      reflections.push_back(
          {{"author", str(*r, "author")}, {"author_name", data.name_of(str(*r, "author"))}, {"text", str(*r, "text")}});
    }
    const std::string tmpl = str(*s, "template");
    sessions.push_back({{"id", s->id},
                        {"started_at", iso_time(*s, "started_at")},
                        {"ended_at", iso_time(*s, "ended_at")},
                        {"approach", str(*s, "approach")},
                        {"focus", str(*s, "focus")},
                        {"observer", str(*s, "observer")},
                        {"observer_name", data.name_of(str(*s, "observer"))},
                        {"template", tmpl},
                        {"template_name", template_info(data.get(tmpl, "template"), tmpl).name},
                        {"log", str(*s, "log")},
                        {"reflections", std::move(reflections)},
                        {"entries", under(data.entries_of_session, s->id).size()}});
    for (const Record* a : under(data.actions_of_source, s->id)) actions.push_back(action_json(data, *a, today));
  }
  return {{"course", std::move(course)},
          {"agreement", {{"goals", str(*c, "goals")}, {"frame", str(*c, "frame")}, {"roles", str(*c, "roles")}}},
          {"sessions", std::move(sessions)},
          {"actions", std::move(actions)}};
}

const std::vector<std::string>& report_table_names() {
  static const std::vector<std::string> kNames = {"courses",      "sessions",     "actions", "meetings",
                                                  "agenda_items", "observations", "workload"};
  return kNames;
}

Result<Table> compute_table(const SchoolData& data, std::string_view name, const DateRange& range,
                            std::string_view today) {
  Table t;
  t.name = std::string(name);
  auto course_title = [&](const std::string& id) {
    const Record* c = data.get(id, "course");
    return c ? str(*c, "title") : std::string();
  };
  if (name == "courses") {
    t.columns = {"id",         "title",    "kind",       "target",         "horizon",     "character",
                 "focus_areas", "status",  "start_date", "end_date",       "tovholder",   "tovholder_name",
                 "participants", "groups", "sessions",   "environment_changed"};
    for (const Record* c : data.courses) {
      if (!in_range(day_of(data, *c), range)) continue;
      t.rows.push_back({c->id, str(*c, "title"), str(*c, "kind"), str(*c, "target"), str(*c, "horizon"),
                        str(*c, "character"), joined(set_of(*c, "focus_areas")), str(*c, "status"),
                        str(*c, "start_date"), str(*c, "end_date"), str(*c, "tovholder"),
                        data.name_of(str(*c, "tovholder")), names(data, set_of(*c, "participants")),
                        names(data, set_of(*c, "groups")), under(data.sessions_of_course, c->id).size(),
                        str(*c, "environment_changed")});
    }
  } else if (name == "sessions") {
    t.columns = {"id",       "course",        "course_title", "date",          "started_at", "ended_at",
                 "approach", "focus",         "observer",     "observer_name", "template",   "entries",
                 "reflections"};
    for (const Record* s : data.sessions) {
      const std::string day = day_of(data, *s);
      if (!in_range(day, range)) continue;
      t.rows.push_back({s->id, str(*s, "course"), course_title(str(*s, "course")), day, iso_time(*s, "started_at"),
                        iso_time(*s, "ended_at"), str(*s, "approach"), str(*s, "focus"), str(*s, "observer"),
                        data.name_of(str(*s, "observer")), str(*s, "template"),
                        under(data.entries_of_session, s->id).size(),
                        under(data.reflections_of_session, s->id).size()});
    }
  } else if (name == "actions") {
    t.columns = {"id",        "text",           "due",    "done",        "done_on",     "overdue",
                 "tovholder", "tovholder_name", "source", "source_kind", "source_title"};
    // Earliest due first (none last), then by id: a stable order for people and scripts.
    std::vector<const Record*> actions = data.actions;
    std::stable_sort(actions.begin(), actions.end(), [](const Record* x, const Record* y) {
      const std::string dx = str(*x, "due"), dy = str(*y, "due");
      return (dx.empty() ? "9999" : dx) < (dy.empty() ? "9999" : dy);
    });
    for (const Record* a : actions) {
      if (!in_range(day_of(data, *a), range)) continue;
      const Json j = action_json(data, *a, today);
      std::vector<Json> row;
      for (const auto& col : t.columns) row.push_back(j.at(col));
      t.rows.push_back(std::move(row));
    }
  } else if (name == "meetings") {
    t.columns = {"id", "date", "title", "participants", "themes", "agenda_items", "actions", "open_actions"};
    for (const Record* m : data.meetings) {
      if (!in_range(day_of(data, *m), range)) continue;
      std::int64_t actions = 0, open = 0;
      auto add = [&](const std::string& source) {
        for (const Record* a : under(data.actions_of_source, source)) {
          ++actions;
          if (!flag(*a, "done")) ++open;
        }
      };
      add(m->id);
      for (const Record* i : under(data.items_of_meeting, m->id)) add(i->id);
      t.rows.push_back({m->id, str(*m, "date"), str(*m, "title"), names(data, set_of(*m, "participants")),
                        joined(set_of(*m, "themes")), under(data.items_of_meeting, m->id).size(), actions, open});
    }
  } else if (name == "agenda_items") {
    // No child: which child an item concerns stays in the notebooks.
    t.columns = {"id", "meeting", "meeting_date", "position", "need", "title", "concerns_a_child"};
    for (const Record* i : data.items) {
      const Record* m = data.get(str(*i, "meeting"), "meeting");
      if (!m || !in_range(day_of(data, *m), range)) continue;
      const auto pos = i->fields.find("position");
      t.rows.push_back({i->id, m->id, str(*m, "date"),
                        pos != i->fields.end() && pos->is_number_integer() ? *pos : Json(nullptr), str(*i, "need"),
                        str(*i, "title"), !str(*i, "child").empty()});
    }
  } else if (name == "observations") {
    // One row per code of every summarised session: the profile's raw data.
    t.columns = {"session", "date", "course", "course_title", "template", "template_name", "observer_name",
                 "intervals", "code", "group", "intervals_with_code", "percent_of_intervals"};
    for (const Record* s : data.sessions) {
      const std::string day = day_of(data, *s);
      const std::string tmpl_id = str(*s, "template");
      const auto& entries = under(data.entries_of_session, s->id);
      if (!in_range(day, range) || tmpl_id.empty() || entries.empty()) continue;
      const TemplateInfo tmpl = template_info(data.get(tmpl_id, "template"), tmpl_id);
      auto sum = summarize_session(*s, entries, tmpl);
      if (!sum || !sum->intervals) continue;
      for (const auto& c : sum->intervals->codes) {
        t.rows.push_back({s->id, day, str(*s, "course"), course_title(str(*s, "course")), tmpl_id, tmpl.name,
                          data.name_of(str(*s, "observer")), sum->intervals->interval_count, c.code, c.group,
                          c.intervals, c.percent_of_intervals});
      }
    }
  } else if (name == "workload") {
    t.columns = {"person",    "name",        "role",        "profession", "courses", "tovholder",
                 "participant", "sessions", "observations", "meetings"};
    const Json overview = compute_overview(data, range, today);
    for (const auto& [id, w] : overview.at("workload_by_person").items()) {
      t.rows.push_back({id, w.at("name"), w.at("role"), w.at("profession"), w.at("courses"), w.at("tovholder"),
                        w.at("participant"), w.at("sessions"), w.at("observations"), w.at("meetings")});
    }
  } else {
    return make_error(ErrorCode::kNotFound, "no such table");
  }
  return t;
}

Json Table::to_json() const {
  Json rows_json = Json::array();
  for (const auto& row : rows) {
    Json r = Json::object();
    for (std::size_t i = 0; i < columns.size() && i < row.size(); ++i) r[columns[i]] = row[i];
    rows_json.push_back(std::move(r));
  }
  return {{"table", name}, {"columns", columns}, {"rows", std::move(rows_json)}};
}

}  // namespace tandem::server
