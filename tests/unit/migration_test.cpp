// Numbered migrations: a file written by an older Tandem is migrated on open
// without losing data; a file from a newer Tandem or not a database is refused.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "migrations.hpp"
#include "tandem/core/store.hpp"
#include "test_util.hpp"

using namespace tandem;
using tandem::test::TempDir;

namespace {
void exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO((err ? err : ""));
  sqlite3_free(err);
  REQUIRE(rc == SQLITE_OK);
}
}  // namespace

TEST_CASE("a version-1 database is migrated to the latest version with its data", "[core][migrations]") {
  TempDir dir;
  const std::string path = dir.file("old.db");
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    exec(db, detail::migrations().at(0).sql);
    exec(db, "PRAGMA user_version=1");
    // What a version-1 Tandem wrote: a school with its name, and its change.
    exec(db, "INSERT INTO meta VALUES('site_id','00000000000000ab'),('default_school','school_old')");
    exec(db, "INSERT INTO records(id, kind, school, created) VALUES('school_old','school','school_old','018f00000000-000000-00000000000000ab')");
    exec(db, "INSERT INTO field_writes VALUES('school_old','name','018f00000000-000000-00000000000000ab','\"Gammel Skole\"',0)");
    exec(db, R"(INSERT INTO changes(hlc, record, body) VALUES('018f00000000-000000-00000000000000ab','school_old',
      '{"hlc":"018f00000000-000000-00000000000000ab","kind":"school","op":"create","record":"school_old","school":"school_old","value":{"name":"Gammel Skole"}}'))");
    sqlite3_close(db);
  }
  auto s = test::open_store(path);
  CHECK(s->schema_version() == detail::latest_schema_version());
  CHECK(s->site_id() == "00000000000000ab");
  CHECK(s->default_school() == "school_old");
  auto r = s->get("school_old");
  REQUIRE(r.ok());
  CHECK(r->fields["name"] == "Gammel Skole");
  // The migrated file works for new writes (texts table of version 2 exists).
  auto id = s->create("course", Json{{"kind", "guidance"}, {"title", "Efter opgradering"}, {"goals", "Mål"}});
  REQUIRE(id.ok());
  CHECK(s->get(*id)->fields["goals"] == "Mål");
  CHECK(s->changes_since(0, 10)->size() == 2);
}

TEST_CASE("a database from a newer Tandem is refused, not damaged", "[core][migrations]") {
  TempDir dir;
  const std::string path = dir.file("new.db");
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    exec(db, "CREATE TABLE future(x); PRAGMA user_version=999");
    sqlite3_close(db);
  }
  StoreOptions o;
  o.path = path;
  auto s = Store::open(o);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kUnsupportedVersion);
}

TEST_CASE("a file that is not a database is refused with corrupt", "[core][migrations]") {
  TempDir dir;
  const std::string path = dir.file("junk.db");
  std::ofstream(path) << "this is not a database, but a note to self: " << std::string(5000, 'x');
  StoreOptions o;
  o.path = path;
  auto s = Store::open(o);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kCorrupt);
}
