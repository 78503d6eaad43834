// Agreement between two observations: see agreement.hpp for the unit model,
// the formulas and the overall figures.
//
// Implementation note: presence is kept per code as merged inclusive ranges
// of units (unit_ranges.hpp, as summary.cpp keeps intervals), so the 2x2
// counts come from range lengths and one linear intersection per code, never
// from expanding N units.
#include "tandem/core/agreement.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "tandem/core/entries.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/core/templates.hpp"
#include "unit_ranges.hpp"

namespace tandem::agreement {
namespace {

using detail::length;
using detail::merged;
using detail::overlap;
using detail::Range;
using detail::Ranges;

// One observation reduced to units.
struct Placed {
  std::map<std::string, Ranges> present;  // merged, disjoint, sorted
  Side side;
};

Error too_long(const char* which) {
  return make_error(ErrorCode::kTooLong, std::string("the ") + which +
                                             " observation is longer than " +
                                             std::to_string(kMaxUnits) + " units");
}

// Ranges gathered per code, then merged; the side's length is set by caller.
Placed finish(std::map<std::string, Ranges> reached, Side side) {
  Placed p;
  for (auto& [code, ranges] : reached) p.present[code] = merged(std::move(ranges));
  p.side = side;
  return p;
}

Result<Placed> place_events(const Coding& c, const char* which) {
  Side side;
  auto accepted = [](const summary::Entry& e) {
    return !e.code.empty() && !(e.end && *e.end < e.at);
  };
  for (const summary::Entry& e : c.entries) {
    if (accepted(e) && (!side.first_event_ms || e.at < *side.first_event_ms)) {
      side.first_event_ms = e.at;
    }
  }
  std::map<std::string, Ranges> reached;
  std::int64_t end_unit = 0;  // one past the last unit reached
  for (const summary::Entry& e : c.entries) {
    if (!accepted(e)) {
      ++side.ignored_entries;
      continue;
    }
    std::int64_t off_at = 0;
    std::int64_t off_end = 0;  // ms after t0 where the event ends (exclusive)
    if (__builtin_sub_overflow(e.at, *side.first_event_ms, &off_at) || off_at >= kMaxUnits * 1000) {
      return too_long(which);
    }
    if (e.end && *e.end > e.at) {
      if (__builtin_sub_overflow(*e.end, *side.first_event_ms, &off_end)) return too_long(which);
    } else {
      off_end = off_at + 1;  // a point event: the unit containing it
    }
    const Range r{off_at / 1000, (off_end - 1) / 1000};
    if (r.last >= kMaxUnits) return too_long(which);
    reached[e.code].push_back(r);
    end_unit = std::max(end_unit, r.last + 1);
  }
  side.units = end_unit;
  return finish(std::move(reached), side);
}

Result<Placed> place_ticks(const Coding& c, const char* which) {
  Side side;
  if (c.interval_count && *c.interval_count > kMaxUnits) return too_long(which);
  std::map<std::string, Ranges> reached;
  std::int64_t end_unit = 0;
  for (const summary::Entry& e : c.entries) {
    if (e.code.empty() || e.interval < 0 || (c.interval_count && e.interval >= *c.interval_count)) {
      ++side.ignored_entries;
      continue;
    }
    if (e.interval >= kMaxUnits) return too_long(which);
    reached[e.code].push_back({e.interval, e.interval});
    end_unit = std::max(end_unit, e.interval + 1);
  }
  side.units = c.interval_count.value_or(end_unit);
  return finish(std::move(reached), side);
}

enum class Kind { kNone, kTicks, kEvents };

Result<Kind> kind_of(const Coding& c, const char* which) {
  bool ticks = false;
  bool events = false;
  for (const summary::Entry& e : c.entries) {
    (e.kind == summary::EntryKind::kTick ? ticks : events) = true;
  }
  if (ticks && events) {
    return make_error(ErrorCode::kInvalidValue,
                      std::string("the ") + which +
                          " observation mixes interval ticks and timed codes; agreement compares "
                          "one kind of coding");
  }
  return ticks ? Kind::kTicks : events ? Kind::kEvents : Kind::kNone;
}

// Every code compared, in the order agreement.hpp promises; capped.
Result<std::vector<CodeAgreement>> code_list(const Coding& first, const Coding& second) {
  std::vector<CodeAgreement> out;
  std::map<std::string, std::size_t> index;
  auto add = [&](const std::string& code) -> std::size_t {
    auto [it, fresh] = index.emplace(code, out.size());
    if (fresh) out.push_back(CodeAgreement{code, false, false, false, {}, {}});
    return it->second;
  };
  for (const std::string& code : first.template_codes) out[add(code)].in_first_template = true;
  for (const std::string& code : second.template_codes) out[add(code)].in_second_template = true;
  std::set<std::string> strays;
  for (const Coding* c : {&first, &second}) {
    for (const summary::Entry& e : c->entries) {
      if (!e.code.empty() && index.count(e.code) == 0) strays.insert(e.code);
      if (index.size() + strays.size() > kMaxCodes) break;
    }
  }
  for (const std::string& code : strays) add(code);
  if (out.size() > kMaxCodes) {
    return make_error(ErrorCode::kTooLong, "the observations have more than " +
                                               std::to_string(kMaxCodes) + " distinct codes");
  }
  return out;
}

double mean(double sum, std::int64_t n) { return sum / static_cast<double>(n); }

}  // namespace

Measures measures(const Counts& k) {
  Measures m;
  const std::int64_t n = k.units();
  if (n <= 0) {
    m.jaccard_undefined = m.kappa_undefined = m.percent_undefined = kNoUnits;
    return m;
  }
  m.percent_agreement = 100.0 * static_cast<double>(k.a + k.d) / static_cast<double>(n);
  if (k.a + k.b + k.c > 0) {
    m.jaccard = static_cast<double>(k.a) / static_cast<double>(k.a + k.b + k.c);
  } else {
    m.jaccard_undefined = kNeverPresent;
  }
  // Exact integers (each count <= kMaxUnits * kMaxCodes, products < 2^63):
  // the denominator is N^2 (1 - pe), zero exactly when pe = 1.
  const std::int64_t num = 2 * (k.a * k.d - k.b * k.c);
  const std::int64_t den = (k.a + k.b) * (k.b + k.d) + (k.a + k.c) * (k.c + k.d);
  if (den != 0) {
    m.kappa = static_cast<double>(num) / static_cast<double>(den);
  } else {
    m.kappa_undefined = kChanceIsOne;
  }
  return m;
}

Result<Agreement> compare(const Coding& first, const Coding& second) {
  auto k1 = kind_of(first, "first");
  if (!k1) return std::move(k1).error();
  auto k2 = kind_of(second, "second");
  if (!k2) return std::move(k2).error();
  if (*k1 == Kind::kNone && *k2 == Kind::kNone) {
    return make_error(ErrorCode::kInvalidValue, "neither observation has ticks or timed codes");
  }
  if (*k1 != Kind::kNone && *k2 != Kind::kNone && *k1 != *k2) {
    return make_error(ErrorCode::kInvalidValue,
                      std::string("one observation is interval-coded (ticks) and the other "
                                  "duration-coded (timed codes): ") +
                          (*k1 == Kind::kTicks ? "the first" : "the second") + " has ticks");
  }
  const bool ticks = *k1 == Kind::kTicks || *k2 == Kind::kTicks;
  Agreement out;
  if (ticks) {
    const std::int64_t s1 = first.interval_seconds;
    const std::int64_t s2 = second.interval_seconds;
    if (s1 > 0 && s2 > 0 && s1 != s2) {
      return make_error(ErrorCode::kInvalidValue,
                        "the interval lengths differ (" + std::to_string(s1) + " s and " +
                            std::to_string(s2) + " s): intervals do not correspond");
    }
    out.unit = Unit::kInterval;
    out.unit_seconds = s1 > 0 ? s1 : std::max<std::int64_t>(s2, 0);
  }
  auto codes = code_list(first, second);
  if (!codes) return std::move(codes).error();
  auto p1 = ticks ? place_ticks(first, "first") : place_events(first, "first");
  if (!p1) return std::move(p1).error();
  auto p2 = ticks ? place_ticks(second, "second") : place_events(second, "second");
  if (!p2) return std::move(p2).error();
  out.first = p1->side;
  out.second = p2->side;
  out.units = std::max(out.first.units, out.second.units);
  out.codes = std::move(codes).value();

  static const Ranges kNone;
  auto present = [](const Placed& p, const std::string& code) -> const Ranges& {
    auto it = p.present.find(code);
    return it == p.present.end() ? kNone : it->second;
  };
  Overall& all = out.overall;
  double sum_j = 0.0;
  double sum_k = 0.0;
  double sum_p = 0.0;
  for (CodeAgreement& c : out.codes) {
    const Ranges& x = present(*p1, c.code);
    const Ranges& y = present(*p2, c.code);
    Counts& k = c.counts;
    k.a = overlap(x, y);
    k.b = length(x) - k.a;
    k.c = length(y) - k.a;
    k.d = out.units - k.a - k.b - k.c;
    c.measures = measures(k);
    c.used = k.a + k.b + k.c > 0;
    if (!c.used) continue;
    ++all.codes;
    all.pooled.a += k.a;
    all.pooled.b += k.b;
    all.pooled.c += k.c;
    all.pooled.d += k.d;
    // A used code has N > 0 and a+b+c > 0: percent and Jaccard are defined.
    sum_p += *c.measures.percent_agreement;
    sum_j += *c.measures.jaccard;
    ++all.jaccard_codes;
    if (c.measures.kappa) {
      sum_k += *c.measures.kappa;
      ++all.kappa_codes;
    }
  }
  if (all.codes == 0) {
    all.measures.jaccard_undefined = all.measures.kappa_undefined = all.measures.percent_undefined =
        kNoCodeUsed;
  } else {
    all.measures = measures(all.pooled);
    all.mean_percent_agreement = mean(sum_p, all.codes);
    all.mean_jaccard = mean(sum_j, all.jaccard_codes);
    if (all.kappa_codes > 0) all.mean_kappa = mean(sum_k, all.kappa_codes);
  }
  return out;
}

const CodeAgreement* Agreement::find_code(std::string_view code) const {
  for (const CodeAgreement& c : codes) {
    if (c.code == code) return &c;
  }
  return nullptr;
}

}  // namespace tandem::agreement
