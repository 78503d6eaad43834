// Recovery paths of the engine: a database restored from a backup (its
// mutation ids are behind the server's), and a server that cannot be
// reached (bounded retries with exponential backoff and jitter, nothing lost).
#include <filesystem>

#include <catch2/catch.hpp>

#include "sync_fixture.hpp"

namespace tandem::test {

TEST_CASE("a database restored from a backup re-batches above the server's mutation id",
          "[e2e][sync][restore]") {
  SyncWorld world;
  TempDir dir;
  const std::string path = dir.file("a.db");
  const std::string backup = dir.file("backup.db");
  auto a = std::make_unique<Tablet>(path);
  world.enroll(*a);
  a->record_actions(10, "a");
  a->close();
  std::filesystem::copy_file(path, backup);  // closed cleanly: the WAL is checkpointed
  a->reopen();
  auto first = a->sync(world.base_url());
  REQUIRE(first.ok());
  CHECK(first->accepted == 10);
  a->close();

  // The tablet is restored from the backup: the 10 changes are back in its
  // outbox and its last mutation id is 0 again; then it records 5 more.
  std::filesystem::copy_file(backup, path, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  a->reopen();
  REQUIRE(a->outbox_size() == 10);
  a->record_actions(5, "b");
  auto again = a->sync(world.base_url());
  INFO("sync: " << (again ? "" : again.error().message));
  REQUIRE(again.ok());
  CHECK(again->complete);
  CHECK(again->duplicates == 10);
  CHECK(again->accepted == 5);
  CHECK(a->outbox_size() == 0);
  const auto on_server = distinct_hlcs(server_sequence(world));
  CHECK(on_server == local_hlcs(a->store()));
}

TEST_CASE("an unreachable server: bounded retries with growing, jittered waits, the outbox is kept",
          "[e2e][sync][backoff]") {
  SyncWorld world;
  TempDir dir;
  Tablet a(dir.file("a.db"));
  world.enroll(a);
  REQUIRE(a.store().create("action", Json{{"text", "venter"}}).ok());
  const int port = world.server->port();
  world.server->terminate();

  std::vector<std::chrono::milliseconds> waits;
  std::vector<sync::SyncProgress> retries;
  sync::EngineOptions o;
  o.retry.max_attempts = 6;
  o.retry.initial_backoff = std::chrono::milliseconds(100);
  o.retry.max_backoff = std::chrono::milliseconds(1000);
  auto transport = curl_to("http://127.0.0.1:" + std::to_string(port), std::chrono::milliseconds(2000));
  std::uint64_t r = 0;
  sync::SyncEngine engine(
      a.store(), *transport, a.clock(), [&](std::chrono::milliseconds d) { waits.push_back(d); },
      [&r] { return r += 0x9e3779b97f4a7c15ULL; }, o);
  auto result = engine.sync([&](const sync::SyncProgress& p) {
    if (p.phase == sync::SyncProgress::Phase::kRetrying) retries.push_back(p);
  });
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().code == ErrorCode::kNetwork);
  REQUIRE(waits.size() == 5);
  REQUIRE(retries.size() == 5);
  // Equal jitter: wait n is in [base_n / 2, base_n], base_n = 100 ms * 2^(n-1), capped at 1 s.
  const std::int64_t bases[] = {100, 200, 400, 800, 1000};
  for (std::size_t i = 0; i < waits.size(); ++i) {
    CHECK(waits[i].count() >= bases[i] / 2);
    CHECK(waits[i].count() <= bases[i]);
    CHECK(retries[i].attempt == static_cast<int>(i) + 1);
  }
  CHECK(a.outbox_size() == 1);
  CHECK(engine.last_summary().retries == 5);
}

}  // namespace tandem::test
