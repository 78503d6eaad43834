// The tests' private PostgreSQL (tests/support/postgres_server.hpp): a server
// of this process's own from Debian's package, databases that are separate,
// and a crash (SIGKILL of every server process) after which what was
// committed is still there.
#include <libpq-fe.h>
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "postgres_server.hpp"

namespace {

using tandem::test::PostgresServer;

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;

Conn connect(const std::string& url) {
  Conn conn(PQconnectdb((url + "?connect_timeout=10").c_str()));
  INFO(url << ": " << PQerrorMessage(conn.get()));
  REQUIRE(PQstatus(conn.get()) == CONNECTION_OK);
  return conn;
}

// Runs SQL; the first value of the first row ("" when none), or the error
// prefixed with "ERROR: ".
std::string query(PGconn* conn, const std::string& sql) {
  PGresult* res = PQexec(conn, sql.c_str());
  std::string out;
  const auto status = PQresultStatus(res);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    out = std::string("ERROR: ") + PQerrorMessage(conn);
  } else if (PQntuples(res) > 0) {
    out = PQgetvalue(res, 0, 0);
  }
  PQclear(res);
  return out;
}

bool accepts_on(int port) {
  Conn conn(PQconnectdb(("host=127.0.0.1 port=" + std::to_string(port) +
                         " user=tandem dbname=postgres connect_timeout=5")
                            .c_str()));
  return PQstatus(conn.get()) == CONNECTION_OK;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

TEST_CASE("PostgreSQL harness: two databases of one private server are separate", "[postgres]") {
  const auto t0 = std::chrono::steady_clock::now();
  PostgresServer* pg = tandem::test::postgres_or_skip();
  if (pg == nullptr) return;
  const double started = seconds_since(t0);

  const auto t1 = std::chrono::steady_clock::now();
  const std::string a = pg->create_database();
  const double created = seconds_since(t1);
  const std::string b = pg->create_database();
  // Figures for the report; not asserted (the machine may be busy).
  WARN("PostgreSQL started in "
       << started << " s (cluster made or copied, then pg_ctl start), database created in "
       << created << " s");

  const std::string prefix = "postgresql://tandem@127.0.0.1:" + std::to_string(pg->port()) + "/";
  CHECK(a.rfind(prefix, 0) == 0);
  CHECK(b.rfind(prefix, 0) == 0);
  CHECK(a != b);
  CHECK(pg->url(PostgresServer::database_name(a)) == a);
  // The socket lives in the server's own folder, no one else's.
  CHECK(std::filesystem::exists(pg->socket_dir() + "/.s.PGSQL." + std::to_string(pg->port())));
  CHECK(pg->socket_dir().rfind(std::filesystem::path(pg->data_dir()).parent_path().string(), 0) ==
        0);

  Conn ca = connect(a);
  Conn cb = connect(b);
  REQUIRE(query(ca.get(), "CREATE TABLE note (id int PRIMARY KEY, text text NOT NULL)").empty());
  REQUIRE(query(cb.get(), "CREATE TABLE note (id int PRIMARY KEY, text text NOT NULL)").empty());
  REQUIRE(query(ca.get(), "INSERT INTO note VALUES (1, 'in a')").empty());
  REQUIRE(query(cb.get(), "INSERT INTO note VALUES (1, 'in b'), (2, 'also b')").empty());
  CHECK(query(ca.get(), "SELECT text FROM note WHERE id = 1") == "in a");
  CHECK(query(cb.get(), "SELECT text FROM note WHERE id = 1") == "in b");
  CHECK(query(ca.get(), "SELECT count(*) FROM note") == "1");
  CHECK(query(cb.get(), "SELECT count(*) FROM note") == "2");
  // Durability settings the crash tests depend on.
  CHECK(query(ca.get(), "SHOW fsync") == "on");
  CHECK(query(ca.get(), "SHOW synchronous_commit") == "on");
  CHECK(query(ca.get(), "SHOW server_encoding") == "UTF8");
  CHECK(query(ca.get(), "SHOW listen_addresses") == "127.0.0.1");

  // Dropping ends the connections to it; the other database is untouched.
  REQUIRE(pg->drop_database(b));
  CHECK(query(cb.get(), "SELECT 1").rfind("ERROR: ", 0) == 0);
  CHECK(query(ca.get(), "SELECT count(*) FROM note") == "1");
  CHECK_FALSE(pg->drop_database("x; DROP DATABASE postgres"));
}

TEST_CASE("PostgreSQL harness: a committed row survives a crash of the server", "[postgres]") {
  PostgresServer* pg = tandem::test::postgres_or_skip();
  if (pg == nullptr) return;
  const std::string url = pg->create_database();
  Conn conn = connect(url);
  REQUIRE(query(conn.get(), "CREATE TABLE note (id int PRIMARY KEY, text text NOT NULL)").empty());
  REQUIRE(query(conn.get(), "INSERT INTO note VALUES (1, 'committed')").empty());
  REQUIRE(query(conn.get(), "BEGIN").empty());
  REQUIRE(query(conn.get(), "INSERT INTO note VALUES (2, 'never committed')").empty());

  const pid_t before = pg->postmaster_pid();
  REQUIRE(before > 0);
  REQUIRE(pg->kill_hard());
  CHECK(pg->postmaster_pid() == -1);
  CHECK(query(conn.get(), "COMMIT").rfind("ERROR: ", 0) == 0);  // the server is gone
  CHECK_FALSE(accepts_on(pg->port()));

  const auto t0 = std::chrono::steady_clock::now();
  INFO(pg->last_error());
  REQUIRE(pg->restart());
  WARN("PostgreSQL restarted after the crash (recovery included) in " << seconds_since(t0) << " s");
  CHECK(pg->postmaster_pid() > 0);
  CHECK(pg->postmaster_pid() != before);
  // It was a crash, not a clean stop: the server had to recover.
  CHECK(pg->log_tail(20000).find("not properly shut down") != std::string::npos);

  Conn again = connect(url);
  CHECK(query(again.get(), "SELECT text FROM note WHERE id = 1") == "committed");
  CHECK(query(again.get(), "SELECT count(*) FROM note") == "1");
  // Still serving new databases after the restart.
  Conn fresh = connect(pg->create_database());
  CHECK(query(fresh.get(), "SELECT 1") == "1");
}

TEST_CASE(
    "PostgreSQL harness: a second server has its own folder and port and is gone when destroyed",
    "[postgres]") {
  PostgresServer* shared = tandem::test::postgres_or_skip();
  if (shared == nullptr) return;
  std::string error;
  auto own = PostgresServer::start(&error);
  INFO(error);
  REQUIRE(own != nullptr);
  CHECK(own->port() != shared->port());
  CHECK(own->data_dir() != shared->data_dir());
  CHECK(own->socket_dir() != shared->socket_dir());
  Conn conn = connect(own->create_database());
  CHECK(query(conn.get(), "SELECT 1") == "1");
  conn.reset();

  const int port = own->port();
  const std::string root = std::filesystem::path(own->data_dir()).parent_path().string();
  REQUIRE(accepts_on(port));
  own.reset();
  CHECK_FALSE(accepts_on(port));
  CHECK_FALSE(std::filesystem::exists(root));
  // The shared server is untouched.
  Conn still = connect(shared->create_database());
  CHECK(query(still.get(), "SELECT 1") == "1");
}

TEST_CASE("PostgreSQL harness: without the server binaries it says so", "[postgres]") {
  std::string error;
  auto server = PostgresServer::start(&error, "/nonexistent/postgresql/bin");
  CHECK(server == nullptr);
  CHECK(error.find("/nonexistent/postgresql/bin") != std::string::npos);
}
