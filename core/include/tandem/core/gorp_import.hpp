// A GORP file (gorp.hpp) as a Tandem observation session, and back.
//
// Import: the whole file is parsed first; any bad row refuses the file (every
// bad row listed, nothing written). Then ONE Store transaction creates:
//   - a course (kind observation, titled "GORP: <name>") unless one is given;
//   - unless a template is given, a template (kind "event") built from the
//     events found: each event's full text is a code, {"code": text,
//     "group": Category, "parts": {"category", "group", "code"}}; each
//     (Category, Group) pair is a category named after the Group ("(no
//     group)" when empty) of the Category's codes. So the categories of a
//     Category partition its codes (templates.hpp) and summaries give the
//     share of time per Category (scheme group) and per Group (category).
//     Codes and categories in order of first appearance; comments are not
//     codes. With a given template (a template record or a shipped one) every
//     event must be one of its codes: unknown events refuse the file, listed;
//   - the session: course, template, started_at = the earliest Time Start and
//     ended_at = the latest Time End of the event rows (of the comments when
//     there are no events);
//   - one `code` entry per event row (at = Time Start, end = Time End) and
//     one `note` entry per comment row (text = the event's full text, at =
//     Time Start; a note has one time: the comment's Time End is dropped).
// Times: the first row's date is `date` (today in `zone` when empty); later
// days as gorp.hpp says; wall-clock times are read in `zone`
// (local_time.hpp: Copenhagen by default, DST gaps and overlaps as there).
//
// Export: every `code` entry of a duration-coded session (one with a code
// entry that has an end) as a row (a point event: Time End = Time Start) and
// every note as a comment row: its text when that is already a Comments
// event, else "Notes-Comments-" + the text (line breaks made spaces). Rows
// sorted by (start, end, event); times in `zone`; header first; CRLF line
// endings (RFC 4180's, which spreadsheet exports such as GORP's write, and
// which every reader takes), a final CRLF. Ticks, tallies and ratings are
// not GORP's: they are skipped and counted. A session the format cannot
// carry (rows spanning more than 24 hours, an event of more than 12 hours
// across midnight) is refused rather than written wrong: the export is read
// back and must give the same times. Import -> export -> import gives the same
// entries (codes, times to the second) and so the same summaries.
//
// Thread-safety: as the Store (one thread at a time).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/error.hpp"
#include "tandem/core/gorp.hpp"
#include "tandem/core/json.hpp"
#include "tandem/core/local_time.hpp"
#include "tandem/core/store.hpp"

namespace tandem::gorp {

struct ImportOptions {
  std::string course;       // course id; "" = create one
  std::string date;         // YYYY-MM-DD of the first row; "" = today in zone
  std::string template_id;  // template record or shipped template; "" = build one
  std::string name;         // names the new course and template (e.g. the file name)
  const TimeZone* zone = nullptr;  // nullptr = Europe/Copenhagen
  std::int64_t now_ms = 0;         // "today", and entries' stamps
};

struct ImportResult {
  std::string session;
  std::string course;
  std::string template_id;
  bool template_created = false;
  bool course_created = false;
  std::int64_t entries = 0;  // rows imported, comments included
  std::int64_t notes = 0;    // of which comments
  std::int64_t codes = 0;    // distinct event codes
  std::int64_t started_at = 0;
  std::int64_t ended_at = 0;
  // {"session","entries","notes","codes","course","template",
  //  "course_created","template_created","started_at","ended_at"}
  Json to_json() const;
};

// The definition of the template built from `rows` (see above). Errors:
// kTooLong past kMaxTemplateCodes codes or kMaxTemplateItems categories.
Result<Json> template_definition(const std::vector<Row>& rows, std::string_view name);

// Errors: parse_file's; kInvalidValue (unknown events for a given template,
// a bad date); kNotFound (course or template); the store's. Nothing is
// written on error.
Result<ImportResult> import_file(Store& store, std::string_view bytes, const ImportOptions& options);

struct ExportResult {
  std::string csv;
  std::int64_t rows = 0;
  std::int64_t skipped = 0;  // ticks, tallies, ratings
};

// Errors: kNotFound (no such session); kInvalidValue (not duration-coded,
// or not expressible, see above).
Result<ExportResult> export_session(const Store& store, std::string_view session_id,
                                    const TimeZone& zone);

}  // namespace tandem::gorp
