// tandem-server killed with SIGKILL at random instants while 20 devices push
// and pull concurrently (real SyncEngines over real libcurl, one thread
// each, through a plain proxy that keeps one address across restarts), and
// restarted on the same data directory each time. At the end, with the
// server left up and every device synced to completion:
//   - every change any device saved is on the server exactly once — in
//     particular every change the server acknowledged before a kill;
//   - the school's sequence is dense (1..N, no gap, no number twice);
//   - every device converges: `tandem dump --json` is identical on all 20.
// CI tier: a few kills; soak (TANDEM_SOAK=1): 200. Seeded (kill instants and
// what each device writes); thread timing still varies from run to run.
#include <signal.h>
#include <sqlite3.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include "fault_env.hpp"
#include "fault_proxy.hpp"
#include "sync_fixture.hpp"
#include "tandem/sync/client.hpp"

namespace tandem::test {
namespace {

constexpr const char* kTestName = "server kill -9 mid-commit under 20 concurrent devices";
constexpr int kDevices = 20;
constexpr int kCiKills = 5;
constexpr int kSoakKills = 200;
constexpr int kMinUpMs = 80;    // the server runs this long at least before a kill
constexpr int kMaxUpMs = 600;   // and at most this long
constexpr int kMaxAimMs = 300;  // then waits at most this long for a request in flight

// Counts requests on the wire, so a kill can tell whether it hit one.
class CountingTransport final : public sync::Transport {
 public:
  CountingTransport(sync::Transport& inner, std::atomic<int>& in_flight)
      : inner_(inner), in_flight_(in_flight) {}
  Result<sync::HttpResponse> send(const sync::HttpRequest& request) override {
    ++in_flight_;
    auto r = inner_.send(request);
    --in_flight_;
    return r;
  }

 private:
  sync::Transport& inner_;
  std::atomic<int>& in_flight_;
};

struct Shared {
  std::atomic<bool> stop{false};
  std::atomic<int> in_flight{0};
  std::mutex mu;                       // guards the members below
  std::set<std::string> acknowledged;  // hlcs the server answered
  std::vector<std::string> errors;  // what must not happen (a Catch2 check needs the main thread)
  std::int64_t syncs_ok = 0;
  std::int64_t syncs_failed = 0;
};

std::set<std::string> outbox_hlcs(Store& store) {
  std::set<std::string> out;
  auto o = store.outbox(1'000'000);
  if (o) {
    for (const auto& lc : *o) out.insert(lc.change.id());
  }
  return out;
}

// One device: saves 1-3 changes, syncs, again, until told to stop.
void device_loop(Tablet& tablet, const std::string& url, std::uint64_t seed, Shared& shared) {
  std::mt19937_64 rng(seed);
  sync::CurlOptions co;
  co.base_url = url;
  co.connect_timeout = std::chrono::milliseconds(2000);
  co.total_timeout = std::chrono::milliseconds(10000);
  auto curl = sync::CurlTransport::create(co);
  if (!curl) {
    std::lock_guard lock(shared.mu);
    shared.errors.push_back("curl: " + curl.error().message);
    return;
  }
  CountingTransport transport(**curl, shared.in_flight);
  std::vector<std::string> mine;
  for (int round = 0; !shared.stop; ++round) {
    const Status saved = tablet.store().transaction([&]() -> Status {
      const int n = 1 + static_cast<int>(rng() % 3);
      for (int i = 0; i < n; ++i) {
        if (!mine.empty() && rng() % 3 == 0) {
          TANDEM_TRY(tablet.store().set(
              mine[rng() % mine.size()], "due",
              "2026-0" + std::to_string(1 + rng() % 9) + "-1" + std::to_string(rng() % 10)));
        } else {
          auto id =
              tablet.store().create("action", Json{{"text", "round " + std::to_string(round)}});
          if (!id) return id.error();
          mine.push_back(*id);
        }
      }
      return {};
    });
    const std::set<std::string> before = outbox_hlcs(tablet.store());
    // Few retries per sync(), so that a restart often outlasts them: the
    // next sync() then resends the batch in flight from the store.
    sync::EngineOptions options = Tablet::fast_options();
    options.retry.max_attempts = 1 + static_cast<int>(rng() % 4);
    auto r =
        saved.ok() ? tablet.sync(transport, options) : Result<sync::SyncSummary>(saved.error());
    const std::set<std::string> after = outbox_hlcs(tablet.store());
    std::lock_guard lock(shared.mu);
    for (const auto& h : before) {
      if (!after.count(h)) shared.acknowledged.insert(h);
    }
    if (r) {
      ++shared.syncs_ok;
    } else {
      ++shared.syncs_failed;
      // A server that is down or restarting: retried later. Anything else is a bug.
      if (!sync::is_retryable(r.error().code)) {
        shared.errors.push_back(tablet.path() + ": " +
                                std::string(error_code_name(r.error().code)) + ": " +
                                r.error().message);
        return;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 5));
  }
}

// The school's sequence numbers, read from the server's file.
std::vector<std::int64_t> sequence_numbers(const std::string& db_path, const std::string& school,
                                           std::int64_t* last_seq) {
  std::vector<std::int64_t> out;
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT seq FROM server_changes WHERE school=? ORDER BY seq", -1,
                             &st, nullptr) == SQLITE_OK);
  sqlite3_bind_text(st, 1, school.c_str(), -1, SQLITE_TRANSIENT);
  while (sqlite3_step(st) == SQLITE_ROW) out.push_back(sqlite3_column_int64(st, 0));
  sqlite3_finalize(st);
  REQUIRE(sqlite3_prepare_v2(db, "SELECT last_seq FROM server_school_seq WHERE school=?", -1, &st,
                             nullptr) == SQLITE_OK);
  sqlite3_bind_text(st, 1, school.c_str(), -1, SQLITE_TRANSIENT);
  *last_seq = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

}  // namespace

