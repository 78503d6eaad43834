// Observation: recording entries in a session and summarising sessions and
// courses. One rule for every host (the CLI's `record` and `summary`, the C
// API, the server's reports).
//
// An entry is one `entry` record (append-only: tablets recording the same
// session never conflict) of one type:
//   note   text                          code   CODE [end]   (event; with end a duration)
//   tick   CODE interval (0-based)       tally  CODE [count] (default 1; negative undoes)
//   rating ITEM value
// Options that belong to another type are refused (kInvalidArgument), so a
// mistyped command never saves something else than was meant. The Store's
// record rules (record_rules.hpp) check the rest when the entry is saved: its
// code against the session's template (unknown: kInvalidValue naming the
// closest codes), a tick's interval within the session, an end not before
// its `at`.
//
// Thread-safety: as the Store (one thread at a time).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/error.hpp"
#include "tandem/core/session_summary.hpp"
#include "tandem/core/store.hpp"
#include "tandem/core/summary.hpp"

namespace tandem {

inline constexpr std::string_view kEntryTypes[] = {"note", "code", "tick", "tally", "rating"};

struct EntryInput {
  std::string session;                   // session id
  std::string type;                      // one of kEntryTypes
  std::string text;                      // note
  std::string code;                      // code, tick, tally; the item of a rating
  std::optional<std::int64_t> at_ms;     // default: now_ms
  std::optional<std::int64_t> end_ms;    // code only
  std::optional<std::int64_t> interval;  // tick only (required)
  std::optional<std::int64_t> count;     // tally only (default 1)
  std::optional<double> value;           // rating only (required)
  std::string child, group, author;      // ids, "" = none
};

// Creates the entry (one durable change); returns its id. `now_ms`: the
// host's (skew-corrected) clock, the entry's time when at_ms is absent.
// Errors: kInvalidValue (unknown type; the record rules'), kInvalidArgument
// (an option of another type, a missing interval/value), kMissingField (no
// code), the store's (kNotFound for an unknown session, child, ...).
Result<std::string> record_entry(Store& store, const EntryInput& input, std::int64_t now_ms);

// The most entries one call records.
inline constexpr std::size_t kMaxEntriesAtOnce = 500;

// Several entries in ONE transaction (`record --tick I-Lec,S-L --interval
// 3`: one tick per code): all are saved, or none (one unknown code refuses
// them all). Returns their ids in input order. Errors: record_entry's, for
// the first input refused; kInvalidArgument for no input; kTooLong past
// kMaxEntriesAtOnce.
Result<std::vector<std::string>> record_entries(Store& store, std::span<const EntryInput> inputs,
                                                std::int64_t now_ms);

// The summary of session `session_id` over its own entries only (indexed:
// Store::list_under). Errors: kNotFound (no such session), the summary's.
Result<SessionSummary> summarize_session(const Store& store, std::string_view session_id);

struct CourseSummary {
  std::string course;
  std::vector<SessionSummary> sessions;  // by session id
  summary::MeanSummary mean;             // mean of per-session percentages
  Json to_json() const;
};
// Every session of the course summarised, and the mean over them.
Result<CourseSummary> summarize_course(const Store& store, std::string_view course_id);

// Record `id` when it is of `kind` (kind "" = any); a record of another kind
// is reported as kNotFound (so a session id never passes for a course).
Result<Record> get_of_kind(const Store& store, std::string_view id, std::string_view kind);

// The template session `session` names: its template record, else the
// shipped template of that id (an empty info when neither).
TemplateInfo session_template(const Store& store, const Record& session);

}  // namespace tandem
