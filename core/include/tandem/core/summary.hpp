// Observation summaries: pure functions from recorded entries to the numbers
// a resource person and a leader read (DOMAIN.md, "Observations" and the
// COPUS appendix).
//
// Interval model. A session starts at `started_at` (Unix ms) and is cut into
// intervals of `interval_seconds`; interval k is the half-open range
// [started_at + k*len, started_at + (k+1)*len). Entries reach intervals in
// three ways:
//   - a tick names an interval index explicitly (interval coding);
//   - a point event (`at`) lands in the interval containing `at`;
//   - a duration event (`at`..`end`, as GORP exports) occupies every interval
//     the half-open range [at, end) overlaps, so an event ending exactly on a
//     boundary does not spill into the next interval; a zero-length event
//     counts in the interval containing its start.
// A code "occurs" in an interval at most once, however many entries say so.
//
// Number of intervals: ceil((ended_at - started_at) / len), so a final partial
// interval counts as a whole one. Without `ended_at`: the last interval any
// accepted entry reaches, plus one.
//
// Entries outside the session are IGNORED, not clamped: a point event before
// `started_at` or at/after `ended_at`, a tick with a negative index or an
// index >= the interval count, a duration event with `end < at` or with no
// overlap, and entries with an empty code. They are counted in
// `ignored_entries` so a display can say so. A duration event that only
// partly overlaps the session is CLIPPED to it and counted in
// `clipped_entries`. Codes that the scheme does not know are still summarised
// per code (with an empty group) but belong to no category.
//
// Two normalisations for categories, both reported, never mixed:
//   (a) percent_of_intervals: share of intervals in which any of the
//       category's codes occurred (categories co-occur, totals exceed 100);
//   (b) percent_of_group_ticks: the category's ticks (interval-code pairs of
//       its codes) as a share of all ticks of known codes in its group; sums
//       to 100 per group whenever that group has ticks (the template parser
//       guarantees that a group's categories partition its codes).
// Percentages are unrounded doubles in [0, 100]; round only for display.
// With zero intervals (or zero ticks in a group) the percentages are 0.
//
// Derived measures. A scheme holding any of the COPUS codes S-CG, S-WG, S-OG
// (the shipped COPUS template, or a school's copy of it) gets "GW" (group
// work): the intervals with ANY of those codes, as a share of all intervals
// (their union, not the sum). derived_measures() lists what applies.
//
// Interval timeline: per interval (index 0 .. interval_count-1) the codes
// that occurred in it, in the order of `codes`. Left out (empty, with
// `timeline_truncated`) past kMaxTimelineIntervals intervals or
// kMaxTimelineCells interval-code pairs, so its size stays bounded.
//
// Time model (duration coding, as GORP records: summarize_time). Every
// duration event is the half-open range [at, end) in ms. The observed time
// is [started_at, ended_at); without `ended_at` it ends at the latest end
// (or point event) among the entries. Events are clipped to it (counted in
// `clipped_entries`); events entirely outside it, with end < at, with an
// empty code, and ticks are ignored (`ignored_entries`). A point event (no
// end, or end == at) takes no time: it is counted in its code's `entries`
// when started_at <= at <= the window's end.
// A code's time is the LENGTH OF THE UNION of its ranges: two overlapping
// events of one code count the overlap once. Different codes overlap freely,
// so shares sum past 100 %. The same union gives a group's time (any of its
// codes), a category's time (any of its codes) and a derived measure's (GW:
// any of S-CG, S-WG, S-OG). percent_of_time = time / observed time * 100
// (0 when nothing was observed). A template built by the GORP importer
// (gorp.hpp) makes the GORP Category the scheme's group and the GORP Group
// the category, so these are the shares per Category and per Group.
//
// Time timeline: the observed time cut into SEGMENTS [from_ms, to_ms)
// (offsets from started_at) at every start and end of an event; each lists
// the codes active throughout it, in `codes` order (possibly none: a gap).
// Adjacent segments with the same codes are joined, so segments alternate
// and cover the observed time without gaps. Bounded like the interval
// timeline (kMaxTimelineCells segment-code pairs, 2 x entries + 1 segments).
//
// Thread-safety: every function is pure; safe to call concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/change.hpp"
#include "tandem/core/error.hpp"

