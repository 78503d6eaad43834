// The merge rules of SYNC.md, rule by rule, with the edge cases.
#include <catch2/catch.hpp>

#include "tandem/core/store.hpp"
#include "test_util.hpp"

using namespace tandem;
using tandem::test::ManualClock;
using tandem::test::TempDir;

namespace {

struct Pair {
  TempDir dir;
  ManualClock clock_a, clock_b;
  std::string school;
  std::unique_ptr<Store> a, b;
  Pair() {
    a = test::open_store_with_school(dir.file("a.db"), school, &clock_a);
    b = test::open_store(dir.file("b.db"), &clock_b);
    test::exchange(*a, *b);
    REQUIRE(b->set_default_school(school).ok());
  }
  void sync() {
    test::exchange(*a, *b);
    test::exchange(*b, *a);
  }
  void require_converged() {
    auto da = a->canonical_dump();
    auto db = b->canonical_dump();
    REQUIRE(da.ok());
    REQUIRE(db.ok());
    REQUIRE(*da == *db);
  }
};

std::string make_course(Store& s, const char* title = "Forløb") {
  auto id = s.create("course", Json{{"kind", "co_teaching"}, {"title", title}});
  REQUIRE(id.ok());
  return *id;
}

}  // namespace

TEST_CASE("concurrent edits of different fields both survive without conflict", "[core][merge]") {
  Pair p;
  auto id = make_course(*p.a);
  p.sync();
  REQUIRE(p.a->set(id, "title", "Ny titel").ok());
  REQUIRE(p.b->set(id, "status", "active").ok());
  p.sync();
  p.require_converged();
  auto r = p.a->get(id);
  CHECK(r->fields["title"] == "Ny titel");
  CHECK(r->fields["status"] == "active");
  CHECK(r->conflicts.empty());
}

TEST_CASE("concurrent edits of one field: deterministic winner, loser kept as conflict", "[core][merge]") {
  Pair p;
  auto id = make_course(*p.a);
  p.sync();
  p.clock_a.advance(10);
  p.clock_b.advance(20);  // b writes later in wall time: b wins
  REQUIRE(p.a->set(id, "title", "Version A").ok());
  REQUIRE(p.b->set(id, "title", "Version B").ok());
  p.sync();
  p.require_converged();
  auto r = p.a->get(id);
  CHECK(r->fields["title"] == "Version B");
  REQUIRE(r->conflicts.size() == 1);
  CHECK(r->conflicts[0].field == "title");
  CHECK(r->conflicts[0].value == "Version A");
}

TEST_CASE("sequential overwrites leave no conflict", "[core][merge]") {
  Pair p;
  auto id = make_course(*p.a);
  p.sync();
  REQUIRE(p.a->set(id, "title", "1").ok());
  p.sync();
  p.clock_b.advance(5);
  REQUIRE(p.b->set(id, "title", "2").ok());
  p.sync();
  p.require_converged();
  auto r = p.a->get(id);
  CHECK(r->fields["title"] == "2");
  CHECK(r->conflicts.empty());
}

TEST_CASE("a conflict is cleared by a later sequential overwrite and by resolve", "[core][merge]") {
  Pair p;
  auto id = make_course(*p.a);
  p.sync();
  REQUIRE(p.a->set(id, "title", "A").ok());
  REQUIRE(p.b->set(id, "title", "B").ok());
  p.sync();
  REQUIRE(p.a->get(id)->conflicts.size() == 1);
  SECTION("overwrite by a device that saw both values") {
    REQUIRE(p.b->set(id, "title", "C").ok());
  }
  SECTION("explicit resolve") {
    REQUIRE(p.b->resolve(id, "title", "A").ok());
  }
  p.sync();
  p.require_converged();
  CHECK(p.a->get(id)->conflicts.empty());
  CHECK(p.b->resolve(id, "title", "x").error().code == ErrorCode::kNoConflict);
}

TEST_CASE("a device that had not seen a conflict keeps it open when it overwrites", "[core][merge]") {
  Pair p;
  TempDir dir;
  ManualClock clock_c;
  auto c = test::open_store(dir.file("c.db"), &clock_c);
  auto id = make_course(*p.a);
  p.sync();
  test::exchange(*p.a, *c);
  REQUIRE(p.a->set(id, "title", "A").ok());
  REQUIRE(p.b->set(id, "title", "B").ok());
  test::exchange(*p.b, *c);
  clock_c.advance(100);
  REQUIRE(c->set(id, "title", "C").ok());  // saw B only
  p.sync();
  test::exchange(*c, *p.a);
  test::exchange(*p.a, *c);
  auto r = c->get(id);
  CHECK(r->fields["title"] == "C");
  REQUIRE(r->conflicts.size() == 1);
  CHECK(r->conflicts[0].value == "A");
  CHECK(*c->canonical_dump() == *p.a->canonical_dump());
}

