// PostgreSQL crashes under a running tandem-server (README, PostgreSQL):
// while the database is away every request is answered at once with 503
// (retry), never hangs and never acknowledges what it did not store; once
// PostgreSQL has recovered, the same server serves again and the retried
// push lands exactly once.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "fault_env.hpp"
#include "postgres_server.hpp"
#include "server_process.hpp"
#include "server_store.hpp"

using tandem::Change;
using namespace tandem::test;  // NOLINT(google-build-using-namespace)
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kTestName =
    "postgresql outage: answered with 503 at once and served again after recovery with nothing lost";

TEST_CASE(kTestName, "[fault][postgres][both-stores]") {
  std::string error;
  auto pg = PostgresServer::start(&error);  // its own: this test crashes it
  if (!pg) {
    if (postgres_or_skip() == nullptr) return;  // skipped, or failed with the reason
    FAIL("cannot start PostgreSQL: " << error);
  }
  TempDir dir;
  set_store_url(dir.path(), pg->create_database());
  const TestSchool school = create_test_school(dir.path(), "Skole");
  auto server = ServerProcess::start(dir.path());
  const TestDevice device = enroll_test_device(*server, school.person);
  HttpClient http;
  ChangeMaker maker;
  const std::vector<Change> before = {maker.create_course(school.id, "før")};
  REQUIRE(http.post(server->url("/v1/sync"), sync_body(1, before), device.token).status == 200);

  REQUIRE(pg->kill_hard());
  const std::vector<Change> during = {maker.create_course(school.id, "under"),
                                      maker.create_course(school.id, "under 2")};
  const auto asked = Clock::now();
  const HttpResponse refused = http.post(server->url("/v1/sync"), sync_body(2, during), device.token);
  const double refused_s = std::chrono::duration<double>(Clock::now() - asked).count();
  INFO(refused.status << " " << refused.body.substr(0, 300));
  CHECK(refused.status == 503);
  CHECK(refused.error_code() == "busy");
  CHECK(refused_s < 10.0);  // bound: never the client's whole timeout
  const HttpResponse health = http.get(server->url("/healthz"));
  CHECK(health.status != 200);

  REQUIRE(pg->restart());
  // The same push, retried as a tablet does, until the server is back.
  const auto back = Clock::now();
  HttpResponse landed;
  while (Clock::now() - back < std::chrono::seconds(30)) {
    landed = http.post(server->url("/v1/sync"), sync_body(2, during), device.token);
    if (landed.status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double recovered_s = std::chrono::duration<double>(Clock::now() - back).count();
  REQUIRE(landed.status == 200);
  const json results = landed.json().at("push").at("results");
  for (const auto& r : results) CHECK(r.at("status") != "rejected");
  CHECK(http.get(server->url("/healthz")).status == 200);

  const TestDevice reader = enroll_test_device(*server, school.person);
  std::map<std::string, int> served;
  for (const auto& p : pull_all(http, *server, reader.token))
    ++served[p.at("change").at("hlc").get<std::string>()];
  for (const auto& c : before) CHECK(served[c.hlc.str()] == 1);
  for (const auto& c : during) CHECK(served[c.hlc.str()] == 1);
  const auto rows = stored_sequence(dir.path(), school.id);
  for (std::size_t i = 0; i < rows.size(); ++i) CHECK(rows[i].seq == static_cast<std::int64_t>(i) + 1);
  char result[320];
  std::snprintf(result, sizeof result,
                "a push while PostgreSQL was down: 503 busy in %.1f ms (bound 10 s), /healthz not "
                "ok; after its restart the same push, retried, landed in %.0f ms, exactly once; "
                "%zu rows, sequence dense",
                refused_s * 1000, recovered_s * 1000, rows.size());
  reliability_line("PostgreSQL killed under the server", 1, result,
                   suite_command(kTestName, false));
  server->terminate();
}
