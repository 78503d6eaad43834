// Backups of the PostgreSQL store (README, PostgreSQL): PostgreSQL's own
// pg_dump, restored into a new database, and the purges done after the dump
// re-applied from the erasure log (`tandem-server erasures reapply`):
// erasure is never undone.
#include <libpq-fe.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "postgres_server.hpp"
#include "server_process.hpp"
#include "server_store.hpp"

using tandem::Change;
using tandem::Op;
using namespace tandem::test;  // NOLINT(google-build-using-namespace)
using nlohmann::json;

namespace {

long rows_containing(const std::string& url, const std::string& text) {
  PGconn* c = PQconnectdb(url.c_str());
  REQUIRE(PQstatus(c) == CONNECTION_OK);
  const std::string pattern = "%" + text + "%";
  const char* params[] = {pattern.c_str()};
  PGresult* r = PQexecParams(c, "SELECT count(*) FROM server_changes WHERE body LIKE $1", 1, nullptr,
                             params, nullptr, nullptr, 0);
  REQUIRE(PQresultStatus(r) == PGRES_TUPLES_OK);
  const long n = std::stol(PQgetvalue(r, 0, 0));
  PQclear(r);
  PQfinish(c);
  return n;
}

void push(HttpClient& http, const ServerProcess& server, const TestDevice& device, std::int64_t id,
          const std::vector<Change>& changes) {
  const HttpResponse r = http.post(server.url("/v1/sync"), sync_body(id, changes), device.token);
  INFO(r.body.substr(0, 300));
  REQUIRE(r.status == 200);
  const json results = r.json().at("push").at("results");
  for (const auto& res : results) REQUIRE(res.at("status") != "rejected");
}

}  // namespace

TEST_CASE("postgresql: a pg_dump restored into a new database gets the purges done since it",
          "[postgres][backup]") {
  PostgresServer* pg = postgres_or_skip();
  if (pg == nullptr) return;
  TempDir a, b, files;
  const std::string url = pg->create_database();
  set_store_url(a.path(), url);
  const TestSchool school = create_test_school(a.path(), "Skole");
  auto server = ServerProcess::start(a.path());
  const TestDevice device = enroll_test_device(*server, school.person);
  HttpClient http;
  ChangeMaker maker;
  const Change erased = maker.create_course(school.id, "KANARIE-SLETTES");
  const Change kept = maker.create_course(school.id, "KANARIE-BEHOLDES");
  push(http, *server, device, 1, {erased, kept});

  // The backup: PostgreSQL's own tool, while the server serves.
  const std::string dump = files.file("tandem.dump");
  const ProcessResult dumped = run_process(pg->bindir() + "/pg_dump", {"-Fc", "-f", dump, url});
  INFO(dumped.err);
  REQUIRE(dumped.exit_code == 0);

  // After the backup: the child's record is erased.
  push(http, *server, device, 2, {maker.op(erased, Op::kPurge)});
  CHECK(rows_containing(url, "KANARIE-SLETTES") == 0);
  server->terminate();
  const std::string log = a.file("erasure-log.jsonl");
  {
    std::ifstream in(log);
    REQUIRE(in.good());
  }

  // Restore into a new database: the dump still holds the erased record...
  const std::string restored = pg->create_database();
  const ProcessResult loaded =
      run_process(pg->bindir() + "/pg_restore", {"--no-owner", "-d", restored, dump});
  INFO(loaded.err);
  REQUIRE(loaded.exit_code == 0);
  CHECK(rows_containing(restored, "KANARIE-SLETTES") == 1);
  // ... until the erasure log is re-applied.
  set_store_url(b.path(), restored);
  const json reapplied = server_admin_json(b.path(), {"erasures", "reapply", "--from", log});
  CHECK(reapplied.at("erasures_in_logs") == 1);
  CHECK(reapplied.at("erasures_reapplied") == 1);
  CHECK(rows_containing(restored, "KANARIE-SLETTES") == 0);
  CHECK(rows_containing(restored, "KANARIE-BEHOLDES") == 1);
  // Again: nothing more to do.
  CHECK(server_admin_json(b.path(), {"erasures", "reapply", "--from", log}).at("erasures_reapplied") ==
        0);

  // A device of the restored server is told to erase the record.
  auto again = ServerProcess::start(b.path());
  const TestDevice fresh = enroll_test_device(*again, school.person);
  bool purge_served = false;
  for (const auto& p : pull_all(http, *again, fresh.token)) {
    const json& change = p.at("change");
    if (change.at("record") == erased.record && change.at("op") == "purge") purge_served = true;
    CHECK(change.dump().find("KANARIE-SLETTES") == std::string::npos);
  }
  CHECK(purge_served);
  again->terminate();
}