namespace tandem::summary {

// Hard limit: a summary never expands more intervals than this (a bogus
// timestamp must not make it allocate for years of 2-minute intervals).
inline constexpr std::int64_t kMaxIntervals = 100000;

// ---- What the summaries are computed over --------------------------------

struct CodeDef {
  std::string code;   // namespaced, e.g. "I-Lec"
  std::string group;  // e.g. "instructor"; may be empty
};

struct Category {
  std::string name;   // unique within its group, e.g. "Presenting"
  std::string group;  // every code listed belongs to this group
  std::vector<std::string> codes;
};

// The codes and categories of one template, in template order. Build it with
// parse_coding_scheme() (templates.hpp), which validates it.
struct CodingScheme {
  std::vector<CodeDef> codes;
  std::vector<Category> categories;
};

enum class EntryKind { kTick, kEvent };

struct Entry {
  EntryKind kind = EntryKind::kEvent;
  std::string code;
  std::int64_t interval = 0;        // kTick: 0-based interval index
  std::int64_t at = 0;              // kEvent: Unix ms
  std::optional<std::int64_t> end;  // kEvent: Unix ms; set = duration-coded

  static Entry tick(std::int64_t interval_index, std::string code);
  static Entry event(std::string code, std::int64_t at_ms);
  static Entry span(std::string code, std::int64_t at_ms, std::int64_t end_ms);
};

struct Observation {
  std::int64_t started_at = 0;           // Unix ms
  std::optional<std::int64_t> ended_at;  // Unix ms
  std::int64_t interval_seconds = 0;     // the template's, e.g. 120 for COPUS
  std::vector<Entry> entries;
};

// ---- One observation ------------------------------------------------------

struct CodeStat {
  std::string code;
  std::string group;                  // empty for a code the scheme lacks
  std::int64_t intervals = 0;         // intervals in which the code occurred
  double percent_of_intervals = 0.0;  // intervals / interval_count * 100
};

struct GroupStat {
  std::string group;
  std::int64_t ticks = 0;  // interval-code pairs of the group's known codes
};

struct CategoryStat {
  std::string name;
  std::string group;
  std::int64_t intervals = 0;           // intervals with any of its codes
  std::int64_t ticks = 0;               // interval-code pairs of its codes
  double percent_of_intervals = 0.0;    // (a)
  double percent_of_group_ticks = 0.0;  // (b)
};

// A measure derived from several codes: their union.
struct DerivedMeasure {
  std::string name;                // "GW"
  std::vector<std::string> codes;  // {"S-CG", "S-WG", "S-OG"}
};
// The derived measures that apply to `scheme` (see above), in a fixed order.
std::vector<DerivedMeasure> derived_measures(const CodingScheme& scheme);

inline constexpr std::int64_t kMaxTimelineIntervals = 10000;
inline constexpr std::int64_t kMaxTimelineCells = 200000;

struct DerivedIntervalStat {
  std::string name;
  std::vector<std::string> codes;
  std::int64_t intervals = 0;         // intervals with any of the codes
  double percent_of_intervals = 0.0;
};

struct IntervalSummary {
  std::int64_t interval_seconds = 0;
  std::int64_t interval_count = 0;
  std::int64_t ignored_entries = 0;
  std::int64_t clipped_entries = 0;
  std::vector<CodeStat> codes;  // scheme codes in order (zeros included), then unknown codes sorted
  std::vector<GroupStat> groups;         // groups in scheme order
  std::vector<CategoryStat> categories;  // scheme order
  std::vector<DerivedIntervalStat> derived;  // derived_measures(scheme) order
  std::vector<std::vector<std::string>> timeline;  // per interval: its codes
  bool timeline_truncated = false;

