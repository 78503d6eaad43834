// The figures of the school's view as pure functions of a SchoolData
// (definitions: docs/reports.md). Reports (reports.hpp) loads, authorises
// and audits; these only compute.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "school_data.hpp"
#include "tandem/core/json.hpp"
#include "tandem/server/reports.hpp"

namespace tandem::server {

Json compute_overview(const SchoolData& data, const DateRange& range, std::string_view today);
// nullopt-like: Json null when there is no such course.
Json compute_course(const SchoolData& data, std::string_view course, std::string_view today);
// kNotFound: no such table.
Result<Table> compute_table(const SchoolData& data, std::string_view name, const DateRange& range,
                            std::string_view today);

// Whether a record's date (day_of) lies in the range; "" never does.
inline bool in_range(const std::string& day, const DateRange& range) {
  return !day.empty() && day >= range.from && day <= range.to;
}
// Whether an action is open / overdue on `today`.
bool action_overdue(const Record& action, std::string_view today);
// When an action was marked done (Danish date of the winning `done` write).
std::string done_day(const Record& action);
// What an action came from: {"source","source_kind","source_title"}.
Json action_source(const SchoolData& data, const Record& action);
// The child a record names ("" none): entries and agenda items with `child`,
// child records themselves, consents.
std::string child_named(const Record& r);
// The ids of records naming a child among those a course detail shows.
std::vector<std::string> child_records_of_course(const SchoolData& data, std::string_view course);

}  // namespace tandem::server
