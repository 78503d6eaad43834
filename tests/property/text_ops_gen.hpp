// Making text ops for property tests: where random local inserts go, and
// forged ops — honest ops (as Document::insert and remove make them) mutated
// at random: origins swapped or pointed at other (possibly unknown) items,
// ids shifted, texts replaced.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tandem/core/change.hpp"

namespace tandem::text::testing {

// Where a random local insert goes in a text of `size` code points: the
// start, the end, the hot spot `hot` or anywhere, so that concurrent inserts
// at the same position are common.
inline std::size_t insert_position(std::mt19937_64& rng, std::size_t size, std::size_t hot) {
  switch (rng() % 4) {
    case 0:
      return 0;
    case 1:
      return size;
    case 2:
      return std::min(size, hot);
    default:
      return size ? rng() % (size + 1) : 0;
  }
}

// Mutates each op of `ops` (one op object each) in place, or leaves it;
// `random_text` supplies replacement texts. Deterministic for a given `rng`.
template <typename RandomText>
void forge_ops(std::mt19937_64& rng, std::vector<Json>& ops, RandomText random_text) {
  std::vector<Json> ids;  // every id mentioned anywhere
  for (const Json& op : ops) {
    if (op["op"] == "ins") ids.push_back(op["id"]);
  }
  auto random_id = [&]() -> Json {
    if (ids.empty() || rng() % 4 == 0) return nullptr;
    Json id = ids[rng() % ids.size()];
    id[1] = id[1].get<std::uint64_t>() + rng() % 3;
    return id;
  };
  for (Json& op : ops) {
    switch (rng() % 6) {
      case 0:
        break;
      case 1:
        if (op["op"] == "ins") std::swap(op["left"], op["right"]);
        break;
      case 2:
        if (op["op"] == "ins") op["left"] = random_id();
        break;
      case 3:
        if (op["op"] == "ins") op["right"] = random_id();
        break;
      case 4:
        if (op["op"] == "ins") {
          op["id"][1] = op["id"][1].get<std::uint64_t>() + rng() % 4;
        } else {
          op["ids"][0][1] = op["ids"][0][1].get<std::uint64_t>() + rng() % 4;
        }
        break;
      default:
        if (op["op"] == "ins") op["text"] = random_text();
        break;
    }
  }
}

}  // namespace tandem::text::testing
