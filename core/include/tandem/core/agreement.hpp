// Agreement between two observations of the same lesson (issue 16; the
// formulas and a worked example are in docs/agreement.md): per code and
// overall, Jaccard similarity, Cohen's kappa and percent agreement on
// presence/absence.
//
// Units. Each observation is cut into units in which a code is present or
// absent; both observations must be coded the same way:
//   - duration coding (entries of type "code": an `at`, maybe an `end`):
//     units of 1 second. Each observation is ALIGNED AT ITS OWN FIRST EVENT
//     (t0 = the earliest `at` of its accepted events), as R-PDOT does:
//     observers of a video clip watch it at different times of day. Unit s is
//     the half-open range [t0 + s*1000, t0 + (s+1)*1000) ms. A duration event
//     [at, end) with end > at makes its code present in every unit it
//     overlaps by a positive length (half-open, as in summary.hpp: an event
//     ending exactly on a unit boundary does not spill into the next unit).
//     A point event (no `end`, or end == at) makes its code present in the one
//     unit containing `at`. An observation's length is its last reached unit
//     + 1; time after its last event is not counted.
//   - interval coding (entries of type "tick"): one unit per interval; a tick
//     makes its code present in interval `interval`. An observation's length
//     is its session's interval count when given (as `tandem summary` counts
//     it), else its last ticked interval + 1. Ticks outside [0, length) are
//     ignored. Interval lengths must match when both are known.
// The unit count N is the LONGER of the two observations' lengths: the
// shorter observer coded nothing in the units past its end.
//
// Codes are matched by their exact text (bytes; case and spaces matter)
// across the two observations' templates: every code of either template and
// every code either observer recorded is compared. A code one observer never
// coded (or that its template lacks) is absent throughout that observation.
// A code is "used" when either observer has it present in some unit.
//
// Per code, over its N units (a, b, c, d count units):
//   a = present in both, b = in the first only, c = in the second only,
//   d = in neither; a + b + c + d = N.
//   percent agreement = 100 (a + d) / N
//   Jaccard           = a / (a + b + c)         undefined when a+b+c = 0
//   Cohen's kappa     = (po - pe) / (1 - pe), po = (a+d)/N,
//                       pe = p1 p2 + (1-p1)(1-p2), p1 = (a+b)/N, p2 = (a+c)/N;
//                     = 2 (ad - bc) / ((a+b)(b+d) + (a+c)(c+d)), computed so
//                       from exact integer products; undefined when pe = 1
//                       (both observers constant and identical: a code
//                       neither used, or one both had present throughout).
// Undefined values are nullopt with a stable reason code, never NaN or inf.
//
// Overall, over the USED codes only (codes neither observer used carry no
// information about agreement, and counting them would make the overall
// figure depend on how many unused codes the templates list):
//   - pooled: the four counts summed over every (used code, unit) cell, and
//     the three measures of that pooled table (the headline figures);
//   - means: the plain mean of the per-code values where defined, with how
//     many codes entered each mean (every used code weighs the same,
//     however often it occurred).
//
// Limits: at most kMaxUnits units and kMaxCodes codes (kTooLong beyond: a
// bogus timestamp must not make a report of years). Work is proportional to
// the number of entries and codes, never to N: presence is kept as merged
// ranges of units.
//
// Thread-safety: compare() is pure; session_agreement() reads the Store like
// any read (one thread at a time per Store).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/error.hpp"
#include "tandem/core/json.hpp"
#include "tandem/core/store.hpp"
#include "tandem/core/summary.hpp"

namespace tandem::agreement {

// 12 hours at 1 s: a school day's observation with room to spare.
inline constexpr std::int64_t kMaxUnits = 12 * 3600;
// Two templates' worth of codes (templates.hpp kMaxTemplateCodes) plus strays.
inline constexpr std::size_t kMaxCodes = 1000;

// Stable reason codes for an undefined measure (JSON `*_undefined`).
inline constexpr std::string_view kNoUnits = "no_units";                     // N = 0
inline constexpr std::string_view kNeverPresent = "never_present";           // a+b+c = 0
inline constexpr std::string_view kChanceIsOne = "expected_agreement_is_1";  // pe = 1
inline constexpr std::string_view kNoCodeUsed = "no_code_used";              // overall

// One observer's coding.
struct Coding {
  std::vector<std::string> template_codes;  // the codes its template offers
  std::vector<summary::Entry> entries;      // all ticks, or all events
  // Interval coding: the session's interval count; unset = last tick + 1.
  std::optional<std::int64_t> interval_count;
  std::int64_t interval_seconds = 0;  // interval coding; 0 = unknown
};

enum class Unit { kSecond, kInterval };

struct Counts {
  std::int64_t a = 0, b = 0, c = 0, d = 0;
  std::int64_t units() const { return a + b + c + d; }
};

struct Measures {
  std::optional<double> jaccard;            // in [0, 1]
  std::optional<double> kappa;              // in [-1, 1]
  std::optional<double> percent_agreement;  // in [0, 100]
  std::string_view jaccard_undefined;       // reason when !jaccard, else empty
  std::string_view kappa_undefined;
  std::string_view percent_undefined;
};

// The measures of one 2x2 table, by the formulas above.
Measures measures(const Counts& counts);

struct CodeAgreement {
  std::string code;
  bool in_first_template = false;
  bool in_second_template = false;
  bool used = false;  // a + b + c > 0
  Counts counts;
  Measures measures;
};

struct Overall {
  std::int64_t codes = 0;  // used codes, pooled and averaged
  Counts pooled;
  Measures measures;  // of the pooled table; reasons kNoCodeUsed when codes == 0
  std::optional<double> mean_jaccard, mean_kappa, mean_percent_agreement;
  std::int64_t jaccard_codes = 0, kappa_codes = 0;  // codes in each mean
};

struct Side {
  std::int64_t units = 0;                      // this observation's own length
  std::int64_t ignored_entries = 0;            // empty code, end < at, tick outside
  std::optional<std::int64_t> first_event_ms;  // duration coding: t0
};

struct Agreement {
  Unit unit = Unit::kSecond;
  std::int64_t unit_seconds = 1;  // 1, or the interval length (0 = unknown)
  std::int64_t units = 0;         // N
  Side first, second;
  // First template's codes in order, then the second's new ones, then codes
  // found only in entries (sorted).
  std::vector<CodeAgreement> codes;
  Overall overall;

  const CodeAgreement* find_code(std::string_view code) const;  // nullptr when absent
  Json to_json() const;
};

// Compares two codings. Errors: kInvalidValue when one is interval-coded and
// the other duration-coded, when one mixes ticks and events, when neither has
// any entry, or when known interval lengths differ; kTooLong past kMaxUnits
// or kMaxCodes.
Result<Agreement> compare(const Coding& first, const Coding& second);

struct SessionAgreement {
  std::string first_session, second_session;
  Agreement agreement;
  Json to_json() const;  // the agreement's members plus first/second "session"
};

// Reads both sessions (their own entries, their templates' codes: a template
// record or a shipped one) and compares them. Entries of type "code" without
// a readable `at` are ignored; notes, tallies and ratings take no part.
// Errors: kNotFound (no such session), the template's parse errors,
// compare()'s.
Result<SessionAgreement> session_agreement(const Store& store, std::string_view first_id,
                                           std::string_view second_id);

}  // namespace tandem::agreement