TEST_CASE("set fields merge per element", "[core][merge]") {
  Pair p;
  auto id = make_course(*p.a);
  auto anna = p.a->create("person", Json{{"name", "Anna"}, {"role", "teacher"}});
  auto bo = p.a->create("person", Json{{"name", "Bo"}, {"role", "teacher"}});
  p.sync();
  REQUIRE(p.a->add(id, "participants", *anna).ok());
  REQUIRE(p.b->add(id, "participants", *bo).ok());
  p.sync();
  p.require_converged();
  CHECK(p.a->get(id)->fields["participants"].size() == 2);
  // concurrent remove (a) and re-add (b, later) of the same element: later stamp wins
  REQUIRE(p.a->remove(id, "participants", *anna).ok());
  p.clock_b.advance(50);
  REQUIRE(p.b->add(id, "participants", *anna).ok());
  p.sync();
  p.require_converged();
  CHECK(p.a->get(id)->fields["participants"].size() == 2);
}

TEST_CASE("delete is final: a concurrent update does not resurrect", "[core][merge]") {
  Pair p;
  auto id = make_course(*p.a);
  p.sync();
  REQUIRE(p.a->delete_record(id).ok());
  p.clock_b.advance(1000);
  REQUIRE(p.b->set(id, "title", "later edit").ok());
  p.sync();
  p.require_converged();
  auto r = p.b->get(id);
  CHECK_FALSE(r->deleted.empty());
  CHECK(p.b->list("course")->empty());
}

TEST_CASE("equal physical time is ordered by counter and site", "[core][merge][hlc]") {
  Pair p;
  p.clock_b.set(p.clock_a.now_ms());
  auto id = make_course(*p.a);
  p.sync();
  p.clock_a.set(p.clock_b.now_ms() + 1000);
  p.clock_b.set(p.clock_a.now_ms());
  REQUIRE(p.a->set(id, "title", "A").ok());
  REQUIRE(p.b->set(id, "title", "B").ok());
  p.sync();
  p.require_converged();
  const std::string expected = p.a->site_id() > p.b->site_id() ? "A" : "B";
  CHECK(p.a->get(id)->fields["title"] == expected);
}

TEST_CASE("a stamp far ahead of local time is refused and changes nothing", "[core][merge][hlc]") {
  Pair p;
  TempDir dir;
  ManualClock future(p.clock_a.now_ms() + 3LL * 365 * 24 * 3600 * 1000);  // three years ahead
  auto f = test::open_store(dir.file("f.db"), &future);
  test::exchange(*p.a, *f);
  REQUIRE(f->set_default_school(p.school).ok());
  auto id = f->create("course", Json{{"kind", "guidance"}, {"title", "from the future"}});
  REQUIRE(id.ok());
  auto before = p.a->canonical_dump();
  auto changes = f->outbox(10);
  auto r = p.a->apply(changes->front().change);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kClockSkew);
  CHECK(*p.a->canonical_dump() == *before);
  // the receiving clock was not dragged forward
  auto own = p.a->create("course", Json{{"kind", "guidance"}, {"title", "now"}});
  REQUIRE(own.ok());
  CHECK(p.a->clock().last().ms < p.clock_a.now_ms() + 1000);
}

TEST_CASE("receiving a change advances the clock past it", "[core][hlc]") {
  Pair p;
  p.clock_b.advance(60'000);  // b is a minute ahead (within bounds)
  auto id = make_course(*p.b);
  test::exchange(*p.b, *p.a);
  REQUIRE(p.a->set(id, "title", "after").ok());
  auto ob = p.a->outbox(100);
  CHECK(ob->back().change.hlc > p.b->clock().last());
}

TEST_CASE("applying is idempotent and order-independent", "[core][merge]") {
  Pair p;
  auto id = make_course(*p.a);
  REQUIRE(p.a->set(id, "title", "x").ok());
  REQUIRE(p.a->add(id, "tags", "a").ok());
  auto changes = p.a->changes_since(0, 1000);
  TempDir dir;
  auto c = test::open_store(dir.file("c.db"));
  for (auto it = changes->rbegin(); it != changes->rend(); ++it) REQUIRE(c->apply(it->change).ok());
  for (const auto& lc : *changes) CHECK(*c->apply(lc.change) == ApplyOutcome::kDuplicate);
  CHECK(*c->canonical_dump() == *p.a->canonical_dump());
}

TEST_CASE("purge erases content and history everywhere, even against a concurrent update",
          "[core][merge][purge]") {
  Pair p;
  const std::string canary = "CANARY-Mikkel-har-ondt-i-maven-7f3a";
  auto child = p.a->create("child", Json{{"pseudonym", "M.K."}});
  REQUIRE(child.ok());
  REQUIRE(p.a->set(*child, "pseudonym", canary).ok());
  p.sync();
  REQUIRE(p.a->purge(*child).ok());
  p.clock_b.advance(500);
  REQUIRE(p.b->set(*child, "pseudonym", canary + "-b").ok());  // concurrent update
  p.sync();
  p.require_converged();
  for (Store* s : {p.a.get(), p.b.get()}) {
    auto r = s->get(*child);
    REQUIRE(r.ok());
    CHECK_FALSE(r->purged.empty());
    CHECK(r->fields.empty());
    auto ch = s->changes_since(0, 100000);
    for (const auto& lc : *ch) CHECK(lc.change.to_json().dump().find(canary) == std::string::npos);
    CHECK(*s->outbox_size() >= 0);
  }
  // Nothing of the purged text remains in the database file or its WAL.
  p.a.reset();
  p.b.reset();
  for (const char* f : {"a.db", "b.db"}) {
    INFO(f);
    CHECK(test::occurrences(p.dir.file(f), canary) == 0);  // db, -wal, -journal
  }
}
