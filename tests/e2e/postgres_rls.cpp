// Row-level security of the PostgreSQL store (README, PostgreSQL): the second
// line of defence behind access.hpp. tandem-server runs as an ordinary role
// that owns its database; while a transaction names its school
// (tandem.school), no row of another school can be read or written, and
// without a school (the administration) every row is reachable.
#include <libpq-fe.h>

#include <catch2/catch.hpp>
#include <string>

#include "postgres_server.hpp"
#include "server_process.hpp"
#include "server_store.hpp"

using namespace tandem::test;  // NOLINT(google-build-using-namespace)

namespace {

// One connection; exec() returns "" or the error's primary message.
struct Db {
  PGconn* c;
  explicit Db(const std::string& url) : c(PQconnectdb(url.c_str())) {
    INFO(PQerrorMessage(c));
    REQUIRE(PQstatus(c) == CONNECTION_OK);
  }
  ~Db() { PQfinish(c); }
  std::string exec(const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    const auto st = PQresultStatus(r);
    std::string out;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) out = PQresultErrorMessage(r);
    PQclear(r);
    return out;
  }
  long count(const std::string& sql) {
    PGresult* r = PQexec(c, sql.c_str());
    INFO(sql << ": " << PQresultErrorMessage(r));
    REQUIRE(PQresultStatus(r) == PGRES_TUPLES_OK);
    const long n = std::stol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return n;
  }
};

std::string with_user(std::string url, const std::string& user) {
  const auto at = url.find('@');
  const auto scheme = url.find("://") + 3;
  return url.substr(0, scheme) + user + url.substr(at);
}

}  // namespace

TEST_CASE("postgresql: row-level security keeps a push's transaction inside its school",
          "[postgres][rls]") {
  PostgresServer* pg = postgres_or_skip();
  if (pg == nullptr) return;
  // An ordinary role owning a database of its own, as the README asks.
  const std::string admin_url = pg->url("postgres");
  const std::string db = "rls_" + std::to_string(::getpid());
  {
    Db admin(admin_url);
    REQUIRE(admin.exec("DROP ROLE IF EXISTS tandem_app_" + std::to_string(::getpid())) == "");
    REQUIRE(admin.exec("CREATE ROLE tandem_app_" + std::to_string(::getpid()) + " LOGIN") == "");
    REQUIRE(admin.exec("CREATE DATABASE " + db + " OWNER tandem_app_" + std::to_string(::getpid())) ==
            "");
  }
  const std::string url = with_user(pg->url(db), "tandem_app_" + std::to_string(::getpid()));
  TempDir dir;
  set_store_url(dir.path(), url);
  const TestSchool a = create_test_school(dir.path(), "A");
  const TestSchool b = create_test_school(dir.path(), "B");
  {
    // The server starts and serves as that role.
    auto server = ServerProcess::start(dir.path());
    const TestDevice device = enroll_test_device(*server, a.person);
    HttpClient http;
    ChangeMaker maker;
    const auto r = http.post(server->url("/v1/sync"),
                             sync_body(1, {maker.create_course(a.id, "Forløb")}), device.token);
    REQUIRE(r.status == 200);
    server->terminate();
  }
  Db app(url);
  // Without a school: the administration sees both.
  CHECK(app.count("SELECT count(DISTINCT school) FROM server_changes") == 2);
  REQUIRE(app.exec("BEGIN") == "");
  REQUIRE(app.exec("SELECT set_config('tandem.school', '" + a.id + "', true)") == "");
  CHECK(app.count("SELECT count(*) FROM server_changes WHERE school='" + b.id + "'") == 0);
  CHECK(app.count("SELECT count(*) FROM server_changes WHERE school='" + a.id + "'") == 3);
  CHECK(app.count("SELECT count(*) FROM server_devices WHERE school<>'" + a.id + "'") == 0);
  // Writing another school's rows is refused, and changes nothing.
  const std::string refused = app.exec(
      "INSERT INTO server_changes(school, seq, hlc, record, kind, body) VALUES('" + b.id +
      "', 99, 'h', 'r', 'course', '{}')");
  CHECK(refused.find("row-level security") != std::string::npos);
  REQUIRE(app.exec("ROLLBACK") == "");
  REQUIRE(app.exec("BEGIN") == "");
  REQUIRE(app.exec("SELECT set_config('tandem.school', '" + a.id + "', true)") == "");
  REQUIRE(app.exec("UPDATE server_changes SET body='{}' WHERE school='" + b.id + "'") == "");
  REQUIRE(app.exec("DELETE FROM server_devices") == "");
  REQUIRE(app.exec("ROLLBACK") == "");
  CHECK(app.count("SELECT count(*) FROM server_changes WHERE school='" + b.id + "' AND body='{}'") ==
        0);
  // The setting ends with its transaction.
  CHECK(app.count("SELECT count(DISTINCT school) FROM server_changes") == 2);
}
