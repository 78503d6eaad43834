// The tests' store choice (server_store.hpp).
#include "server_store.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "postgres_server.hpp"

namespace tandem::test {

bool testing_postgres() {
  const char* v = std::getenv("TANDEM_TEST_STORE");
  return v != nullptr && std::string(v) == "postgresql";
}

namespace {
std::filesystem::path url_file(const std::string& data_dir) {
  return std::filesystem::path(data_dir) / "pg-store-url";
}
// A fresh database owned by an ordinary role, as the README asks of a
// deployment: the servers of the tests then run under row-level security
// (a superuser would bypass it).
std::string app_database(PostgresServer& pg) {
  const std::string url = pg.create_database();
  const std::string name = PostgresServer::database_name(url);
  PGconn* c = PQconnectdb(pg.url("postgres").c_str());
  std::string error;
  for (const std::string& sql :
       {std::string("DO $$ BEGIN CREATE ROLE tandem_app LOGIN; EXCEPTION WHEN duplicate_object "
                    "THEN NULL; END $$"),
        "ALTER DATABASE " + name + " OWNER TO tandem_app"}) {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK && error.empty()) error = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(c);
  INFO(error);
  REQUIRE(error.empty());
  return pg.url(name).replace(url.find("://") + 3, url.find('@') - url.find("://") - 3, "tandem_app");
}

}  // namespace

std::string store_url(const std::string& data_dir) {
  std::string url;
  if (std::ifstream in(url_file(data_dir)); in) std::getline(in, url);
  return url;
}

void set_store_url(const std::string& data_dir, const std::string& url) {
  std::filesystem::create_directories(data_dir);
  std::ofstream(url_file(data_dir)) << url << "\n";
}

std::vector<std::string> store_args(const std::string& data_dir) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::string url = store_url(data_dir);
  if (url.empty() && testing_postgres()) {
    PostgresServer* pg = PostgresServer::shared();
    if (pg == nullptr) FAIL("TANDEM_TEST_STORE=postgresql but no PostgreSQL: " << PostgresServer::shared_error());
    url = app_database(*pg);
    set_store_url(data_dir, url);
  }
  if (url.empty()) return {"--data", data_dir};
  return {"--data", data_dir, "--store", url};
}

std::vector<StoredRow> stored_sequence(const std::string& data_dir, const std::string& school) {
  std::vector<StoredRow> out;
  const std::string url = store_url(data_dir);
  if (!url.empty()) {
    PGconn* c = PQconnectdb(url.c_str());
    REQUIRE(PQstatus(c) == CONNECTION_OK);
    const char* params[] = {school.c_str()};
    PGresult* r = PQexecParams(c, "SELECT seq, hlc FROM server_changes WHERE school=$1 ORDER BY seq", 1,
                               nullptr, params, nullptr, nullptr, 0);
    const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    for (int i = 0; ok && i < PQntuples(r); ++i)
      out.push_back(StoredRow{std::stoll(PQgetvalue(r, i, 0)), PQgetvalue(r, i, 1)});
    PQclear(r);
    PQfinish(c);
    REQUIRE(ok);
    return out;
  }
  sqlite3* db = nullptr;
  const std::string path = (std::filesystem::path(data_dir) / "tandem-server.db").string();
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT seq, hlc FROM server_changes WHERE school=? ORDER BY seq", -1,
                             &st, nullptr) == SQLITE_OK);
  sqlite3_bind_text(st, 1, school.c_str(), -1, SQLITE_TRANSIENT);
  while (sqlite3_step(st) == SQLITE_ROW)
    out.push_back(StoredRow{sqlite3_column_int64(st, 0),
                            reinterpret_cast<const char*>(sqlite3_column_text(st, 1))});
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

std::vector<std::string> store_args(const std::string& data_dir, std::vector<std::string> args) {
  std::vector<std::string> out = store_args(data_dir);
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

}  // namespace tandem::test
