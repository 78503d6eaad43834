// GORP files (UC Davis' Generalized Observation and Reflection Platform):
// the pure reading and writing of its CSV export. gorp_import.hpp turns a
// parsed file into a Tandem session and back.
//
// Format. A header row `Event,Time Start,Time End`, then one row per event:
//   Instructor-Presenting-Lecturing,10:46:29 AM,10:48:02 AM
// Accepted quirks: LF, CRLF or bare-CR line endings (mixed too), a final row
// with or without a line ending, blank lines (skipped), a UTF-8 byte-order
// mark, spaces around fields (",10:46:29 AM" and ", 10:46:29 AM" alike),
// RFC 4180 quoting within one line ("a,b" and "" for a quote), an unquoted
// event holding commas (a row of more than three fields whose first is not
// quoted: the last two are the times, the rest the event). Times are
// 12-hour wall-clock times `H:MM:SS AM|PM` (hour 1-12, one or two digits,
// AM/PM in any case, the space before it optional); 12:xx AM is just after
// midnight, 12:xx PM just after noon. Header names compare without regard
// to case and surrounding spaces.
//
// Days. A file has no dates. Rows are read in file order; a row's start that
// goes BACK more than 12 hours from the previous row's start has crossed
// midnight and is on the next day (11:58 PM then 12:01 AM); a smaller step
// back stays on the same day (rows slightly out of order). An end before its
// start by more than 12 hours is on the next day (an event across midnight);
// by less, the row is bad. So an event lasts at most 12 hours, and the whole
// file may span at most kMaxSpanSeconds.
//
// Events. The event's full text (trimmed) is its code. Its parts: Category =
// text before the first '-', Group = between the first and second '-', Code =
// the rest (it may hold more '-'). Fewer parts: "A-B" is Category A, Group B,
// Code ""; "A" is Category A with Group and Code empty. Parts are trimmed.
// A row whose Group is "Comments" (any case) is a comment, kept as a note.
//
// Bounds (kTooLong): file bytes, rows, line length; a row has exactly three
// fields. Every bad row is reported with its line number (1-based, counting
// the header; the first kMaxReportedErrors of them) and nothing is returned.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/error.hpp"

namespace tandem::gorp {

inline constexpr std::size_t kMaxFileBytes = 8 * 1024 * 1024;
inline constexpr std::size_t kMaxRows = 100000;
inline constexpr std::size_t kMaxLineBytes = 4096;
inline constexpr std::size_t kMaxReportedErrors = 20;
inline constexpr std::int64_t kMaxEventSeconds = 12 * 3600;
inline constexpr std::int64_t kMaxSpanSeconds = 24 * 3600;
inline constexpr std::string_view kHeader = "Event,Time Start,Time End";
inline constexpr std::string_view kCommentsGroup = "Comments";

struct EventParts {
  std::string category;
  std::string group;
  std::string code;
};
EventParts split_event(std::string_view event);
bool is_comment(const EventParts& parts);

struct Row {
  std::size_t line = 0;  // 1-based line number in the file
  std::string event;     // full text, trimmed
  // Seconds from midnight of the first day (so >= 86400 on the next day).
  std::int64_t start_s = 0;
  std::int64_t end_s = 0;  // >= start_s
};

// Seconds since midnight of "H:MM:SS AM|PM"; kInvalidDate otherwise.
Result<std::int64_t> parse_clock(std::string_view text);
// "H:MM:SS AM|PM" of seconds since some midnight (taken modulo a day).
std::string format_clock(std::int64_t seconds);

// The rows of a whole file. Errors: kInvalidValue (bad header, bad rows:
// the message lists "line N: why" for each), kTooLong (bounds), kInvalidUtf8.
Result<std::vector<Row>> parse_file(std::string_view bytes);

// One CSV field as GORP writes it: quoted when it holds ',', '"', CR or LF.
std::string csv_field(std::string_view text);

}  // namespace tandem::gorp
