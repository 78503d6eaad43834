// A background window (EngineOptions::deadline, tandem_sync_options's
// deadline_ms): a tablet with 50,000 changes recorded offline syncs with a
// 2-second window against the real server. It stops in time, reports it,
// pushes before it pulls, loses nothing, and the next sync goes on where it
// stopped (no change sent twice beyond the one batch that may have been in
// flight at the deadline).
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>

#include "sync_fixture.hpp"

namespace tandem::test {

TEST_CASE("a sync given a 2 s window with 50k pending changes stops in time, loses nothing and resumes",
          "[e2e][sync][deadline][window]") {
  SyncWorld world;
  TempDir dir;
  Tablet tablet(dir.file("tablet.db"));
  tablet.enroll(world.base_url(), world.code_for(world.school.person));
  // Something to pull too: another tablet's changes wait on the server.
  Tablet other(dir.file("other.db"));
  other.enroll(world.base_url(), world.code_for(world.school.person));
  other.record_actions(20, "fra den anden tablet ");
  REQUIRE(other.sync(world.base_url()).ok());

  constexpr int kPending = 50'000;
  Store& store = tablet.store();
  auto course = store.create("course", Json{{"kind", "observation"}, {"title", "Observation 2.a"}});
  REQUIRE(course.ok());
  auto session = store.create("session", Json{{"course", *course}});
  REQUIRE(session.ok());
  REQUIRE(store
              .transaction([&]() -> Status {
                for (int i = 2; i < kPending; ++i) {
                  auto id = store.create("entry", Json{{"session", *session}, {"type", "tally"}, {"code", "Lec"},
                                                       {"count", 1}});
                  if (!id) return std::move(id).error();
                }
                return {};
              })
              .ok());
  REQUIRE(tablet.outbox_size() == kPending);

  sync::EngineOptions window = Tablet::fast_options();
  window.deadline = std::chrono::milliseconds(2000);
  const auto t0 = std::chrono::steady_clock::now();
  auto first = tablet.sync(world.base_url(), window);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::printf("background window: 2000 ms window, stopped after %lld ms, pushed %lld of %d, %lld requests\n",
              static_cast<long long>(took.count()), static_cast<long long>(first ? first->pushed : -1), kPending,
              static_cast<long long>(first ? first->requests : -1));
  INFO((first ? "" : first.error().message));
  REQUIRE(first.ok());
  // In time: the window plus what closing the sync costs, with a wide margin
  // for a slow CI machine.
  CHECK(took.count() < 2000 + 1000);
  CHECK(first->stopped_at_deadline);
  CHECK_FALSE(first->complete);
  CHECK(first->pushed > 0);
  CHECK(first->pulled == 0);  // push first: the outbox was not empty yet
  // Nothing lost: what was not acknowledged is still in the outbox.
  CHECK(first->pushed + tablet.outbox_size() == kPending);

  // The next syncs (no window) go on from there and finish.
  std::int64_t pushed = first->pushed, duplicates = 0, pulled = 0;
  for (int round = 0; round < 5 && tablet.outbox_size() > 0; ++round) {
    auto next = tablet.sync(world.base_url());
    REQUIRE(next.ok());
    pushed += next->pushed;
    duplicates += next->duplicates;
    pulled += next->pulled;
  }
  CHECK(tablet.outbox_size() == 0);
  CHECK(pushed == kPending);
  // Only a batch cut at the deadline may be sent twice (answered as duplicates).
  CHECK(duplicates <= static_cast<std::int64_t>(Tablet::fast_options().push_batch));
  CHECK(pulled >= 20);  // the other tablet's actions arrived once the outbox was out

  // The server has every change exactly once.
  const auto sequence = server_sequence(world);
  CHECK(distinct_hlcs(sequence).size() == sequence.size());
  std::int64_t entries = 0;
  for (const auto& row : sequence) entries += row.at("change").value("kind", "") == "entry" ? 1 : 0;
  CHECK(entries == kPending - 2);
}

}  // namespace tandem::test

namespace tandem::test {

TEST_CASE("a cancelled sync stops before its next request, keeps what was done and resumes",
          "[e2e][sync][cancel]") {
  SyncWorld world;
  TempDir dir;
  Tablet tablet(dir.file("tablet.db"));
  tablet.enroll(world.base_url(), world.code_for(world.school.person));
  tablet.record_actions(1200, "opfølgning ");
  auto curl = curl_to(world.base_url());
  ScriptedTransport counted(*curl);
  sync::EngineOptions o = Tablet::fast_options();
  o.push_batch = 100;
  o.cancelled = [&counted] { return counted.bodies.size() >= 3; };  // the user taps "stop"
  auto stopped = tablet.sync(counted, o);
  REQUIRE_FALSE(stopped.ok());
  CHECK(stopped.error().code == ErrorCode::kCancelled);
  CHECK(counted.bodies.size() == 3);  // no request after the cancel
  CHECK(tablet.outbox_size() == 1200 - 300);
  auto resumed = tablet.sync(world.base_url());
  REQUIRE(resumed.ok());
  CHECK(resumed->complete);
  CHECK(resumed->pushed == 900);
  CHECK(resumed->duplicates == 0);
}

}  // namespace tandem::test
