// Network faults between the real engine and the real server, injected by a
// seeded TCP proxy: requests cut before the server saw them whole, answers
// cut after the server applied the push, answers delayed past the client's
// timeout. Every outcome-unknown is retried under the same mutation id and
// the tablets converge with every change on the server exactly once.
#include <catch2/catch.hpp>

#include "fault_proxy.hpp"
#include "sync_fixture.hpp"

namespace tandem::test {

TEST_CASE("connections cut mid-request and mid-response are retried to convergence", "[e2e][sync][faults]") {
  const std::uint64_t seed = GENERATE(11, 12);
  INFO("proxy seed " << seed);
  SyncWorld world;
  TempDir dir;
  Tablet a(dir.file("a.db"));
  Tablet b(dir.file("b.db"));
  world.enroll(a);
  b.enroll(world.base_url(), world.code_for(world.add_person("Bo", "resource_person")));
  REQUIRE(a.sync(world.base_url())->complete);
  REQUIRE(b.sync(world.base_url())->complete);
  auto write = [](Tablet& t, const std::string& who, int n) {
    REQUIRE(t.store()
                .transaction([&]() -> Status {
                  for (int i = 0; i < n; ++i) {
                    auto id = t.store().create("action", Json{{"text", who + " " + std::to_string(i)}});
                    if (!id) return id.error();
                    TANDEM_TRY(t.store().set(*id, "due", "2026-04-01"));
                  }
                  return {};
                })
                .ok());
  };
  write(a, "a", 300);
  write(b, "b", 200);

  FaultPlan plan;
  plan.seed = seed;
  plan.cut_request = 0.25;
  plan.cut_response = 0.35;
  plan.cut_bytes_max = 40 * 1024;
  FaultProxy proxy(world.server->port(), plan);
  auto ta = curl_to(proxy.url());
  auto tb = curl_to(proxy.url());
  sync::EngineOptions o = Tablet::fast_options();
  o.push_batch = 50;
  o.pull_limit = 100;
  o.retry.max_attempts = 40;
  a.sync_until_complete(*ta, o, 10);
  b.sync_until_complete(*tb, o, 10);
  a.sync_until_complete(*ta, o, 10);

  const FaultStats stats = proxy.stats();
  INFO("connections " << stats.connections << ", cut requests " << stats.cut_requests << ", cut responses "
                      << stats.cut_responses);
  CHECK(stats.cut_requests > 0);
  CHECK(stats.cut_responses > 0);
  CHECK(a.dump() == b.dump());
  CHECK(a.outbox_size() == 0);
  CHECK(b.outbox_size() == 0);
  const auto on_server = distinct_hlcs(server_sequence(world));
  CHECK(on_server == local_hlcs(a.store()));
  CHECK(on_server == local_hlcs(b.store()));
}

TEST_CASE("an answer delayed past the client's timeout is retried with the same mutation id",
          "[e2e][sync][faults]") {
  SyncWorld world;
  TempDir dir;
  Tablet a(dir.file("a.db"));
  world.enroll(a);
  a.record_actions(30, "a");

  FaultPlan plan;
  plan.seed = 5;
  plan.delay = 1.0;
  plan.delay_for = std::chrono::milliseconds(1500);
  plan.max_faults = 2;  // the first two connections hang
  FaultProxy proxy(world.server->port(), plan);
  auto slow = curl_to(proxy.url(), std::chrono::milliseconds(400));
  ScriptedTransport watch(*slow);
  auto r = a.sync(watch);
  REQUIRE(r.ok());
  CHECK(r->complete);
  CHECK(r->retries >= 2);
  CHECK(r->accepted == 30);
  CHECK(proxy.stats().delays == 2);
  REQUIRE(watch.bodies.size() >= 3);
  CHECK(watch.bodies[0] == watch.bodies[1]);
  CHECK(watch.bodies[1] == watch.bodies[2]);
  CHECK(a.outbox_size() == 0);
}

}  // namespace tandem::test
