#include "school_data.hpp"

#include <algorithm>

#include "tandem/core/hlc.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/core/session_summary.hpp"

namespace tandem::server {

void SchoolData::apply(SchoolSnapshot&& snapshot) {
  for (auto& r : snapshot.records) {
    if (r.live()) {
      std::string id = r.id;
      records.insert_or_assign(std::move(id), std::move(r));
    } else {
      records.erase(r.id);
    }
  }
  seq = std::max(seq, snapshot.seq);
  index();
}

void SchoolData::index() {
  for (auto* v : {&courses, &sessions, &entries, &reflections, &actions, &meetings, &items, &persons, &groups,
                  &templates})
    v->clear();
  for (auto* m : {&sessions_of_course, &entries_of_session, &reflections_of_session, &items_of_meeting,
                  &actions_of_source})
    m->clear();
  for (const auto& [id, r] : records) {
    const std::string& k = r.kind;
    if (k == "course") {
      courses.push_back(&r);
    } else if (k == "session") {
      sessions.push_back(&r);
    } else if (k == "entry") {
      entries.push_back(&r);
    } else if (k == "reflection") {
      reflections.push_back(&r);
    } else if (k == "action") {
      actions.push_back(&r);
    } else if (k == "meeting") {
      meetings.push_back(&r);
    } else if (k == "agenda_item") {
      items.push_back(&r);
    } else if (k == "person") {
      persons.push_back(&r);
    } else if (k == "group") {
      groups.push_back(&r);
    } else if (k == "template") {
      templates.push_back(&r);
    }
  }
  const auto by_id = [](const Record* a, const Record* b) { return a->id < b->id; };
  for (auto* v : {&courses, &sessions, &entries, &reflections, &actions, &meetings, &items, &persons, &groups,
                  &templates})
    std::sort(v->begin(), v->end(), by_id);
  for (const Record* s : sessions) sessions_of_course[str(*s, "course")].push_back(s);
  for (const Record* e : entries) entries_of_session[str(*e, "session")].push_back(e);
  for (const Record* r : reflections) reflections_of_session[str(*r, "session")].push_back(r);
  for (const Record* i : items) items_of_meeting[str(*i, "meeting")].push_back(i);
  for (const Record* a : actions) actions_of_source[str(*a, "source")].push_back(a);
}

const Record* SchoolData::get(std::string_view id, std::string_view kind) const {
  if (id.empty()) return nullptr;
  const auto it = records.find(std::string(id));
  if (it == records.end() || (!kind.empty() && it->second.kind != kind)) return nullptr;
  return &it->second;
}

std::string SchoolData::name_of(std::string_view id) const {
  const Record* r = get(id);
  return r ? str(*r, "name") : std::string();
}

std::string str(const Record& r, const char* field) { return string_field(r.fields, field); }

std::vector<std::string> set_of(const Record& r, const char* field) {
  std::vector<std::string> out;
  const auto it = r.fields.find(field);
  if (it == r.fields.end() || !it->is_array()) return out;
  for (const auto& e : *it) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

bool flag(const Record& r, const char* field) {
  const auto it = r.fields.find(field);
  return it != r.fields.end() && it->is_boolean() && it->get<bool>();
}

std::string stamp_day(std::string_view hlc) {
  auto h = Hlc::parse(hlc);
  return h ? copenhagen_date(h->ms) : std::string();
}

std::string iso_time(const Record& r, const char* field) {
  const auto ms = time_field(r.fields, field);
  return ms ? format_datetime_ms(*ms) : std::string();
}

std::string day_of(const SchoolData& data, const Record& r) {
  const auto date = [&](const char* field) {
    std::string d = str(r, field);
    return is_valid_date(d) ? d : std::string();
  };
  if (r.kind == "course") {
    std::string d = date("start_date");
    return d.empty() ? stamp_day(r.created) : d;
  }
  if (r.kind == "session") {
    if (const auto ms = time_field(r.fields, "started_at")) return copenhagen_date(*ms);
    const Record* course = data.get(str(r, "course"), "course");
    return course ? day_of(data, *course) : std::string();
  }
  if (r.kind == "meeting") return date("date");
  if (r.kind == "action") {
    std::string d = date("due");
    return d.empty() ? stamp_day(r.created) : d;
  }
  return stamp_day(r.created);
}

}  // namespace tandem::server
