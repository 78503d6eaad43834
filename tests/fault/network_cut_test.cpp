// Network cuts at every byte: the real tandem-server, the real SyncEngine over
// the real libcurl transport, and the fault proxy between them cutting the
// connection after exactly N bytes of one sync request (client -> server:
// the server never sees it whole) or of its answer (server -> client: the
// server committed, the client cannot know). Each case is a tablet with three
// new changes making one sync; after the cut it must converge within 3
// retries, its push must be answered as accepted exactly once (a resend is
// answered from the server's stored answer, never merged again), and the
// server's new rows must be exactly those three changes.
//
// Retries alternate between the engine's own (same request bytes, in one
// sync() call) and an app restart (sync() fails, the store is reopened and
// synced again: the in-flight record must resend the same batch under the
// same mutation id).
//
// CI tier: a seeded sample of offsets (with the first and last byte); soak
// (TANDEM_SOAK=1): every offset. TANDEM_FAULT_CASE=request:N or response:N
// replays one case.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <random>

#include "fault_env.hpp"
#include "fault_proxy.hpp"
#include "sync_fixture.hpp"

namespace tandem::test {
namespace {

constexpr const char* kTestName =
    "network: a sync cut at every byte offset of its request and of its answer";
constexpr std::size_t kCiOffsetsPerDirection = 24;
constexpr int kMaxRetries = 3;
// Sequence numbers stay 4 digits and mutation ids 6 for the whole run, so
// every case's request and answer have the same length as the calibration's.
constexpr int kFillerChanges = 1000;
constexpr const char* kFirstMutationId = "100000";

enum class Direction { kRequest, kResponse };
const char* direction_name(Direction d) {
  return d == Direction::kRequest ? "request" : "response";
}

struct Case {
  Direction direction = Direction::kRequest;
  std::int64_t offset = 0;
};

// Pulls what `device` has not seen after `cursor`; returns the hlcs and moves it.
std::vector<std::string> pull_new(HttpClient& http, const ServerProcess& server,
                                  const TestDevice& device, std::int64_t& cursor) {
  std::vector<std::string> out;
  for (;;) {
    const HttpResponse r = http.post(server.url("/v1/sync"), pull_body(cursor), device.token);
    REQUIRE(r.status == 200);
    const nlohmann::json page = r.json().at("pull");
    for (const auto& c : page.at("changes"))
      out.push_back(c.at("change").at("hlc").get<std::string>());
    cursor = page.at("cursor").get<std::int64_t>();
    if (!page.at("more").get<bool>()) return out;
  }
}

std::vector<Case> plan(std::int64_t request_bytes, std::int64_t response_bytes,
                       std::uint64_t seed) {
  std::vector<Case> out;
  if (auto only = fault_case()) {
    const auto colon = only->find(':');
    REQUIRE(colon != std::string::npos);
    out.push_back({only->substr(0, colon) == "request" ? Direction::kRequest : Direction::kResponse,
                   std::stoll(only->substr(colon + 1))});
    return out;
  }
  std::mt19937_64 rng(seed);
  for (Direction d : {Direction::kRequest, Direction::kResponse}) {
    const std::int64_t n = d == Direction::kRequest ? request_bytes : response_bytes;
    std::vector<std::int64_t> offsets;
    for (std::int64_t i = 0; i < n; ++i) offsets.push_back(i);
    if (!soak_tier() && offsets.size() > kCiOffsetsPerDirection) {
      // The first and the last byte always; the rest drawn.
      std::shuffle(offsets.begin() + 1, offsets.end() - 1, rng);
      offsets.erase(offsets.begin() + static_cast<std::ptrdiff_t>(kCiOffsetsPerDirection) - 1,
                    offsets.end() - 1);
      std::sort(offsets.begin(), offsets.end());
    }
    for (std::int64_t o : offsets) out.push_back({d, o});
  }
  return out;
}

}  // namespace

TEST_CASE(kTestName, "[fault][network]") {
  const std::uint64_t seed = fault_seed("network cuts");
  const auto started = std::chrono::steady_clock::now();
  SyncWorld world;
  TempDir dir;
  {
    Tablet filler(dir.file("filler.db"));
    world.enroll(filler);
    REQUIRE(filler.store()
                .transaction([&]() -> Status {
                  for (int i = 0; i < kFillerChanges; ++i) {
                    auto id = filler.store().create("action", Json{{"text", "filler"}});
                    if (!id) return id.error();
                  }
                  return {};
                })
                .ok());
    REQUIRE(filler.sync(world.base_url())->complete);
  }
  Tablet tablet(dir.file("tablet.db"));
  world.enroll(tablet);
  REQUIRE(tablet.store().set_meta(sync::kMetaMutationId, kFirstMutationId).ok());
  const TestDevice observer = enroll_test_device(*world.server, world.school.person);
  HttpClient http;
  std::int64_t observer_cursor = 0;
  (void)pull_new(http, *world.server, observer, observer_cursor);
  FaultProxy proxy(world.server->port(), FaultPlan{});

  int written = 0;
  // Three new changes in one durable transaction; returns their hlcs.
  auto write_three = [&]() {
    char text[32];
    std::snprintf(text, sizeof text, "Note %06d", written++);
    REQUIRE(tablet.store()
                .transaction([&]() -> Status {
                  auto a = tablet.store().create("action", Json{{"text", std::string(text) + "a"}});
                  if (!a) return a.error();
                  TANDEM_TRY(tablet.store().set(*a, "due", "2026-04-01"));
                  auto b = tablet.store().create("action", Json{{"text", std::string(text) + "b"}});
                  if (!b) return b.error();
                  return {};
                })
                .ok());
    auto out = tablet.store().outbox(10);
    REQUIRE(out.ok());
    REQUIRE(out->size() == 3);
    std::set<std::string> hlcs;
    for (const auto& lc : *out) hlcs.insert(lc.change.id());
    return hlcs;
  };

  // Calibration: one clean sync of the same shape gives the lengths.
  (void)write_three();
  const FaultStats before = proxy.stats();
  {
    auto transport = curl_to(proxy.url());
    auto r = tablet.sync(*transport);
    REQUIRE(r.ok());
    REQUIRE(r->requests == 1);
  }
  (void)pull_new(http, *world.server, observer, observer_cursor);
  const std::int64_t request_bytes = proxy.stats().bytes_up - before.bytes_up;
  const std::int64_t response_bytes = proxy.stats().bytes_down - before.bytes_down;
  std::printf("network cuts: one sync request is %lld bytes, its answer %lld bytes\n",
              static_cast<long long>(request_bytes), static_cast<long long>(response_bytes));

  const std::vector<Case> cases = plan(request_bytes, response_bytes, seed);
  int max_retries_seen = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const bool restart = c.offset % 2 == 1;  // retries by the engine, or by a restarted app
    INFO("cut after " << c.offset << " bytes of the " << direction_name(c.direction)
                      << " (retries by " << (restart ? "app restart" : "the engine")
                      << "); replay: TANDEM_FAULT_CASE=" << direction_name(c.direction) << ":"
                      << c.offset << " " << rerun_command(kTestName, seed, false));
    const std::set<std::string> mine = write_three();
    FaultPlan cut;
    cut.cut_request = c.direction == Direction::kRequest ? 1.0 : 0.0;
    cut.cut_response = c.direction == Direction::kResponse ? 1.0 : 0.0;
    cut.cut_at = c.offset;
    cut.max_faults = 1;
    proxy.set_plan(cut);
    const FaultStats at_start = proxy.stats();

    sync::EngineOptions o = Tablet::fast_options();
    std::int64_t accepted = 0;
    std::int64_t duplicates = 0;
    int retries = 0;
    bool complete = false;
    if (!restart) {
      o.retry.max_attempts = 1 + kMaxRetries;
      auto transport = curl_to(proxy.url());
      auto r = tablet.sync(*transport, o);
      INFO("sync: " << (r ? "" : r.error().message));
      REQUIRE(r.ok());
      accepted = r->accepted;
      duplicates = r->duplicates;
      retries = static_cast<int>(r->retries);
      complete = r->complete;
    } else {
      o.retry.max_attempts = 1;
      for (int attempt = 0; attempt <= kMaxRetries && !complete; ++attempt) {
        if (attempt > 0) {
          ++retries;
          tablet.reopen();
        }
        auto transport = curl_to(proxy.url());
        auto r = tablet.sync(*transport, o);
        if (!r) continue;
        accepted += r->accepted;
        duplicates += r->duplicates;
        complete = r->complete;
      }
    }
    const FaultStats at_end = proxy.stats();
    max_retries_seen = std::max(max_retries_seen, retries);
    CHECK((at_end.cut_requests - at_start.cut_requests) +
              (at_end.cut_responses - at_start.cut_responses) ==
          1);
    REQUIRE(complete);
    CHECK(retries <= kMaxRetries);
    CHECK(tablet.outbox_size() == 0);
    // Accepted once: a resend of a push the server had was answered from its
    // stored answer, not merged again (that would say "duplicate").
    CHECK(accepted == 3);
    CHECK(duplicates == 0);
    // The server's new rows: exactly the three changes, once each.
    const std::vector<std::string> rows = pull_new(http, *world.server, observer, observer_cursor);
    CHECK(std::set<std::string>(rows.begin(), rows.end()) == mine);
    CHECK(rows.size() == mine.size());
  }

  // The whole sequence: no change twice, none missing.
  const auto on_server = distinct_hlcs(server_sequence(world));
  CHECK(on_server == local_hlcs(tablet.store()));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("network cuts: %zu cuts checked in %.1f s (at most %d retries)\n", cases.size(),
              seconds, max_retries_seen);
  reliability_line(
      "network cut at a byte offset (request / answer)", static_cast<std::int64_t>(cases.size()),
      "converged within " + std::to_string(max_retries_seen) +
          " retries (bound 3), server rows = unique mutations (0 duplicated, 0 lost); " +
          (soak_tier() ? "every offset" : "sampled offsets") + " of a " +
          std::to_string(request_bytes) + "-byte request and its " +
          std::to_string(response_bytes) + "-byte answer",
      suite_command(kTestName, soak_tier()));
}

}  // namespace tandem::test
