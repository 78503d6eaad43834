// Merge marks in the Store (issue 16): two replicas that rewrite the same
// sentence of a log offline both show who was merged (Record::merged) until
// an edit or a confirmation on either settles it everywhere; concurrent
// rewrites of different sentences show nothing; the marks converge whatever
// order the changes arrive in.
#include <algorithm>
#include <catch2/catch.hpp>
#include <random>

#include "tandem/core/store.hpp"
#include "test_util.hpp"

using namespace tandem;
using tandem::test::ManualClock;
using tandem::test::TempDir;

namespace {

const std::string kLog = "Vi læste en bog. Så tegnede vi.";

struct Pair {
  TempDir dir;
  ManualClock clock_a, clock_b;
  std::string school;
  std::unique_ptr<Store> a, b;
  std::string session;
  Pair() {
    a = test::open_store_with_school(dir.file("a.db"), school, &clock_a);
    b = test::open_store(dir.file("b.db"), &clock_b);
    auto course = a->create("course", Json{{"kind", "co_teaching"}, {"title", "Dansk 4.b"}});
    REQUIRE(course.ok());
    auto s =
        a->create("session", Json{{"course", *course}, {"approach", "station"}, {"log", kLog}});
    REQUIRE(s.ok());
    session = *s;
    sync();
  }
  void sync() {
    test::exchange(*a, *b);
    test::exchange(*b, *a);
  }
  std::vector<std::string> merged(Store& s) {
    auto r = s.get(session);
    REQUIRE(r.ok());
    auto it = r->merged.find("log");
    return it == r->merged.end() ? std::vector<std::string>{} : it->second;
  }
  std::string log(Store& s) { return s.get(session)->fields.at("log").get<std::string>(); }
  void require_converged() {
    auto da = a->canonical_dump();
    auto db = b->canonical_dump();
    REQUIRE(da.ok());
    REQUIRE(db.ok());
    REQUIRE(*da == *db);
  }
  std::vector<std::string> both() {
    std::vector<std::string> sites = {a->site_id(), b->site_id()};
    std::sort(sites.begin(), sites.end());
    return sites;
  }
};

}  // namespace

TEST_CASE(
    "store: both rewrite the same sentence offline, both replicas show the merge until one "
    "confirms",
    "[core][merge][merge_marks]") {
  Pair p;
  REQUIRE(p.a->set(p.session, "log", "Vi læste et digt. Så tegnede vi.").ok());
  REQUIRE(p.b->set(p.session, "log", "Vi læste to bøger. Så tegnede vi.").ok());
  CHECK(p.merged(*p.a).empty());
  p.sync();
  p.require_converged();
  CHECK(p.merged(*p.a) == p.both());
  CHECK(p.merged(*p.b) == p.both());
  CHECK(p.a->get(p.session)->to_json()["merged"]["log"] == Json(p.both()));

  SECTION("an explicit confirmation") {
    REQUIRE(p.b->text_confirm(p.session, "log").ok());
    CHECK(p.merged(*p.b).empty());
    CHECK(p.merged(*p.a) == p.both());  // not synced yet
    p.sync();
    p.require_converged();
    CHECK(p.merged(*p.a).empty());
    CHECK(p.b->text_confirm(p.session, "log").error().code == ErrorCode::kNoConflict);
  }
  SECTION("an edit of the field") {
    const std::string before = p.log(*p.a);
    REQUIRE(p.a->text_insert(p.session, "log", 0, "I dag: ").ok());
    CHECK(p.merged(*p.a).empty());
    p.sync();
    p.require_converged();
    CHECK(p.merged(*p.b).empty());
    CHECK(p.log(*p.b) == "I dag: " + before);
  }
  SECTION("a whole-value set of the field") {
    REQUIRE(p.b->set(p.session, "log", "Vi læste et digt. Så tegnede vi.").ok());
    p.sync();
    p.require_converged();
    CHECK(p.merged(*p.a).empty());
  }
}

TEST_CASE("store: concurrent rewrites of different sentences show no merge",
          "[core][merge][merge_marks]") {
  Pair p;
  REQUIRE(p.a->set(p.session, "log", "Vi læste et digt. Så tegnede vi.").ok());
  REQUIRE(p.b->set(p.session, "log", "Vi læste en bog. Så malede vi.").ok());
  p.sync();
  p.require_converged();
  CHECK(p.log(*p.a) == "Vi læste et digt. Så malede vi.");
  CHECK(p.merged(*p.a).empty());
  CHECK(p.merged(*p.b).empty());
  CHECK_FALSE(p.a->get(p.session)->to_json().contains("merged"));
  CHECK(p.a->text_confirm(p.session, "log").error().code == ErrorCode::kNoConflict);
}

TEST_CASE("store: merge marks converge whatever order the changes arrive in",
          "[core][merge][merge_marks][order]") {
  // Three tablets rewrite overlapping parts offline; one more confirms what
  // it saw of two of them. Fresh replicas get every change, in random orders.
  TempDir dir;
  ManualClock clock;
  std::string school;
  auto origin = test::open_store_with_school(dir.file("origin.db"), school, &clock);
  auto course = origin->create("course", Json{{"kind", "co_teaching"}, {"title", "Dansk 4.b"}});
  REQUIRE(course.ok());
  auto session =
      origin->create("session", Json{{"course", *course}, {"approach", "station"}, {"log", kLog}});
  REQUIRE(session.ok());
  std::vector<std::unique_ptr<Store>> tablets;
  const char* rewrites[] = {"Vi læste et bog. Så tegnede vi.", "Vi læste to bøger. Så tegnede vi.",
                            "Vi læste en film. Så tegnede vi."};
  for (int i = 0; i < 3; ++i) {
    tablets.push_back(test::open_store(dir.file("t" + std::to_string(i) + ".db"), &clock));
    test::exchange(*origin, *tablets.back());
    REQUIRE(tablets.back()->set(*session, "log", rewrites[i]).ok());
  }
  // Tablet 0 sees tablet 1's rewrite (both rewrote the "n" of "en") and
  // confirms it.
  test::exchange(*tablets[1], *tablets[0]);
  REQUIRE(tablets[0]->text_confirm(*session, "log").ok());

  std::vector<Change> all;
  for (Store* s : {origin.get(), tablets[0].get(), tablets[1].get(), tablets[2].get()}) {
    auto changes = s->changes_since(0, 100000);
    REQUIRE(changes.ok());
    for (auto& c : *changes) all.push_back(c.change);
  }
  std::mt19937_64 rng(16);
  std::string reference;
  std::vector<std::string> expected;
  for (int round = 0; round < 6; ++round) {
    auto replica = test::open_store(dir.file("r" + std::to_string(round) + ".db"), &clock);
    std::vector<Change> order = all;
    if (round > 0) std::shuffle(order.begin(), order.end(), rng);
    for (const Change& c : order) REQUIRE(replica->apply(c).ok());
    auto dump = replica->canonical_dump();
    REQUIRE(dump.ok());
    if (round == 0) {
      reference = *dump;
      expected = replica->get(*session)->merged["log"];
    }
    INFO("round " << round);
    CHECK(*dump == reference);
  }
  // Tablet 2 rewrote "bog", which tablet 1 rewrote too: still open for
  // tablets 1 and 2 (tablet 0's confirmation covered only the "n").
  std::vector<std::string> open = {tablets[1]->site_id(), tablets[2]->site_id()};
  std::sort(open.begin(), open.end());
  CHECK(expected == open);
}
