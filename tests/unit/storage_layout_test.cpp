// How the store keeps merge state on disk (migration 3): a new record's values
// stay in its create change until a field is written ("lazy"), and superseded
// writes leave no rows once their change is in the log. Each test checks that
// the visible result is the same as with one row per write, whatever the
// order in which changes arrive.
#include <sqlite3.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "tandem/core/store.hpp"
#include "tandem/core/sqlite.hpp"
#include "test_util.hpp"

using namespace tandem;
using tandem::test::TempDir;

namespace {

// The first column of the first row of `sql`.
std::int64_t scalar(Store& s, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(tandem::sqlite::handle(s), sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const std::int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

std::int64_t lazy_flag(Store& s, const std::string& id) {
  return scalar(s, "SELECT lazy FROM records WHERE id='" + id + "'");
}

std::vector<Change> all_changes(Store& s) {
  auto changes = s.changes_since(0, 1'000'000);
  REQUIRE(changes.ok());
  std::vector<Change> out;
  for (auto& lc : *changes) out.push_back(std::move(lc.change));
  return out;
}

// Applies `changes` in the given order to a new replica and returns its dump.
std::string replay(const std::vector<Change>& changes, const TempDir& dir, const std::string& name) {
  auto s = test::open_store(dir.file(name));
  for (const auto& c : changes) {
    auto r = s->apply(c);
    if (!r) FAIL("apply failed: " << r.error().message);
  }
  auto dump = s->canonical_dump();
  REQUIRE(dump.ok());
  return *dump;
}

}  // namespace

TEST_CASE("a new record keeps its values in its create until a field is written", "[core][storage]") {
  TempDir dir;
  std::string school;
  auto s = test::open_store_with_school(dir.file("a.db"), school);
  auto id = s->create("course", Json{{"kind", "co_teaching"}, {"title", "Læseløft"}, {"goals", "Flere læser"},
                                     {"tags", Json::array({"b", "a"})}});
  REQUIRE(id.ok());
  CHECK(lazy_flag(*s, *id) == 1);
  CHECK(scalar(*s, "SELECT count(*) FROM field_writes WHERE record='" + *id + "'") == 0);
  CHECK(scalar(*s, "SELECT count(*) FROM texts WHERE record='" + *id + "'") == 0);
  auto before = s->get(*id);
  REQUIRE(before.ok());
  CHECK(before->fields["title"] == "Læseløft");
  CHECK(before->fields["goals"] == "Flere læser");
  CHECK(before->fields["tags"] == Json::array({"a", "b"}));

  REQUIRE(s->set(*id, "status", "active").ok());
  CHECK(lazy_flag(*s, *id) == 0);
  auto after = s->get(*id);
  REQUIRE(after.ok());
  CHECK(after->fields["title"] == "Læseløft");
  CHECK(after->fields["goals"] == "Flere læser");
  CHECK(after->fields["status"] == "active");
  CHECK(after->conflicts.empty());
  // The same changes replayed elsewhere, in order and reversed, give the same record.
  const auto changes = all_changes(*s);
  auto reversed = changes;
  std::reverse(reversed.begin(), reversed.end());
  const auto dump = s->canonical_dump();
  CHECK(replay(changes, dir, "b.db") == *dump);
  CHECK(replay(reversed, dir, "c.db") == *dump);
}

TEST_CASE("a write concurrent with the create keeps the create's value as a conflict", "[core][storage]") {
  TempDir dir;
  std::string school;
  auto a = test::open_store_with_school(dir.file("a.db"), school);
  auto id = a->create("course", Json{{"kind", "co_teaching"}, {"title", "Fra oprettelsen"}});
  REQUIRE(id.ok());
  auto changes = all_changes(*a);
  // A write of the title by someone who had not seen the create (seen empty),
  // stamped later: both values are heads.
  Change concurrent;
  concurrent.hlc = Hlc{changes.back().hlc.ms + 10, 0, "00000000000000ff"};
  concurrent.record = *id;
  concurrent.kind = "course";
  concurrent.school = school;
  concurrent.op = Op::kSet;
  concurrent.field = "title";
  concurrent.value = "Samtidig";
  REQUIRE(a->apply(concurrent).ok());
  auto r = a->get(*id);
  REQUIRE(r.ok());
  CHECK(r->fields["title"] == "Samtidig");
  REQUIRE(r->conflicts.size() == 1);
  CHECK(r->conflicts[0].value == "Fra oprettelsen");

  // The set arriving before the create (the record is then not lazy) gives
  // the same record.
  changes.push_back(concurrent);
  auto late_create = changes;
  std::rotate(late_create.begin(), late_create.end() - 1, late_create.end());
  CHECK(replay(late_create, dir, "b.db") == *a->canonical_dump());
  CHECK(replay(changes, dir, "c.db") == *a->canonical_dump());
}

TEST_CASE("a text edit of a lazy record starts from the create's text", "[core][storage][text]") {
  TempDir dir;
  std::string school;
  auto s = test::open_store_with_school(dir.file("a.db"), school);
  auto id = s->create("course", Json{{"kind", "co_teaching"}, {"title", "T"}, {"goals", "Alle elever læser"}});
  REQUIRE(id.ok());
  REQUIRE(s->text_insert(*id, "goals", 5, "glade ").ok());
  CHECK(s->get(*id)->fields["goals"] == "Alle glade elever læser");
  CHECK(lazy_flag(*s, *id) == 0);
  CHECK(replay(all_changes(*s), dir, "b.db") == *s->canonical_dump());
}

TEST_CASE("superseded writes leave no rows once they have arrived", "[core][storage]") {
  TempDir dir;
  std::string school;
  auto a = test::open_store_with_school(dir.file("a.db"), school);
  auto id = a->create("course", Json{{"kind", "co_teaching"}, {"title", "v0"}});
  REQUIRE(id.ok());
  for (int i = 1; i <= 5; ++i) REQUIRE(a->set(*id, "title", "v" + std::to_string(i)).ok());
  const std::string rows = "SELECT count(*) FROM field_writes WHERE record='" + *id + "' AND field='title'";
  CHECK(scalar(*a, rows) == 1);

  // Newest first: each write arrives after the one that superseded it. The
  // ghosts that stand in for the missing writes are gone once all arrived.
  auto changes = all_changes(*a);
  std::reverse(changes.begin(), changes.end());
  auto b = test::open_store(dir.file("b.db"));
  for (const auto& c : changes) REQUIRE(b->apply(c).ok());
  CHECK(scalar(*b, rows) == 1);
  CHECK(scalar(*b, "SELECT count(*) FROM field_writes WHERE dominated=1") == 0);
  auto r = b->get(*id);
  REQUIRE(r.ok());
  CHECK(r->fields["title"] == "v5");
  CHECK(r->conflicts.empty());
  CHECK(*b->canonical_dump() == *a->canonical_dump());
  // Re-delivery of an old write changes nothing.
  for (const auto& c : changes) CHECK(*b->apply(c) == ApplyOutcome::kDuplicate);
  CHECK(*b->canonical_dump() == *a->canonical_dump());
}

TEST_CASE("references to a child are rows of their own from the start", "[core][storage]") {
  TempDir dir;
  std::string school;
  auto s = test::open_store_with_school(dir.file("a.db"), school);
  auto group = s->create("group", Json{{"name", "4.b"}});
  REQUIRE(group.ok());
  auto child = s->create("child", Json{{"pseudonym", "Elev 7"}, {"group", *group}});
  REQUIRE(child.ok());
  auto course = s->create("course", Json{{"kind", "observation"}, {"title", "Obs"}});
  REQUIRE(course.ok());
  auto session = s->create("session", Json{{"course", *course}});
  REQUIRE(session.ok());
  auto entry = s->create("entry", Json{{"session", *session}, {"type", "note"}, {"text", "Læser højt"},
                                       {"child", *child}});
  REQUIRE(entry.ok());
  CHECK(lazy_flag(*s, *entry) == 1);
  // Found by SQL on the stored rows, as a later privacy filter would.
  CHECK(scalar(*s, "SELECT count(*) FROM field_writes WHERE field='child' AND dominated=0 AND value='\"" +
                      *child + "\"' AND record='" + *entry + "'") == 1);
  auto r = s->get(*entry);
  REQUIRE(r.ok());
  CHECK(r->fields["child"] == *child);
  CHECK(r->fields["text"] == "Læser højt");
  // A later change of the reference replaces the row.
  auto other = s->create("child", Json{{"pseudonym", "Elev 8"}, {"group", *group}});
  REQUIRE(other.ok());
  REQUIRE(s->set(*entry, "child", *other).ok());
  CHECK(s->get(*entry)->fields["child"] == *other);
  CHECK(s->get(*entry)->conflicts.empty());
  CHECK(scalar(*s, "SELECT count(*) FROM field_writes WHERE field='child' AND record='" + *entry + "'") == 1);
  CHECK(replay(all_changes(*s), dir, "b.db") == *s->canonical_dump());
}

TEST_CASE("a new file gets the page size asked for, an existing file keeps its own", "[core][storage]") {
  TempDir dir;
  {
    StoreOptions o;
    o.path = dir.file("small.db");
    o.page_size = 4096;
    auto s = Store::open(o);
    REQUIRE(s.ok());
    CHECK(scalar(**s, "PRAGMA page_size") == 4096);
  }
  {
    StoreOptions o;
    o.path = dir.file("small.db");  // reopened with the default: stays 4096
    auto s = Store::open(o);
    REQUIRE(s.ok());
    CHECK(scalar(**s, "PRAGMA page_size") == 4096);
  }
  {
    StoreOptions o;
    o.path = dir.file("default.db");
    auto s = Store::open(o);
    REQUIRE(s.ok());
    CHECK(scalar(**s, "PRAGMA page_size") == 8192);
  }
  for (int bad : {0, 1000, 131072}) {
    StoreOptions o;
    o.path = dir.file("bad.db");
    o.page_size = bad;
    auto s = Store::open(o);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == ErrorCode::kInvalidArgument);
  }
}