  // Lookups; nullptr when absent. Pointers are valid while *this is unchanged.
  const CodeStat* find_code(std::string_view code) const;
  const CategoryStat* find_category(std::string_view group, std::string_view name) const;
  const DerivedIntervalStat* find_derived(std::string_view name) const;
  Json to_json() const;
};

// The number of intervals from started_at to ended_at:
// ceil((ended_ms - started_ms) / length), a final partial interval counting as
// a whole one. nullopt when ended_ms < started_ms, interval_seconds <= 0 or
// the arithmetic overflows (timestamps are user data).
std::optional<std::int64_t> interval_count(std::int64_t started_ms, std::int64_t ended_ms,
                                           std::int64_t interval_seconds);

// Summarises one observation against a scheme.
// Errors: kInvalidValue when interval_seconds <= 0 or ended_at < started_at;
// kTooLong when the session would have more than kMaxIntervals intervals.
Result<IntervalSummary> summarize_intervals(const Observation& observation,
                                            const CodingScheme& scheme);

// ---- Share of time (duration coding) --------------------------------------

struct TimeStat {
  std::string code;   // TimeSummary::codes: the code; empty otherwise
  std::string group;  // the scheme group (empty for a code the scheme lacks)
  std::string name;   // categories and derived measures: their name
  std::int64_t entries = 0;      // codes: entries of the code (points included)
  std::int64_t ms = 0;           // length of the union of the ranges
  double percent_of_time = 0.0;  // ms / observed_ms * 100
};

struct Segment {
  std::int64_t from_ms = 0;  // offsets from started_at, half-open
  std::int64_t to_ms = 0;
  std::vector<std::string> codes;
};

struct TimeSummary {
  std::int64_t started_at = 0;  // Unix ms
  std::int64_t observed_ms = 0;
  std::int64_t ignored_entries = 0;
  std::int64_t clipped_entries = 0;
  std::vector<TimeStat> codes;       // scheme codes in order (zeros included), then unknown sorted
  std::vector<TimeStat> groups;      // scheme groups in order of their first code
  std::vector<TimeStat> categories;  // scheme order
  std::vector<TimeStat> derived;     // derived_measures(scheme) order
  std::vector<Segment> timeline;
  bool timeline_truncated = false;

  const TimeStat* find_code(std::string_view code) const;
  const TimeStat* find_group(std::string_view group) const;
  const TimeStat* find_category(std::string_view group, std::string_view name) const;
  const TimeStat* find_derived(std::string_view name) const;
  Json to_json() const;
};

// Share of time per code, group, category and derived measure; the timeline.
// `interval_seconds` is not used. Errors: kInvalidValue when ended_at <
// started_at.
Result<TimeSummary> summarize_time(const Observation& observation, const CodingScheme& scheme);

// ---- Several observations -------------------------------------------------

struct MeanCodeStat {
  std::string code;
  std::string group;
  double mean_percent_of_intervals = 0.0;
};

struct MeanCategoryStat {
  std::string name;
  std::string group;
  double mean_percent_of_intervals = 0.0;    // (a), over observations with intervals
  double mean_percent_of_group_ticks = 0.0;  // (b), over observations with ticks in the group
  std::int64_t observations_with_group_ticks = 0;
};

struct MeanSummary {
  std::int64_t observations = 0;                 // summaries given
  std::int64_t observations_with_intervals = 0;  // those that enter the means
  std::vector<MeanCodeStat> codes;               // order of first appearance
  std::vector<MeanCategoryStat> categories;      // order of first appearance

  const MeanCodeStat* find_code(std::string_view code) const;
  const MeanCategoryStat* find_category(std::string_view group, std::string_view name) const;
  Json to_json() const;
};

// The mean of per-observation percentages (each observation weighs the same,
// whatever its length) — not pooled counts. An observation with zero
// intervals is left out of every mean; one with no ticks in a group is left
// out of that group's (b) means, so they still sum to 100. A code or category
// absent from one summary counts as 0 % there.
MeanSummary mean_summary(std::span<const IntervalSummary> summaries);

// ---- Tallies and ratings (non-interval templates) -------------------------

struct TallyEntry {
  std::string code;
  std::int64_t amount = 1;  // may be negative (an observer undoing a tap)
};

struct TallyStat {
  std::string code;
  std::int64_t total = 0;
};

struct RatingEntry {
  std::string item;
  double value = 0.0;
};

struct RatingStat {
  std::string item;
  std::int64_t count = 0;
  double mean = 0.0;  // 0 when count == 0, like min and max
  double min = 0.0;
  double max = 0.0;
};

struct TallyRatingSummary {
  std::vector<TallyStat> tallies;
  std::vector<RatingStat> ratings;
  std::int64_t ignored_entries = 0;  // empty code/item, non-finite rating value
  Json to_json() const;
};

// Sums tallies per code and describes ratings per item. `code_order` and
// `item_order` (usually from the template) come first, in that order and
// with zeros; anything else follows, sorted.
TallyRatingSummary summarize_tallies_and_ratings(std::span<const TallyEntry> tallies,
                                                 std::span<const RatingEntry> ratings,
                                                 std::span<const std::string> code_order = {},
                                                 std::span<const std::string> item_order = {});

}  // namespace tandem::summary
