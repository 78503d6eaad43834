// Sets of unit indices (intervals of a summary, seconds of an agreement) as
// sorted, disjoint, inclusive ranges: memory and work proportional to the
// entries that reached them, never to the units spanned. Private to core.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <vector>

namespace tandem::detail {

struct Range {
  std::int64_t first = 0;  // inclusive unit indices, first <= last
  std::int64_t last = 0;
};
using Ranges = std::vector<Range>;

// Sorts and merges overlapping or adjacent ranges, so they are disjoint.
Ranges merged(Ranges r);

// How many units disjoint ranges cover.
std::int64_t length(const Ranges& disjoint);

// How many units two disjoint, sorted range lists have in common.
std::int64_t overlap(const Ranges& x, const Ranges& y);

}  // namespace tandem::detail
