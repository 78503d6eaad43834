// Numbered migrations: a file written by an older Tandem is migrated on open
// without losing data; a file from a newer Tandem or not a database is refused.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "migrations.hpp"
#include "tandem/core/store.hpp"
#include "tandem/core/sqlite.hpp"
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

TEST_CASE("a version-1 database is migrated to the latest version with its data",
          "[core][migrations]") {
  TempDir dir;
  const std::string path = dir.file("old.db");
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    exec(db, detail::migrations().at(0).sql);
    exec(db, "PRAGMA user_version=1");
    // What a version-1 Tandem wrote: a school with its name, and its change.
    exec(db,
         "INSERT INTO meta VALUES('site_id','00000000000000ab'),('default_school','school_old')");
    exec(db,
         "INSERT INTO records(id, kind, school, created) "
         "VALUES('school_old','school','school_old','018f00000000-000000-00000000000000ab')");
    exec(db,
         "INSERT INTO field_writes "
         "VALUES('school_old','name','018f00000000-000000-00000000000000ab','\"Gammel Skole\"',0)");
    exec(
        db,
        R"(INSERT INTO changes(hlc, record, body) VALUES('018f00000000-000000-00000000000000ab','school_old',
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
  auto id = s->create("course",
                      Json{{"kind", "guidance"}, {"title", "Efter opgradering"}, {"goals", "Mål"}});
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

TEST_CASE("a version-2 database keeps its records, conflicts and log through migration 3",
          "[core][migrations]") {
  TempDir dir;
  const std::string path = dir.file("v2.db");
  const std::string a = "018f00000000-000000-00000000000000ab";      // create
  const std::string b = "018f00000001-000000-00000000000000ab";      // title, saw the create
  const std::string c = "018f00000002-000000-00000000000000cd";      // title, concurrent with b
  const std::string ghost = "018f00000003-000000-00000000000000ef";  // seen, not arrived
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    exec(db, detail::migrations().at(0).sql);
    exec(db, detail::migrations().at(1).sql);
    exec(db, "PRAGMA user_version=2");
    exec(db,
         "INSERT INTO meta VALUES('site_id','00000000000000ab'),('default_school','school_old')");
    exec(db,
         "INSERT INTO records(id, kind, school, created) VALUES"
         "('school_old','school','school_old','" +
             a +
             "'),"
             "('course_old','course','school_old','" +
             a + "')");
    // Version 2 kept superseded writes as dominated rows.
    exec(db,
         "INSERT INTO field_writes VALUES"
         "('school_old','name','" +
             a +
             "','\"Skolen\"',0),"
             "('course_old','kind','" +
             a +
             "','\"co_teaching\"',0),"
             "('course_old','title','" +
             a +
             "',NULL,1),"
             "('course_old','title','" +
             b +
             "','\"B\"',0),"
             "('course_old','title','" +
             c +
             "','\"C\"',0),"
             "('course_old','status','" +
             ghost + "',NULL,1)");
    const std::string body =
        R"({"hlc":"%s","kind":"course","op":"set","record":"course_old","school":"school_old","field":"title","value":"%v"})";
    auto set_body = [&](const std::string& h, const char* v) {
      std::string s = body;
      s.replace(s.find("%s"), 2, h);
      s.replace(s.find("%v"), 2, v);
      return s;
    };
    exec(db,
         "INSERT INTO changes(hlc, record, body) VALUES('" + a +
             "','course_old',"
             "'{\"hlc\":\"" +
             a +
             "\",\"kind\":\"course\",\"op\":\"create\",\"record\":\"course_old\","
             "\"school\":\"school_old\",\"value\":{\"kind\":\"co_teaching\",\"title\":\"A\"}}'),"
             "('" +
             b + "','course_old','" + set_body(b, "B") +
             "'),"
             "('" +
             c + "','course_old','" + set_body(c, "C") + "')");
    sqlite3_close(db);
  }
  auto s = test::open_store(path);
  CHECK(s->schema_version() == detail::latest_schema_version());
  auto r = s->get("course_old");
  REQUIRE(r.ok());
  CHECK(r->fields["title"] == "C");
  REQUIRE(r->conflicts.size() == 1);
  CHECK(r->conflicts[0].value == "B");
  // The superseded write whose change is logged lost its row; the ghost of a
  // write not yet arrived stayed, so that write still arrives superseded.
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(tandem::sqlite::handle(*s), "SELECT hlc FROM field_writes WHERE dominated=1", -1, &st, nullptr) ==
          SQLITE_OK);
  std::vector<std::string> ghosts;
  while (sqlite3_step(st) == SQLITE_ROW)
    ghosts.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  CHECK(ghosts == std::vector<std::string>{ghost});
  // Old full bodies read back as changes, like new ones.
  auto log = s->changes_since(0, 10);
  REQUIRE(log.ok());
  REQUIRE(log->size() == 3);
  CHECK(log->at(1).change.value == "B");
  CHECK(log->at(1).change.kind == "course");
}

TEST_CASE("migration 5 gives the entries of a version-4 file their session rows",
          "[core][migrations]") {
  TempDir dir;
  const std::string path = dir.file("v4.db");
  std::string session, other;
  {
    std::string school;
    auto s = test::open_store_with_school(path, school);
    auto course = s->create("course", Json{{"kind", "observation"}, {"title", "Obs"}});
    REQUIRE(course.ok());
    session = s->create("session", Json{{"course", *course}}).value();
    other = s->create("session", Json{{"course", *course}}).value();
    for (int i = 0; i < 3; ++i)
      REQUIRE(s->create("entry", Json{{"session", session}, {"type", "note"}}).ok());
    REQUIRE(s->create("entry", Json{{"session", other}, {"type", "note"}}).ok());
  }
  {
    // What version 4 wrote: lazy records without parent rows, no index.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    exec(db, "DROP INDEX field_writes_parent");
    exec(db, "DELETE FROM field_writes WHERE field IN ('session', 'course')");
    exec(db, "ALTER TABLE texts DROP COLUMN merged");  // migration 6
    exec(db, "PRAGMA user_version=4");
    sqlite3_close(db);
  }
  auto s = test::open_store(path);
  CHECK(s->schema_version() == detail::latest_schema_version());
  CHECK(s->list_under("entry", session)->size() == 3);
  CHECK(s->list_under("entry", other)->size() == 1);
  CHECK(s->list_under("session", s->get(session)->fields["course"].get<std::string>())->size() ==
        2);
}

TEST_CASE("migration 6 gives the texts of a version-5 file an empty merge column",
          "[core][migrations]") {
  TempDir dir;
  const std::string path = dir.file("v5.db");
  std::string session;
  {
    std::string school;
    auto s = test::open_store_with_school(path, school);
    auto course = s->create("course", Json{{"kind", "observation"}, {"title", "Obs"}});
    REQUIRE(course.ok());
    session = s->create("session", Json{{"course", *course}, {"log", "Vi læste."}}).value();
    REQUIRE(s->text_insert(session, "log", 0, "I dag: ").ok());  // a texts row
  }
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    exec(db, "ALTER TABLE texts DROP COLUMN merged");
    exec(db, "PRAGMA user_version=5");
    sqlite3_close(db);
  }
  auto s = test::open_store(path);
  CHECK(s->schema_version() == detail::latest_schema_version());
  auto r = s->get(session);
  REQUIRE(r.ok());
  CHECK(r->fields["log"] == "I dag: Vi læste.");
  CHECK(r->merged.empty());
  REQUIRE(s->text_insert(session, "log", 0, "Mandag. ").ok());
  CHECK(s->get(session)->fields["log"] == "Mandag. I dag: Vi læste.");
}
