// The domain API hosts share (entries.hpp, notebook.hpp): per-type entry
// rules, summaries over indexed loading, names, actions, conflicts, trees.
#include "tandem/core/notebook.hpp"

#include <sqlite3.h>

#include <algorithm>

#include <catch2/catch.hpp>

#include "tandem/core/entries.hpp"
#include "tandem/core/sqlite.hpp"
#include "test_util.hpp"

using namespace tandem;
using tandem::test::make_record;
using tandem::test::TempDir;

namespace {

// The query plan of `sql` as one line.
std::string plan(Store& s, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(tandem::sqlite::handle(s), ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &st, nullptr) ==
          SQLITE_OK);
  std::string out;
  while (sqlite3_step(st) == SQLITE_ROW)
    out += std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 3))) + "; ";
  sqlite3_finalize(st);
  return out;
}

EntryInput entry(const std::string& session, const char* type, const char* text = "",
                 const char* code = "") {
  EntryInput in;
  in.session = session;
  in.type = type;
  in.text = text;
  in.code = code;
  return in;
}

ActionQuery query(const std::string& person, bool overdue_only) {
  ActionQuery q;
  q.person = person;
  q.overdue_only = overdue_only;
  q.today = "2026-11-30";
  return q;
}

}  // namespace

TEST_CASE("entries: the per-type rules refuse options of another type", "[core][notebook]") {
  TempDir dir;
  std::string school;
  auto s = test::open_store_with_school(dir.file("a.db"), school);
  const auto course = make_record(*s, "course", {{"kind", "observation"}, {"title", "Obs"}});
  const auto session = make_record(*s, "session", {{"course", course}});
  EntryInput tally = entry(session, "tally", "", "hånd");
  auto id = record_entry(*s, tally, 1'790'000'000'000);
  REQUIRE(id.ok());
  CHECK(s->get(*id)->fields["count"] == 1);
  CHECK(s->get(*id)->fields["at"] == format_datetime_ms(1'790'000'000'000));
  EntryInput tick = entry(session, "tick", "", "I-PQ");
  CHECK(record_entry(*s, tick, 0).error().code == ErrorCode::kInvalidArgument);  // no interval
  tick.interval = 3;
  tick.count = 2;
  CHECK(record_entry(*s, tick, 0).error().code ==
        ErrorCode::kInvalidArgument);  // count is a tally's
  EntryInput odd = entry(session, "scribble");
  CHECK(record_entry(*s, odd, 0).error().code == ErrorCode::kInvalidValue);
}

TEST_CASE("a session's summary reads its own entries through the parent index",
          "[core][notebook]") {
  TempDir dir;
  std::string school;
  auto s = test::open_store_with_school(dir.file("a.db"), school);
  const auto course = make_record(*s, "course", {{"kind", "observation"}, {"title", "Obs"}});
  const auto a = make_record(*s, "session", {{"course", course}});
  const auto b = make_record(*s, "session", {{"course", course}});
  for (int i = 0; i < 3; ++i) REQUIRE(record_entry(*s, entry(a, "note", "x"), 1000).ok());
  REQUIRE(record_entry(*s, entry(b, "note", "y"), 1000).ok());
  auto sa = summarize_session(*s, a);
  REQUIRE(sa.ok());
  CHECK(sa->entries == 3);
  CHECK(s->list_under("entry", b)->size() == 1);
  auto c = summarize_course(*s, course);
  REQUIRE(c.ok());
  CHECK(c->sessions.size() == 2);
  CHECK(summarize_session(*s, course).error().code ==
        ErrorCode::kNotFound);  // a course is no session
  // Moving an entry moves it between the sessions' lists.
  const std::string moved = s->list_under("entry", a)->front().id;
  REQUIRE(s->set(moved, "session", b).ok());
  CHECK(s->list_under("entry", a)->size() == 2);
  CHECK(s->list_under("entry", b)->size() == 2);
  const std::string p =
      plan(*s,
           "SELECT DISTINCT f.record FROM field_writes f JOIN records r ON r.id = f.record "
           "WHERE (CASE f.field WHEN 'session' THEN 1 WHEN 'course' THEN 1 WHEN 'meeting' THEN 1 "
           "WHEN 'child' THEN 1 ELSE 0 END) = 1 AND f.dominated = 0 "
           "AND f.field = 'session' AND f.value = 'x' AND r.kind = 'entry' AND r.deleted = '' "
           "AND r.purged = '' ORDER BY f.record");
  INFO(p);
  CHECK(p.find("field_writes_parent") != std::string::npos);
}

