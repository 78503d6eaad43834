// The school's view: consolidated reports over the merged records of one
// school (DOMAIN.md, "What the school does with it"; docs/reports.md has
// every figure's definition).
//
// Who may see them is decided by access.cpp (may_view_reports): the school's
// leaders, its resource persons when the school allows it, and the
// administration. Those roles' view (visibility.cpp) is the whole school, so
// a report is computed over every record of the school as merged now, read
// through the storage interface (ServerStorage::school_records): nothing
// here is specific to a backend. Every answer that shows records naming a
// child is in the audit trail before it is returned.
//
// Who asks is authorised before anything of the school is read. Records are
// kept in memory between reports (at most kMaxCachedReportSchools schools
// and kMaxCachedReportRecords records, least recently used dropped) and brought
// up to date from the school's sequence at every call, so a report always
// shows what is committed, from any server instance.
//
// Thread-safety: every method may be called from any thread; reports run
// one at a time (they are rare, bounded by kMaxReportRecords, and run off
// the network threads).
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/error.hpp"
#include "tandem/core/json.hpp"
#include "tandem/server/storage.hpp"

namespace tandem::server {

struct Viewer;
struct SchoolData;

// Inclusive Danish dates "YYYY-MM-DD".
struct DateRange {
  std::string from, to;
};

// The school year (1 August – 31 July) that holds `day` ("YYYY-MM-DD").
DateRange school_year_of(std::string_view day);
// `from`/`to` as given (either may be empty: the school year of `today`
// supplies it). kInvalidDate: not a calendar day; kInvalidArgument: from > to.
Result<DateRange> parse_range(std::string_view from, std::string_view to, std::string_view today);

// One table of the page, for export.
struct Table {
  std::string name;
  std::vector<std::string> columns;
  std::vector<std::vector<Json>> rows;  // values: strings, numbers, booleans, null
  Json to_json() const;                 // {"table", "columns", "rows": [{column: value}]}
};

// The tables every school has (export names).
const std::vector<std::string>& report_table_names();

struct CsvOptions {
  char separator = ',';  // ';' for Danish Excel (then decimal commas too)
  bool bom = false;      // a UTF-8 byte order mark first (Excel reads UTF-8 then)
};
// RFC 4180: CRLF line ends, fields with the separator, quotes or line breaks
// quoted, quotes doubled. Cells that a spreadsheet would run as a formula
// (text starting with = + - @ or a tab/CR) get a
// leading apostrophe (CSV injection).
std::string to_csv(const Table& table, const CsvOptions& options);

class Reports {
 public:
  using Now = std::function<std::int64_t()>;  // Unix ms
  Reports(ServerStorage& storage, Now now_ms);
  ~Reports();

  // Errors for every call: kNotFound (no such school, or not the viewer's),
  // kForbidden (the viewer may not see reports: may_view_reports), kTooLong
  // (kMaxReportRecords), storage errors.
  Result<Json> overview(const Viewer& viewer, std::string_view school, const DateRange& range);
  // One course with what hangs under it. kNotFound: no such course.
  Result<Json> course(const Viewer& viewer, std::string_view school, std::string_view course);
  // kNotFound: no such table (report_table_names()).
  Result<Table> table(const Viewer& viewer, std::string_view school, std::string_view name,
                      const DateRange& range);
  // Every live record of the school as merged, with the overview of the
  // school year: the full-school export.
  Result<Json> archive(const Viewer& viewer, std::string_view school);
  std::string today() const;

 private:
  Result<SchoolData*> load_locked(std::string_view school);
  Status authorize(const Viewer& viewer, std::string_view school);
  std::shared_ptr<AuditEntry> audit_entry(const Viewer& viewer, const SchoolData& data, const char* action,
                                          const std::vector<std::string>& records);
  Status commit_audit(const std::shared_ptr<AuditEntry>& entry);
  template <class T, class Fn>
  Result<T> answer(const Viewer& viewer, std::string_view school, const char* action, Fn&& fn);

  ServerStorage& storage_;
  Now now_ms_;
  std::mutex mu_;
  std::list<std::unique_ptr<SchoolData>> cache_;  // most recently used first
};

}  // namespace tandem::server
