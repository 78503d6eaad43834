// Observation summaries: see summary.hpp for the interval model and the two
// category normalisations.
//
// Implementation note: occupied intervals are kept as inclusive index ranges
// per code and merged, never expanded one by one, so memory stays
// proportional to the number of entries whatever their time spans.
#include "tandem/core/summary.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "unit_ranges.hpp"

namespace tandem::summary {
namespace {

using detail::length;
using detail::merged;
using detail::Range;  // inclusive interval indices
using detail::Ranges;

enum class Fit { kIgnored, kPlaced, kClipped };

struct Placement {
  Fit fit = Fit::kIgnored;
  Range range;
};

double percent(std::int64_t part, std::int64_t whole) {
  return whole > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

// a - b, or nullopt on overflow (timestamps are user data).
std::optional<std::int64_t> checked_sub(std::int64_t a, std::int64_t b) {
  std::int64_t out = 0;
  if (__builtin_sub_overflow(a, b, &out)) return std::nullopt;
  return out;
}

// The session as seen by entry placement. `count` is known up front only when
// the session has ended.
struct Window {
  std::int64_t start = 0;
  std::optional<std::int64_t> end;
  std::int64_t len_ms = 0;
  std::optional<std::int64_t> count;
};

Placement place_point(std::int64_t at, const Window& w) {
  if (at < w.start || (w.end && at >= *w.end)) return {};
  auto offset = checked_sub(at, w.start);
  if (!offset) return {};
  const std::int64_t k = *offset / w.len_ms;
  return {Fit::kPlaced, {k, k}};
}

Placement place(const Entry& e, const Window& w) {
  if (e.code.empty()) return {};
  if (e.kind == EntryKind::kTick) {
    if (e.interval < 0 || (w.count && e.interval >= *w.count)) return {};
    return {Fit::kPlaced, {e.interval, e.interval}};
  }
  if (!e.end || *e.end == e.at) return place_point(e.at, w);  // zero length: its start
  if (*e.end < e.at) return {};
  // Half-open [at, end) clipped to the session; it covers ms lo .. hi-1.
  const std::int64_t lo = std::max(e.at, w.start);
  const std::int64_t hi = w.end ? std::min(*e.end, *w.end) : *e.end;
  if (hi <= lo) return {};
  auto first = checked_sub(lo, w.start);
  auto last = checked_sub(hi - 1, w.start);
  if (!first || !last) return {};
  const bool clipped = lo != e.at || hi != *e.end;
  return {clipped ? Fit::kClipped : Fit::kPlaced, {*first / w.len_ms, *last / w.len_ms}};
}

std::int64_t group_ticks(const IntervalSummary& s, const std::string& group) {
  for (const GroupStat& g : s.groups) {
    if (g.group == group) return g.ticks;
  }
  return 0;
}

template <typename Stat>
const Stat* find_by_code(const std::vector<Stat>& v, std::string_view code) {
  for (const Stat& s : v) {
    if (s.code == code) return &s;
  }
  return nullptr;
}

template <typename Stat>
const Stat* find_by_name(const std::vector<Stat>& v, std::string_view group,
                         std::string_view name) {
  for (const Stat& s : v) {
    if (s.group == group && s.name == name) return &s;
  }
  return nullptr;
}

// Lays out per-name stats: the names of `order` first (zeros for absent
// ones, each once), then the rest in sorted (map) order.
template <typename Stat>
std::vector<Stat> in_order(std::map<std::string, Stat> by_name, std::string Stat::*name_field,
                           std::span<const std::string> order) {
  std::vector<Stat> out;
  std::set<std::string> done;
  for (const std::string& name : order) {
    if (!done.insert(name).second) continue;
    auto it = by_name.find(name);
    Stat s{};
    if (it != by_name.end()) {
      s = std::move(it->second);
      by_name.erase(it);
    }
    s.*name_field = name;
    out.push_back(std::move(s));
  }
  for (auto& [name, s] : by_name) out.push_back(std::move(s));
  return out;
}

}  // namespace

Entry Entry::tick(std::int64_t interval_index, std::string code) {
  Entry e;
  e.kind = EntryKind::kTick;
  e.code = std::move(code);
  e.interval = interval_index;
  return e;
}

Entry Entry::event(std::string code, std::int64_t at_ms) {
  Entry e;
  e.code = std::move(code);
  e.at = at_ms;
  return e;
}

Entry Entry::span(std::string code, std::int64_t at_ms, std::int64_t end_ms) {
  Entry e = event(std::move(code), at_ms);
  e.end = end_ms;
  return e;
}

std::optional<std::int64_t> interval_count(std::int64_t started_ms, std::int64_t ended_ms,
                                           std::int64_t interval_seconds) {
  constexpr std::int64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / 1000;
  if (interval_seconds <= 0 || interval_seconds > kMaxSeconds) return std::nullopt;
  const auto duration = checked_sub(ended_ms, started_ms);
  if (!duration || *duration < 0) return std::nullopt;
  const std::int64_t len_ms = interval_seconds * 1000;
  // ceil(duration / len): a final partial interval is an interval.
  return *duration / len_ms + (*duration % len_ms != 0 ? 1 : 0);
}

Result<IntervalSummary> summarize_intervals(const Observation& obs, const CodingScheme& scheme) {
  constexpr std::int64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / 1000;
  if (obs.interval_seconds <= 0 || obs.interval_seconds > kMaxSeconds) {
    return make_error(ErrorCode::kInvalidValue, "interval_seconds must be positive");
  }
  Window w{obs.started_at, obs.ended_at, obs.interval_seconds * 1000, std::nullopt};
  if (obs.ended_at) {
    w.count = interval_count(obs.started_at, *obs.ended_at, obs.interval_seconds);
    if (!w.count) return make_error(ErrorCode::kInvalidValue, "ended_at is before started_at");
    if (*w.count > kMaxIntervals) {
      return make_error(ErrorCode::kTooLong, "observation has too many intervals");
    }
  }

  IntervalSummary out;
  out.interval_seconds = obs.interval_seconds;
  std::map<std::string, Ranges> reached;
  std::int64_t last_index = -1;
  for (const Entry& e : obs.entries) {
    const Placement p = place(e, w);
    if (p.fit == Fit::kIgnored) {
      ++out.ignored_entries;
      continue;
    }
    if (p.fit == Fit::kClipped) ++out.clipped_entries;
    reached[e.code].push_back(p.range);
    last_index = std::max(last_index, p.range.last);
  }
  out.interval_count = w.count ? *w.count : last_index + 1;
  if (out.interval_count > kMaxIntervals) {
    return make_error(ErrorCode::kTooLong, "observation has too many intervals");
  }

  std::map<std::string, Ranges> occupied;
  for (auto& [code, ranges] : reached) occupied[code] = merged(std::move(ranges));
  auto count_of = [&](const std::string& code) -> std::int64_t {
    auto it = occupied.find(code);
    return it == occupied.end() ? 0 : length(it->second);
  };

  std::set<std::string> known;
  for (const CodeDef& c : scheme.codes) {
    if (!known.insert(c.code).second) continue;
    const std::int64_t n = count_of(c.code);
    out.codes.push_back({c.code, c.group, n, percent(n, out.interval_count)});
    auto g = std::find_if(out.groups.begin(), out.groups.end(),
                          [&](const GroupStat& s) { return s.group == c.group; });
    if (g == out.groups.end()) g = out.groups.insert(out.groups.end(), {c.group, 0});
    g->ticks += n;
  }
  for (const auto& [code, ranges] : occupied) {
    if (known.count(code) == 0) {
      const std::int64_t n = length(ranges);
      out.codes.push_back({code, "", n, percent(n, out.interval_count)});
    }
  }

  for (const Category& cat : scheme.categories) {
    Ranges any;
    std::int64_t ticks = 0;
    for (const std::string& code : cat.codes) {
      auto it = occupied.find(code);
      if (it == occupied.end()) continue;
      any.insert(any.end(), it->second.begin(), it->second.end());
      ticks += length(it->second);
    }
    const std::int64_t intervals = length(merged(std::move(any)));
    out.categories.push_back({cat.name, cat.group, intervals, ticks,
                              percent(intervals, out.interval_count),
                              percent(ticks, group_ticks(out, cat.group))});
  }

  for (DerivedMeasure& m : derived_measures(scheme)) {
    Ranges any;
    for (const std::string& code : m.codes) {
      auto it = occupied.find(code);
      if (it != occupied.end()) any.insert(any.end(), it->second.begin(), it->second.end());
    }
    const std::int64_t intervals = length(merged(std::move(any)));
    out.derived.push_back(
        {std::move(m.name), std::move(m.codes), intervals, percent(intervals, out.interval_count)});
  }

  // The timeline, in the order of out.codes, when it stays small.
  std::int64_t cells = 0;
  for (const CodeStat& c : out.codes) cells += c.intervals;
  if (out.interval_count > kMaxTimelineIntervals || cells > kMaxTimelineCells) {
    out.timeline_truncated = true;
  } else {
    out.timeline.resize(static_cast<std::size_t>(out.interval_count));
    for (const CodeStat& c : out.codes) {
      auto it = occupied.find(c.code);
      if (it == occupied.end()) continue;
      for (const Range& r : it->second) {
        for (std::int64_t k = r.first; k <= r.last && k < out.interval_count; ++k) {
          out.timeline[static_cast<std::size_t>(k)].push_back(c.code);
        }
      }
    }
  }
  return out;
}

std::vector<DerivedMeasure> derived_measures(const CodingScheme& scheme) {
  static const std::vector<std::string> kGroupWork = {"S-CG", "S-WG", "S-OG"};
  std::vector<DerivedMeasure> out;
  const bool copus = std::any_of(scheme.codes.begin(), scheme.codes.end(), [](const CodeDef& c) {
    return std::find(kGroupWork.begin(), kGroupWork.end(), c.code) != kGroupWork.end();
  });
  if (copus) out.push_back({"GW", kGroupWork});
  return out;
}

MeanSummary mean_summary(std::span<const IntervalSummary> summaries) {
  MeanSummary out;
  out.observations = static_cast<std::int64_t>(summaries.size());
  // An observation without intervals observed nothing: not a 0 % data point.
  std::vector<const IntervalSummary*> observed;
  for (const IntervalSummary& s : summaries) {
    if (s.interval_count > 0) observed.push_back(&s);
  }
  out.observations_with_intervals = static_cast<std::int64_t>(observed.size());

  // The union of codes and categories, in order of first appearance.
  for (const IntervalSummary* s : observed) {
    for (const CodeStat& c : s->codes) {
      if (out.find_code(c.code) == nullptr) out.codes.push_back({c.code, c.group, 0.0});
    }
    for (const CategoryStat& c : s->categories) {
      if (out.find_category(c.group, c.name) == nullptr) {
        out.categories.push_back({c.name, c.group, 0.0, 0.0, 0});
      }
    }
  }

  const auto n = static_cast<double>(observed.size());
  for (MeanCodeStat& m : out.codes) {
    double sum = 0.0;  // absent from an observation: 0 % there
    for (const IntervalSummary* s : observed) {
      const CodeStat* c = s->find_code(m.code);
      if (c == nullptr) continue;
      sum += c->percent_of_intervals;
      if (m.group.empty()) m.group = c->group;
    }
    m.mean_percent_of_intervals = n > 0 ? sum / n : 0.0;
  }
  for (MeanCategoryStat& m : out.categories) {
    double sum_a = 0.0;
    double sum_b = 0.0;
    for (const IntervalSummary* s : observed) {
      const CategoryStat* c = s->find_category(m.group, m.name);
      if (c != nullptr) sum_a += c->percent_of_intervals;
      // (b) only where the group had ticks, so the group's means sum to 100.
      if (group_ticks(*s, m.group) == 0) continue;
      ++m.observations_with_group_ticks;
      if (c != nullptr) sum_b += c->percent_of_group_ticks;
    }
    const auto nb = static_cast<double>(m.observations_with_group_ticks);
    m.mean_percent_of_intervals = n > 0 ? sum_a / n : 0.0;
    m.mean_percent_of_group_ticks = nb > 0 ? sum_b / nb : 0.0;
  }
  return out;
}

TallyRatingSummary summarize_tallies_and_ratings(std::span<const TallyEntry> tallies,
                                                 std::span<const RatingEntry> ratings,
                                                 std::span<const std::string> code_order,
                                                 std::span<const std::string> item_order) {
  TallyRatingSummary out;
  std::map<std::string, TallyStat> totals;
  for (const TallyEntry& t : tallies) {
    if (t.code.empty()) {
      ++out.ignored_entries;
      continue;
    }
    TallyStat& s = totals[t.code];
    s.code = t.code;
    s.total += t.amount;
  }
  std::map<std::string, RatingStat> stats;
  std::map<std::string, double> sums;
  for (const RatingEntry& r : ratings) {
    if (r.item.empty() || !std::isfinite(r.value)) {
      ++out.ignored_entries;
      continue;
    }
    RatingStat& s = stats[r.item];
    s.item = r.item;
    s.min = s.count == 0 ? r.value : std::min(s.min, r.value);
    s.max = s.count == 0 ? r.value : std::max(s.max, r.value);
    ++s.count;
    sums[r.item] += r.value;
  }
  for (auto& [item, s] : stats) s.mean = sums[item] / static_cast<double>(s.count);
  out.tallies = in_order(std::move(totals), &TallyStat::code, code_order);
  out.ratings = in_order(std::move(stats), &RatingStat::item, item_order);
  return out;
}

const CodeStat* IntervalSummary::find_code(std::string_view code) const {
  return find_by_code(codes, code);
}
const CategoryStat* IntervalSummary::find_category(std::string_view group,
                                                   std::string_view name) const {
  return find_by_name(categories, group, name);
}
const DerivedIntervalStat* IntervalSummary::find_derived(std::string_view name) const {
  for (const DerivedIntervalStat& d : derived) {
    if (d.name == name) return &d;
  }
  return nullptr;
}
const MeanCodeStat* MeanSummary::find_code(std::string_view code) const {
  return find_by_code(codes, code);
}
const MeanCategoryStat* MeanSummary::find_category(std::string_view group,
                                                   std::string_view name) const {
  return find_by_name(categories, group, name);
}

Json IntervalSummary::to_json() const {
  Json j = {{"interval_seconds", interval_seconds},
            {"interval_count", interval_count},
            {"ignored_entries", ignored_entries},
            {"clipped_entries", clipped_entries},
            {"codes", Json::array()},
            {"groups", Json::array()},
            {"categories", Json::array()}};
  for (const CodeStat& c : codes) {
    j["codes"].push_back({{"code", c.code},
                          {"group", c.group},
                          {"intervals", c.intervals},
                          {"percent_of_intervals", c.percent_of_intervals}});
  }
  for (const GroupStat& g : groups) j["groups"].push_back({{"group", g.group}, {"ticks", g.ticks}});
  for (const CategoryStat& c : categories) {
    j["categories"].push_back({{"name", c.name},
                               {"group", c.group},
                               {"intervals", c.intervals},
                               {"ticks", c.ticks},
                               {"percent_of_intervals", c.percent_of_intervals},
                               {"percent_of_group_ticks", c.percent_of_group_ticks}});
  }
  j["derived"] = Json::array();
  for (const DerivedIntervalStat& d : derived) {
    j["derived"].push_back({{"name", d.name},
                            {"codes", d.codes},
                            {"intervals", d.intervals},
                            {"percent_of_intervals", d.percent_of_intervals}});
  }
  j["timeline"] = Json::array();
  for (std::size_t k = 0; k < timeline.size(); ++k) {
    j["timeline"].push_back({{"interval", static_cast<std::int64_t>(k)}, {"codes", timeline[k]}});
  }
  j["timeline_truncated"] = timeline_truncated;
  return j;
}

Json MeanSummary::to_json() const {
  Json j = {{"observations", observations},
            {"observations_with_intervals", observations_with_intervals},
            {"codes", Json::array()},
            {"categories", Json::array()}};
  for (const MeanCodeStat& c : codes) {
    j["codes"].push_back({{"code", c.code},
                          {"group", c.group},
                          {"mean_percent_of_intervals", c.mean_percent_of_intervals}});
  }
  for (const MeanCategoryStat& c : categories) {
    j["categories"].push_back({{"name", c.name},
                               {"group", c.group},
                               {"mean_percent_of_intervals", c.mean_percent_of_intervals},
                               {"mean_percent_of_group_ticks", c.mean_percent_of_group_ticks},
                               {"observations_with_group_ticks", c.observations_with_group_ticks}});
  }
  return j;
}

Json TallyRatingSummary::to_json() const {
  Json j = {
      {"tallies", Json::array()}, {"ratings", Json::array()}, {"ignored_entries", ignored_entries}};
  for (const TallyStat& t : tallies) j["tallies"].push_back({{"code", t.code}, {"total", t.total}});
  for (const RatingStat& r : ratings) {
    j["ratings"].push_back(
        {{"item", r.item}, {"count", r.count}, {"mean", r.mean}, {"min", r.min}, {"max", r.max}});
  }
  return j;
}

}  // namespace tandem::summary
