// tandem-server killed with SIGKILL at random moments while a device pushes:
// after the restarts, every change the server acknowledged is stored and
// served exactly once. Seeded; set TANDEM_SEED to replay a run.
#include <signal.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "server_process.hpp"
#include "server_store.hpp"

using tandem::Change;
using namespace tandem::test;  // NOLINT(google-build-using-namespace)
using nlohmann::json;

namespace {

constexpr int kIterations = 50;
constexpr int kMaxKillDelayMs = 300;
constexpr int kMaxBatch = 40;

std::uint64_t test_seed() {
  if (const char* s = std::getenv("TANDEM_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

// hlc -> number of rows in the school's sequence, read straight from the
// store (the SQLite file, or the PostgreSQL database: server_store.hpp).
std::map<std::string, int> rows_by_hlc(const std::string& data_dir, const std::string& school) {
  std::map<std::string, int> rows;
  for (const auto& row : stored_sequence(data_dir, school)) ++rows[row.hlc];
  return rows;
}

}  // namespace

TEST_CASE("server: kill -9 during pushes loses and duplicates nothing acknowledged",
          "[server][e2e][crash]") {
  const std::uint64_t seed = test_seed();
  INFO("TANDEM_SEED=" << seed);
  std::mt19937_64 rng(seed);
  TempDir dir;
  const TestSchool school = create_test_school(dir.path(), "School");
  TestDevice device;
  {
    auto server = ServerProcess::start(dir.path());
    device = enroll_test_device(*server, school.person);
  }

  ChangeMaker maker;
  std::set<std::string> acknowledged;
  std::int64_t mutation_id = 0;
  std::vector<Change> in_flight;  // sent, answer lost: retried with the same id
  int kills_mid_push = 0;

  for (int iteration = 0; iteration < kIterations; ++iteration) {
    auto server = ServerProcess::start(dir.path());
    const pid_t pid = server->pid();
    const int delay_ms = static_cast<int>(rng() % kMaxKillDelayMs);
    std::thread killer([pid, delay_ms] {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      ::kill(pid, SIGKILL);
    });
    HttpClient http;
    for (;;) {
      if (in_flight.empty()) {
        ++mutation_id;
        const int n = 1 + static_cast<int>(rng() % kMaxBatch);
        for (int i = 0; i < n; ++i) in_flight.push_back(maker.create_course(school.id, "c"));
      }
      const HttpResponse r =
          http.post(server->url("/v1/sync"), sync_body(mutation_id, in_flight), device.token);
      if (r.status == 0) {
        ++kills_mid_push;
        break;  // killed: the batch's fate is unknown until retried
      }
      INFO("push answered " << r.status << ": " << r.body.substr(0, 300));
      REQUIRE(r.status == 200);
      const json results = r.json().at("push").at("results");
      REQUIRE(results.size() == in_flight.size());
      for (const auto& res : results) {
        REQUIRE(res.at("status") != "rejected");
        acknowledged.insert(res.at("hlc").get<std::string>());
      }
      in_flight.clear();
    }
    killer.join();
    server->kill_hard();
  }

  auto server = ServerProcess::start(dir.path());
  HttpClient http;
  if (!in_flight.empty()) {
    const HttpResponse r =
        http.post(server->url("/v1/sync"), sync_body(mutation_id, in_flight), device.token);
    REQUIRE(r.status == 200);
    const json answer = r.json();
    for (const auto& res : answer.at("push").at("results"))
      acknowledged.insert(res.at("hlc").get<std::string>());
  }
  // Read by another device: `device` is not sent back what it pushed.
  const TestDevice observer = enroll_test_device(*server, school.person);
  const auto pulled = pull_all(http, *server, observer.token);
  std::map<std::string, int> served;
  for (const auto& p : pulled) ++served[p.at("change").at("hlc").get<std::string>()];
  server->terminate();

  const auto rows = rows_by_hlc(dir.path(), school.id);
  INFO("acknowledged " << acknowledged.size() << ", kills mid-push " << kills_mid_push);
  CHECK(acknowledged.size() > 100);
  for (const auto& hlc : acknowledged) {
    INFO(hlc);
    CHECK(served[hlc] == 1);
    CHECK((rows.count(hlc) ? rows.at(hlc) : 0) == 1);
  }
  // Nothing served twice, and nothing in the sequence that was never pushed.
  for (const auto& [hlc, n] : served) CHECK(n == 1);
  CHECK(pulled.size() == acknowledged.size() + 2);  // + school and person
}