TEST_CASE(kTestName, "[sqlite-only][fault][kill]") {
  const std::uint64_t seed = fault_seed("server kill -9");
  const int kills = soak_tier() ? kSoakKills : kCiKills;
  INFO("replay with " << rerun_command(kTestName, seed, soak_tier()));
  const auto started = std::chrono::steady_clock::now();
  std::mt19937_64 rng(seed);
  SyncWorld world;
  TempDir dir;
  std::vector<std::unique_ptr<Tablet>> tablets;
  for (int i = 0; i < kDevices; ++i) {
    tablets.push_back(std::make_unique<Tablet>(dir.file("device" + std::to_string(i) + ".db")));
    world.enroll(*tablets.back());
  }
  FaultProxy front(world.server->port(), FaultPlan{});
  const auto chaos_started = std::chrono::steady_clock::now();

  Shared shared;
  std::vector<std::thread> threads;
  for (int i = 0; i < kDevices; ++i) {
    threads.emplace_back(device_loop, std::ref(*tablets[static_cast<std::size_t>(i)]), front.url(),
                         seed + 1 + i, std::ref(shared));
  }
  int kills_mid_request = 0;
  for (int k = 0; k < kills; ++k) {
    const int up_ms = kMinUpMs + static_cast<int>(rng() % (kMaxUpMs - kMinUpMs));
    std::this_thread::sleep_for(std::chrono::milliseconds(up_ms));
    // Aim at a request on the wire (most of a request's time on the server
    // is its group commit), waiting a little for one if none is.
    for (int waited = 0; shared.in_flight == 0 && waited < kMaxAimMs; ++waited) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (shared.in_flight > 0) ++kills_mid_request;
    world.server->kill_hard();
    world.server = ServerProcess::start(world.dir.path());
    front.set_upstream_port(world.server->port());
  }
  shared.stop = true;
  for (auto& t : threads) t.join();
  const double chaos_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - chaos_started).count();
  {
    std::lock_guard lock(shared.mu);
    for (const auto& e : shared.errors) FAIL_CHECK(e);
  }

  // The server stays up now: every device pushes what is left, then pulls
  // what the others pushed.
  for (int round = 0; round < 2; ++round) {
    for (auto& t : tablets) {
      auto transport = curl_to(world.base_url());
      (void)t->sync_until_complete(*transport, Tablet::fast_options(), 5);
    }
  }
  const auto on_server = distinct_hlcs(server_sequence(world));  // REQUIREs no change twice
  for (const auto& h : shared.acknowledged) {
    INFO("acknowledged change " << h << " missing on the server");
    CHECK(on_server.count(h) == 1);
  }
  for (auto& t : tablets) {
    INFO(t->path());
    CHECK(local_hlcs(t->store()) == on_server);
  }
  std::int64_t last_seq = 0;
  const auto seqs =
      sequence_numbers(world.dir.file("tandem-server.db"), world.school.id, &last_seq);
  REQUIRE(!seqs.empty());
  bool dense = true;
  for (std::size_t i = 0; i < seqs.size(); ++i)
    dense = dense && seqs[i] == static_cast<std::int64_t>(i + 1);
  CHECK(dense);
  CHECK(last_seq == static_cast<std::int64_t>(seqs.size()));
  CHECK(seqs.size() == on_server.size());

  // Converged, as the CLI shows it.
  std::vector<std::string> paths;
  for (auto& t : tablets) {
    paths.push_back(t->path());
    t->close();
  }
  const ProcessResult first = run_cli({"--db", paths[0], "dump", "--json"});
  REQUIRE(first.exit_code == 0);
  for (std::size_t i = 1; i < paths.size(); ++i) {
    const ProcessResult d = run_cli({"--db", paths[i], "dump", "--json"});
    INFO(paths[i]);
    REQUIRE(d.exit_code == 0);
    CHECK(d.out == first.out);
  }

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "server kill -9: %d kills (%d with requests in flight), %zu changes acknowledged during the "
      "kills, "
      "%zu on the server, %lld syncs ok / %lld failed and resumed; %.1f s under kills, %.1f s in "
      "all\n",
      kills, kills_mid_request, shared.acknowledged.size(), on_server.size(),
      static_cast<long long>(shared.syncs_ok), static_cast<long long>(shared.syncs_failed),
      chaos_seconds, seconds);
  reliability_line("server kill -9 under 20 concurrent devices", kills,
                   std::to_string(kills) + " kills (" + std::to_string(kills_mid_request) +
                       " mid-request): " + std::to_string(shared.acknowledged.size()) +
                       " acknowledged changes all on the server once, sequence dense (1.." +
                       std::to_string(last_seq) + "), 20 identical dumps",
                   suite_command(kTestName, soak_tier()));
}

}  // namespace tandem::test
