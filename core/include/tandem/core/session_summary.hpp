// The summary of one recorded session from its merged records: which coding
// scheme and interval length apply, how entries become ticks, events,
// tallies and ratings (summary.hpp has the arithmetic). One rule for every
// host: the CLI's `summary` and the server's school reports use it.
//
// Per session: the coding scheme and interval length come from the session's
// template (a template record, or a template Tandem ships) — the session's
// own interval_seconds wins. Ticks and code events give the interval summary;
// tallies and ratings their totals and means; notes are only counted.
// Without a started_at the session is taken to start at its first entry
// (reported as `started_at_assumed`). A session with any code entry that has
// an `end` is DURATION-CODED: it also gets the share of time per code
// (summary.hpp, "Time model"; JSON member "time", null otherwise), whatever
// its interval length.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "tandem/core/error.hpp"
#include "tandem/core/json.hpp"
#include "tandem/core/store.hpp"
#include "tandem/core/summary.hpp"

namespace tandem {

// The template a session names, as the summary needs it.
struct TemplateInfo {
  Json definition = Json::object();
  std::string kind;  // "interval" | "event" | "focus" | "reflection" | ""
  std::int64_t interval_seconds = 0;
  std::string name;  // for display ("" when unknown)
};

// From a live template record when given, else the shipped template `id`
// (an empty info when neither: the session has no scheme).
TemplateInfo template_info(const Record* record, std::string_view id);

struct SessionSummary {
  std::string session;
  std::int64_t entries = 0;
  std::int64_t notes = 0;
  bool started_at_assumed = false;
  std::optional<summary::IntervalSummary> intervals;  // when the session is interval-coded
  std::string intervals_missing;                      // why not, for display
  std::optional<summary::TimeSummary> time;           // when the session is duration-coded
  summary::TallyRatingSummary tallies;

  Json to_json() const;
};

// `entries`: the session's entries (others are skipped).
// Errors: the template's definition does not parse; summarize_intervals'.
Result<SessionSummary> summarize_session(const Record& session, std::span<const Record* const> entries,
                                         const TemplateInfo& tmpl);

// Helpers on merged fields (absent or of another type: nullopt / fallback).
std::optional<std::int64_t> time_field(const Json& fields, const char* name);
std::int64_t int_field(const Json& fields, const char* name, std::int64_t fallback);
std::string string_field(const Json& fields, const char* name);

}  // namespace tandem
