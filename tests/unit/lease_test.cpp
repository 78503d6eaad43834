// The offline lease (core/lease.hpp), on a hand-moved clock: expiry locks
// the records that name a child (and only those), writes keep working, a
// confirmed contact unlocks at once, a clock set back does not extend the
// lease (also across a restart), a clock that was fast at the sync does not
// trigger it.
#include "tandem/core/lease.hpp"

#include <catch2/catch.hpp>

#include "tandem/core/store.hpp"
#include "test_util.hpp"

using namespace tandem;
using tandem::test::ManualClock;
using tandem::test::TempDir;

namespace {

constexpr std::int64_t kLease = 30 * kDayMs;

struct World {
  TempDir dir;
  ManualClock clock;
  std::string school;
  std::unique_ptr<Store> s = test::open_store_with_school(dir.file("t.db"), school, &clock);
  std::string child, course, plain;
  World() {
    child = s->create("child", Json{{"pseudonym", "Anton"}}).value();
    course = s->create("course",
                       Json{{"kind", "observation"}, {"title", "Læsning"}, {"children", {child}}})
                 .value();
    plain = s->create("action", Json{{"text", "ring til forældre"}}).value();
    REQUIRE(s->confirm_offline_lease(clock.now_ms(), kLease).ok());
  }
  void reopen() {
    s.reset();
    s = test::open_store(dir.file("t.db"), &clock);
  }
  ErrorCode read(const std::string& id) {
    auto r = s->get(id);
    return r ? ErrorCode::kOk : r.error().code;
  }
};

}  // namespace

TEST_CASE("lease: expiry locks child-linked reads only, writes go on, a sync unlocks",
          "[core][lease]") {
  World w;
  w.clock.advance(kLease - 60'000);
  CHECK(w.read(w.child) == ErrorCode::kOk);
  w.clock.advance(2 * 60'000);  // one minute past the lease
  auto l = w.s->offline_lease();
  REQUIRE(l.ok());
  WARN("lease " << l->lease_ms / kDayMs << " days, elapsed " << (l->now_ms - l->anchor_ms) / 1000
                << " s past the anchor");
  CHECK(l->expired);
  CHECK(w.read(w.child) == ErrorCode::kLeaseExpired);
  CHECK(w.read(w.course) == ErrorCode::kLeaseExpired);
  CHECK(w.read(w.plain) == ErrorCode::kOk);
  auto all = w.s->list("course");
  CHECK((!all && all.error().code == ErrorCode::kLeaseExpired));
  // Writing still works, a note about the child included.
  auto note = w.s->create("action", Json{{"text", "skrevet offline"}});
  CHECK(note.ok());
  CHECK(w.s->set(w.course, "title", "Læsning 2").ok());
  // The server confirms the device: unlocked at once.
  REQUIRE(w.s->confirm_offline_lease(w.clock.now_ms(), std::nullopt).ok());
  CHECK(w.read(w.course) == ErrorCode::kOk);
  CHECK(w.s->get(w.course)->fields["title"] == "Læsning 2");
}

TEST_CASE("lease: setting the clock back does not extend it, across a restart too",
          "[core][lease]") {
  World w;
  w.clock.advance(20 * kDayMs);
  REQUIRE(w.s->offline_lease()->now_ms - w.s->offline_lease()->anchor_ms == 20 * kDayMs);
  w.clock.advance(-19 * kDayMs);  // set back to day 1, then a restart
  w.reopen();
  // Time already counted is not given back: still day 20 on the lease's clock.
  CHECK(w.s->offline_lease()->now_ms - w.s->offline_lease()->anchor_ms >= 20 * kDayMs);
  w.clock.advance(30 * kDayMs);  // the wall clock passes it again: day 31
  CHECK(w.read(w.child) == ErrorCode::kLeaseExpired);
  w.clock.advance(-30 * kDayMs);  // back to day 1 once more: still locked
  w.reopen();
  CHECK(w.read(w.child) == ErrorCode::kLeaseExpired);
}

TEST_CASE("lease: a clock fast at the sync does not trigger it, a jump forward offline does",
          "[core][lease]") {
  World w;
  // The device's clock runs 40 days ahead of the server's when it syncs.
  const std::int64_t server_now = w.clock.now_ms();
  w.clock.advance(40 * kDayMs);
  REQUIRE(w.s->confirm_offline_lease(server_now, kLease).ok());
  CHECK(w.read(w.child) == ErrorCode::kOk);
  w.clock.advance(29 * kDayMs);
  CHECK(w.read(w.child) == ErrorCode::kOk);
  // Offline, the clock jumps 2 days forward: that counts (locks early, safe).
  w.clock.advance(2 * kDayMs);
  CHECK(w.read(w.child) == ErrorCode::kLeaseExpired);
}

TEST_CASE("lease: a store that never synced has no lease and never locks", "[core][lease]") {
  TempDir dir;
  ManualClock clock;
  std::string school;
  auto s = test::open_store_with_school(dir.file("t.db"), school, &clock);
  auto child = s->create("child", Json{{"pseudonym", "Bo"}});
  REQUIRE(child.ok());
  clock.advance(1000 * kDayMs);
  CHECK(s->get(*child).ok());
}