TEST_CASE("a field write evaluates the parent index's condition without a temporary table or a new plan",
          "[core][notebook]") {
  // Every merged change writes a field row: an IN list in the partial
  // index's condition made SQLite build a temporary table for each, and
  // comparisons ORed made it prepare a statement naming `field = ?` again
  // whenever the field changed (migration 7).
  TempDir dir;
  std::string school;
  auto s = test::open_store_with_school(dir.file("a.db"), school);
  sqlite3* db = tandem::sqlite::handle(*s);
  for (const char* sql :
       {"INSERT INTO field_writes(record, field, hlc, value, dominated) VALUES(?,?,?,?,0) "
        "ON CONFLICT(record, field, hlc) DO NOTHING",
        "DELETE FROM field_writes WHERE record=? AND field=? AND hlc=? AND dominated=0"}) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, (std::string("EXPLAIN ") + sql).c_str(), -1, &st, nullptr) == SQLITE_OK);
    std::vector<std::string> ops;
    while (sqlite3_step(st) == SQLITE_ROW) ops.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
    sqlite3_finalize(st);
    INFO(sql);
    CHECK(std::find(ops.begin(), ops.end(), "OpenEphemeral") == ops.end());
    // The parent index is maintained by the statement.
    CHECK((std::find(ops.begin(), ops.end(), "IdxInsert") != ops.end() ||
           std::find(ops.begin(), ops.end(), "IdxDelete") != ops.end()));
  }
  for (const char* sql :
       {"SELECT hlc FROM field_writes WHERE record=?1 AND field=?2 AND dominated=0 ORDER BY hlc",
        "DELETE FROM field_writes WHERE record=?1 AND field=?2 AND hlc='x' AND dominated=0",
        "INSERT INTO field_writes(record, field, hlc, value, dominated) VALUES(?1,?2,'y','1',0) "
        "ON CONFLICT(record, field, hlc) DO NOTHING"}) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK);
    for (const char* field : {"course", "title", "session", "status", "child"}) {
      sqlite3_bind_text(st, 1, "r", -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 2, field, -1, SQLITE_STATIC);
      while (sqlite3_step(st) == SQLITE_ROW) {
      }
      sqlite3_reset(st);
    }
    INFO(sql);
    CHECK(sqlite3_stmt_status(st, SQLITE_STMTSTATUS_REPREPARE, 0) == 0);
    sqlite3_finalize(st);
  }
}

TEST_CASE("names: whole name, initials, first name, and ambiguity listing the matches",
          "[core][notebook]") {
  TempDir dir;
  std::string school;
  auto s = test::open_store_with_school(dir.file("a.db"), school);
  const auto ah =
      make_record(*s, "person", {{"name", "Anne Hansen"}, {"role", "teacher"}, {"initials", "AH"}});
  const auto aj =
      make_record(*s, "person", {{"name", "Anne Jensen"}, {"role", "teacher"}, {"initials", "AJ"}});
  const auto ol = make_record(*s, "person", {{"name", "Øjvind Lund"}, {"role", "leader"}});
  CHECK(resolve_reference(*s, "person", "anne hansen").value() == ah);
  CHECK(resolve_reference(*s, "person", "aj").value() == aj);
  CHECK(resolve_reference(*s, "person", "øjvind").value() == ol);
  CHECK(resolve_reference(*s, "person", ah).value() == ah);
  auto both = resolve_reference(*s, "person", "Anne");
  REQUIRE_FALSE(both.ok());
  CHECK(both.error().code == ErrorCode::kAmbiguous);
  CHECK(both.error().message.find(ah) != std::string::npos);
  CHECK(both.error().message.find(aj) != std::string::npos);
  CHECK(resolve_reference(*s, "person", "Bo").error().code == ErrorCode::kNotFound);
  // An id is taken as given; the kind is the caller's check.
  CHECK(resolve_reference(*s, "group", ah).value() == ah);
  CHECK(get_of_kind(*s, ah, "group").error().code == ErrorCode::kNotFound);
}

