// Share of time for duration-coded observations: see summary.hpp, "Time
// model" and "Time timeline".
//
// Implementation note: a code's ranges are sorted and merged once; groups,
// categories and derived measures take the union of their codes' merged
// ranges. The timeline is one sweep over the sorted starts and ends, so the
// work is O(n log n) in the entries whatever their time spans.
#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "tandem/core/summary.hpp"
#include "unit_ranges.hpp"

namespace tandem::summary {
namespace {

// A code's time as inclusive ranges of milliseconds: the half-open
// [lo, hi) is {lo, hi - 1} (spans here are never empty).
using Spans = detail::Ranges;

double percent_of(std::int64_t part, std::int64_t whole) {
  return whole > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

// The union length of several codes' merged spans.
std::int64_t union_of(const std::vector<std::string>& codes,
                      const std::map<std::string, Spans>& merged) {
  Spans all;
  for (const std::string& code : codes) {
    auto it = merged.find(code);
    if (it != merged.end()) all.insert(all.end(), it->second.begin(), it->second.end());
  }
  return detail::length(detail::merged(std::move(all)));
}

const TimeStat* find_stat(const std::vector<TimeStat>& v, std::string_view code,
                          std::string_view group, std::string_view name) {
  for (const TimeStat& s : v) {
    if (s.code == code && s.group == group && s.name == name) return &s;
  }
  return nullptr;
}

// Segments of [0, observed) cut at every start and end; codes in `order`.
void build_timeline(TimeSummary& out, const std::map<std::string, Spans>& merged) {
  std::vector<std::pair<std::int64_t, std::size_t>> starts, ends;  // (offset, code index)
  std::int64_t cells = 0;
  for (std::size_t i = 0; i < out.codes.size(); ++i) {
    auto it = merged.find(out.codes[i].code);
    if (it == merged.end()) continue;
    for (const detail::Range& x : it->second) {
      starts.push_back({x.first - out.started_at, i});
      ends.push_back({x.last + 1 - out.started_at, i});
    }
  }
  std::sort(starts.begin(), starts.end());
  std::sort(ends.begin(), ends.end());
  std::vector<std::int64_t> cuts = {0, out.observed_ms};
  for (const auto& s : starts) cuts.push_back(s.first);
  for (const auto& e : ends) cuts.push_back(e.first);
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());

  // Merged spans of one code are disjoint, so a code is active or not.
  std::vector<char> active(out.codes.size(), 0);
  std::size_t si = 0, ei = 0;
  for (std::size_t c = 0; c + 1 < cuts.size(); ++c) {
    const std::int64_t from = cuts[c];
    for (; ei < ends.size() && ends[ei].first <= from; ++ei) active[ends[ei].second] = 0;
    for (; si < starts.size() && starts[si].first <= from; ++si) active[starts[si].second] = 1;
    std::vector<std::string> codes;
    for (std::size_t i = 0; i < active.size(); ++i) {
      if (active[i]) codes.push_back(out.codes[i].code);
    }
    if (!out.timeline.empty() && out.timeline.back().codes == codes) {
      out.timeline.back().to_ms = cuts[c + 1];
      continue;
    }
    cells += static_cast<std::int64_t>(codes.size()) + 1;
    if (cells > kMaxTimelineCells) {
      out.timeline.clear();
      out.timeline_truncated = true;
      return;
    }
    out.timeline.push_back({from, cuts[c + 1], std::move(codes)});
  }
}

}  // namespace

Result<TimeSummary> summarize_time(const Observation& obs, const CodingScheme& scheme) {
  if (obs.ended_at && *obs.ended_at < obs.started_at) {
    return make_error(ErrorCode::kInvalidValue, "ended_at is before started_at");
  }
  TimeSummary out;
  out.started_at = obs.started_at;
  // The window's end: the session's, else the latest time an entry names.
  std::int64_t end = obs.started_at;
  if (obs.ended_at) {
    end = *obs.ended_at;
  } else {
    for (const Entry& e : obs.entries) {
      if (e.kind != EntryKind::kEvent || e.code.empty()) continue;
      const std::int64_t last = e.end && *e.end > e.at ? *e.end : e.at;
      end = std::max(end, last);
    }
  }
  // [start, end) in ms: end - start may not overflow (two valid timestamps
  // far apart): observed lengths stay below 2^62 ms.
  if (__builtin_sub_overflow(end, obs.started_at, &out.observed_ms)) {
    return make_error(ErrorCode::kInvalidValue, "observation is too long");
  }

  std::map<std::string, Spans> spans;
  std::map<std::string, std::int64_t> counts;
  for (const Entry& e : obs.entries) {
    if (e.kind != EntryKind::kEvent || e.code.empty() || (e.end && *e.end < e.at)) {
      ++out.ignored_entries;
      continue;
    }
    if (!e.end || *e.end == e.at) {  // a point: no time, but it happened
      if (e.at < obs.started_at || e.at > end) {
        ++out.ignored_entries;
      } else {
        ++counts[e.code];
      }
      continue;
    }
    const std::int64_t lo = std::max(e.at, obs.started_at);
    const std::int64_t hi = std::min(*e.end, end);
    if (hi <= lo) {
      ++out.ignored_entries;
      continue;
    }
    if (lo != e.at || hi != *e.end) ++out.clipped_entries;
    ++counts[e.code];
    spans[e.code].push_back({lo, hi - 1});
  }
  std::map<std::string, Spans> merged;
  for (auto& [code, s] : spans) merged[code] = detail::merged(std::move(s));

  std::set<std::string> known;
  auto stat_of = [&](const std::string& code, const std::string& group) {
    auto m = merged.find(code);
    const std::int64_t ms = m == merged.end() ? 0 : detail::length(m->second);
    auto c = counts.find(code);
    return TimeStat{code, group, "", c == counts.end() ? 0 : c->second, ms,
                    percent_of(ms, out.observed_ms)};
  };
  std::vector<std::string> group_order;
  std::map<std::string, std::vector<std::string>> codes_of_group;
  for (const CodeDef& c : scheme.codes) {
    if (!known.insert(c.code).second) continue;
    out.codes.push_back(stat_of(c.code, c.group));
    if (codes_of_group.count(c.group) == 0) group_order.push_back(c.group);
    codes_of_group[c.group].push_back(c.code);
  }
  for (const auto& [code, n] : counts) {
    if (known.count(code) == 0) out.codes.push_back(stat_of(code, ""));
  }
  for (const std::string& g : group_order) {
    const std::int64_t ms = union_of(codes_of_group[g], merged);
    out.groups.push_back({"", g, "", 0, ms, percent_of(ms, out.observed_ms)});
  }
  for (const Category& cat : scheme.categories) {
    const std::int64_t ms = union_of(cat.codes, merged);
    out.categories.push_back({"", cat.group, cat.name, 0, ms, percent_of(ms, out.observed_ms)});
  }
  for (const DerivedMeasure& m : derived_measures(scheme)) {
    const std::int64_t ms = union_of(m.codes, merged);
    out.derived.push_back({"", "", m.name, 0, ms, percent_of(ms, out.observed_ms)});
  }
  build_timeline(out, merged);
  return out;
}

const TimeStat* TimeSummary::find_code(std::string_view code) const {
  for (const TimeStat& s : codes) {
    if (s.code == code) return &s;
  }
  return nullptr;
}
const TimeStat* TimeSummary::find_group(std::string_view group) const {
  return find_stat(groups, "", group, "");
}
const TimeStat* TimeSummary::find_category(std::string_view group, std::string_view name) const {
  return find_stat(categories, "", group, name);
}
const TimeStat* TimeSummary::find_derived(std::string_view name) const {
  return find_stat(derived, "", "", name);
}

Json TimeSummary::to_json() const {
  Json j = {{"observed_ms", observed_ms},
            {"ignored_entries", ignored_entries},
            {"clipped_entries", clipped_entries},
            {"codes", Json::array()},
            {"groups", Json::array()},
            {"categories", Json::array()},
            {"derived", Json::array()},
            {"timeline", Json::array()},
            {"timeline_truncated", timeline_truncated}};
  for (const TimeStat& c : codes) {
    j["codes"].push_back({{"code", c.code},
                          {"group", c.group},
                          {"entries", c.entries},
                          {"ms", c.ms},
                          {"percent_of_time", c.percent_of_time}});
  }
  for (const TimeStat& g : groups) {
    j["groups"].push_back({{"group", g.group}, {"ms", g.ms}, {"percent_of_time", g.percent_of_time}});
  }
  for (const TimeStat& c : categories) {
    j["categories"].push_back({{"name", c.name},
                               {"group", c.group},
                               {"ms", c.ms},
                               {"percent_of_time", c.percent_of_time}});
  }
  for (const TimeStat& d : derived) {
    j["derived"].push_back({{"name", d.name}, {"ms", d.ms}, {"percent_of_time", d.percent_of_time}});
  }
  for (const Segment& s : timeline) {
    j["timeline"].push_back({{"from_ms", s.from_ms}, {"to_ms", s.to_ms}, {"codes", s.codes}});
  }
  return j;
}

}  // namespace tandem::summary
