// Cost of integrating remote inserts, measured with Document::work() (tree
// rotations and descents, comparisons, scanned runs): deterministic, so the
// growth is asserted without a clock. The case is issue 11's hostile change:
// N inserts between the same two characters, each from its own agent, in
// one apply(). With the old loop the work per insert grew with N (every
// insert passed the agents before it); it must grow like log N.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "tandem/core/text/sequence.hpp"

using tandem::Json;
using tandem::text::Document;

namespace {

enum class Order { kAscending, kDescending, kShuffled };

// Work per insert of a burst of n agents at one position.
double burst_work_per_insert(std::size_t n, Order order) {
  Document doc;
  REQUIRE(doc.insert("base", 0, "XY").ok());
  std::vector<std::size_t> agents(n);
  for (std::size_t i = 0; i < n; ++i) agents[i] = i;
  if (order == Order::kDescending) std::reverse(agents.begin(), agents.end());
  if (order == Order::kShuffled) std::shuffle(agents.begin(), agents.end(), std::mt19937_64(7));
  Json ops = Json::array();
  for (std::size_t a : agents) {
    char name[32];
    std::snprintf(name, sizeof name, "agent%08zu", a);
    ops.push_back(Json{{"op", "ins"},
                       {"id", Json::array({name, 0})},
                       {"left", Json::array({"base", 0})},
                       {"right", Json::array({"base", 1})},
                       {"text", "z"}});
  }
  const std::uint64_t before = doc.work();
  REQUIRE(doc.apply(ops).ok());
  REQUIRE(doc.size() == n + 2);
  return static_cast<double>(doc.work() - before) / static_cast<double>(n);
}

}  // namespace

TEST_CASE("text cost: a same-position burst costs O(log n) per insert", "[core][text]") {
  for (Order order : {Order::kAscending, Order::kDescending, Order::kShuffled}) {
    const double small = burst_work_per_insert(1000, order);
    const double large = burst_work_per_insert(16000, order);
    std::printf("text cost: order %d: %.1f steps/insert at 1k agents, %.1f at 16k\n",
                static_cast<int>(order), small, large);
    // log2(16000) / log2(1000) = 1.4; a cost linear in n would be 16 times.
    CHECK(large < 2.0 * small);
    // And small in absolute terms: a few dozen steps per level of the trees.
    CHECK(large < 60.0 * 14);
  }
}