TEST_CASE("actions: open ones, mine, and overdue by the host's date", "[core][notebook]") {
  TempDir dir;
  std::string school;
  auto s = test::open_store_with_school(dir.file("a.db"), school);
  const auto me = make_record(*s, "person", {{"name", "Mig"}, {"role", "teacher"}});
  const auto other = make_record(*s, "person", {{"name", "Anden"}, {"role", "teacher"}});
  const auto late = make_record(*s, "action", {{"text", "sen"}, {"tovholder", me}, {"due", "2026-11-29"}});
  make_record(*s, "action", {{"text", "i dag"}, {"tovholder", me}, {"due", "2026-11-30"}});
  make_record(*s, "action", {{"text", "andens"}, {"tovholder", other}, {"due", "2026-01-01"}});
  make_record(*s, "action",
       {{"text", "færdig"}, {"tovholder", me}, {"due", "2026-01-01"}, {"done", true}});
  auto mine = open_actions(*s, query(me, false));
  REQUIRE(mine.ok());
  CHECK(mine->size() == 2);
  auto overdue = open_actions(*s, query(me, true));
  REQUIRE(overdue->size() == 1);
  CHECK(overdue->front().record.id == late);
  CHECK(open_actions(*s, query("", true))->size() == 2);
}

TEST_CASE("conflicts: the losing value with the device and time that wrote it",
          "[core][notebook]") {
  TempDir dir;
  std::string school;
  auto a = test::open_store_with_school(dir.file("a.db"), school);
  auto b = test::open_store(dir.file("b.db"));
  const auto course = make_record(*a, "course", {{"kind", "observation"}, {"title", "Obs"}});
  auto created = a->changes_since(0, 1000);
  REQUIRE(created.ok());
  for (const auto& lc : *created) REQUIRE(b->apply(lc.change).ok());
  REQUIRE(a->set(course, "status", "active").ok());
  REQUIRE(b->set(course, "status", "planned").ok());
  auto from_b = b->changes_since(0, 1000);
  REQUIRE(from_b.ok());
  for (const auto& lc : *from_b) {
    if (lc.change.op == Op::kSet) REQUIRE(a->apply(lc.change).ok());
  }
  auto open = open_conflicts(*a);
  REQUIRE(open.ok());
  REQUIRE(open->size() == 1);
  const OpenConflict& c = open->front();
  CHECK(c.record == course);
  CHECK(c.field == "status");
  CHECK(c.label == "Obs");
  CHECK(c.at_ms > 0);
  CHECK(c.this_device == (c.site == a->site_id()));
  CHECK(c.value != c.current);
  REQUIRE(a->resolve(course, "status", "active").ok());
  CHECK(open_conflicts(*a)->empty());
}

TEST_CASE("a course with its sessions, entries, reflections and actions", "[core][notebook]") {
  TempDir dir;
  std::string school;
  auto s = test::open_store_with_school(dir.file("a.db"), school);
  const auto me = make_record(*s, "person", {{"name", "Mig"}, {"role", "teacher"}});
  const auto course = make_record(*s, "course", {{"kind", "observation"}, {"title", "Obs"}});
  const auto session = make_record(*s, "session", {{"course", course}});
  make_record(*s, "reflection", {{"session", session}, {"author", me}, {"text", "godt"}});
  REQUIRE(record_entry(*s, entry(session, "note", "x"), 1000).ok());
  REQUIRE(record_entry(*s, entry(session, "note", "y"), 1000).ok());
  make_record(*s, "action", {{"text", "følg op"}, {"source", course}});
  auto tree = record_tree(*s, course);
  REQUIRE(tree.ok());
  CHECK(tree->actions.size() == 1);
  REQUIRE(tree->children.size() == 1);
  CHECK(tree->children[0].record.id == session);
  CHECK(tree->children[0].entries == 2);
  REQUIRE(tree->children[0].children.size() == 1);
  CHECK(tree->children[0].children[0].record.kind == "reflection");
}

TEST_CASE("write_value: sets by difference, text by minimal replacement", "[core][notebook]") {
  TempDir dir;
  std::string school;
  auto s = test::open_store_with_school(dir.file("a.db"), school);
  const auto course = make_record(
      *s, "course",
      {{"kind", "observation"}, {"title", "Obs"}, {"tags", {"a", "b"}}, {"goals", "Flere læser"}});
  const KindSpec* k = find_kind("course");
  auto log = s->changes_since(0, 1000);
  REQUIRE(log.ok());
  const auto before = log->size();
  REQUIRE(write_value(*s, *s->get(course), *k->field("tags"), Json::array({"b", "c"})).ok());
  REQUIRE(write_value(*s, *s->get(course), *k->field("goals"), "Flere læser højt").ok());
  auto r = s->get(course);
  CHECK(r->fields["tags"] == Json::array({"b", "c"}));
  CHECK(r->fields["goals"] == "Flere læser højt");
  CHECK(s->changes_since(0, 1000)->size() == before + 3);  // remove a, add c, one text edit
}
