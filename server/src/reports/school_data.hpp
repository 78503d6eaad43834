// One school's merged records in memory, indexed the ways the reports read
// them (reports.hpp). Built and refreshed by Reports from
// ServerStorage::school_records.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tandem/core/store.hpp"
#include "tandem/server/storage.hpp"

namespace tandem::server {

struct SchoolData {
  std::string school;
  std::int64_t seq = 0;  // the school's sequence number the records are up to
  std::unordered_map<std::string, Record> records;  // live records only

  // Rebuilt by index() after every refresh; sorted by id.
  std::vector<const Record*> courses, sessions, entries, reflections, actions, meetings, items, persons,
      groups, templates;
  std::unordered_map<std::string, std::vector<const Record*>> sessions_of_course, entries_of_session,
      reflections_of_session, items_of_meeting, actions_of_source;

  // Applies a snapshot (all records, or those changed since `seq`): a few
  // changes update the indexes in place, many rebuild them.
  void apply(SchoolSnapshot&& snapshot);
  void index();
  // The live record `id` of `kind` ("" any), nullptr when none.
  const Record* get(std::string_view id, std::string_view kind = "") const;
  // A person's (or group's, template's) name, "" when unknown.
  std::string name_of(std::string_view id) const;

 private:
  std::vector<const Record*>* list_of(std::string_view kind);
  std::pair<std::unordered_map<std::string, std::vector<const Record*>>*, const char*> parent_index(
      std::string_view kind);
  void index_one(const Record* r, bool keep_sorted);
  void unindex_one(const Record* r);
  bool indexed_ = false;
};

// ---- reading merged fields (absent or of another type: empty) ----
std::string str(const Record& r, const char* field);
std::vector<std::string> set_of(const Record& r, const char* field);
bool flag(const Record& r, const char* field);

// The Danish date a record counts on in a date range (reports.md):
// course: start_date, else the day it was created; session: started_at, else
// its course's; meeting: date; action: due, else the day it was created.
// "" when it has none.
std::string day_of(const SchoolData& data, const Record& r);
// The Danish date of an hlc stamp ("" when it does not parse).
std::string stamp_day(std::string_view hlc);
// ISO 8601 UTC of a datetime field ("" when absent or invalid).
std::string iso_time(const Record& r, const char* field);

}  // namespace tandem::server
