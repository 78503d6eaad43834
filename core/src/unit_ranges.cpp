#include "unit_ranges.hpp"

#include <algorithm>

namespace tandem::detail {

Ranges merged(Ranges r) {
  std::sort(r.begin(), r.end(), [](const Range& a, const Range& b) { return a.first < b.first; });
  Ranges out;
  for (const Range& x : r) {
    if (!out.empty() && x.first <= out.back().last + 1) {
      out.back().last = std::max(out.back().last, x.last);
    } else {
      out.push_back(x);
    }
  }
  return out;
}

std::int64_t length(const Ranges& disjoint) {
  std::int64_t n = 0;
  for (const Range& x : disjoint) n += x.last - x.first + 1;
  return n;
}

std::int64_t overlap(const Ranges& x, const Ranges& y) {
  std::int64_t n = 0;
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < x.size() && j < y.size()) {
    const std::int64_t lo = std::max(x[i].first, y[j].first);
    const std::int64_t hi = std::min(x[i].last, y[j].last);
    if (lo <= hi) n += hi - lo + 1;
    // The range ending first can meet nothing further in the other list.
    if (x[i].last < y[j].last) {
      ++i;
    } else {
      ++j;
    }
  }
  return n;
}

}  // namespace tandem::detail
