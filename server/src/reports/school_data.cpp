#include "school_data.hpp"

#include <algorithm>

#include "tandem/core/hlc.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/core/session_summary.hpp"

namespace tandem::server {

namespace {

// A refresh with at most this many changed records updates the indexes in
// place (O(changes)); more rebuild them (O(records)).
constexpr std::size_t kIncrementalLimit = 2000;

}  // namespace

std::vector<const Record*>* SchoolData::list_of(std::string_view kind) {
  if (kind == "course") return &courses;
  if (kind == "session") return &sessions;
  if (kind == "entry") return &entries;
  if (kind == "reflection") return &reflections;
  if (kind == "action") return &actions;
  if (kind == "meeting") return &meetings;
  if (kind == "agenda_item") return &items;
  if (kind == "person") return &persons;
  if (kind == "group") return &groups;
  if (kind == "template") return &templates;
  return nullptr;
}

// The index a record is listed in under its parent, and the parent's field.
std::pair<std::unordered_map<std::string, std::vector<const Record*>>*, const char*> SchoolData::parent_index(
    std::string_view kind) {
  if (kind == "session") return {&sessions_of_course, "course"};
  if (kind == "entry") return {&entries_of_session, "session"};
  if (kind == "reflection") return {&reflections_of_session, "session"};
  if (kind == "agenda_item") return {&items_of_meeting, "meeting"};
  if (kind == "action") return {&actions_of_source, "source"};
  return {nullptr, nullptr};
}

void SchoolData::index_one(const Record* r, bool keep_sorted) {
  if (auto* list = list_of(r->kind)) {
    if (keep_sorted) {
      list->insert(std::lower_bound(list->begin(), list->end(), r,
                                    [](const Record* a, const Record* b) { return a->id < b->id; }),
                   r);
    } else {
      list->push_back(r);
    }
  }
  if (auto [map, field] = parent_index(r->kind); map) (*map)[str(*r, field)].push_back(r);
}

void SchoolData::unindex_one(const Record* r) {
  if (auto* list = list_of(r->kind)) list->erase(std::remove(list->begin(), list->end(), r), list->end());
  if (auto [map, field] = parent_index(r->kind); map) {
    if (auto it = map->find(str(*r, field)); it != map->end()) {
      auto& v = it->second;
      v.erase(std::remove(v.begin(), v.end(), r), v.end());
      if (v.empty()) map->erase(it);
    }
  }
}

void SchoolData::apply(SchoolSnapshot&& snapshot) {
  seq = std::max(seq, snapshot.seq);
  const bool incremental = indexed_ && snapshot.records.size() <= kIncrementalLimit;
  for (auto& r : snapshot.records) {
    auto it = records.find(r.id);
    // A record's node (and so its address) stays while it is live: its old
    // entries are taken out of the indexes before its fields change.
    if (incremental && it != records.end()) unindex_one(&it->second);
    if (!r.live()) {
      if (it != records.end()) records.erase(it);
      continue;
    }
    if (it != records.end()) {
      it->second = std::move(r);
    } else {
      std::string id = r.id;
      it = records.emplace(std::move(id), std::move(r)).first;
    }
    if (incremental) index_one(&it->second, true);
  }
  if (!incremental) index();
}

void SchoolData::index() {
  for (auto* v : {&courses, &sessions, &entries, &reflections, &actions, &meetings, &items, &persons, &groups,
                  &templates})
    v->clear();
  for (auto* m : {&sessions_of_course, &entries_of_session, &reflections_of_session, &items_of_meeting,
                  &actions_of_source})
    m->clear();
  for (const auto& [id, r] : records) index_one(&r, false);
  const auto by_id = [](const Record* a, const Record* b) { return a->id < b->id; };
  for (auto* v : {&courses, &sessions, &entries, &reflections, &actions, &meetings, &items, &persons, &groups,
                  &templates})
    std::sort(v->begin(), v->end(), by_id);
  indexed_ = true;
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
