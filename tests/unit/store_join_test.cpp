// Store::join_school: a database used offline joins the school it enrolls
// at. move: its records (not people) become the school's and every logged
// change of them waits in the outbox; keep: they stay a local-only school
// whose changes never enter the outbox. Nothing is lost either way, and a
// rollback of the enclosing transaction (a refused redeem) undoes all.
#include <catch2/catch.hpp>
#include <set>
#include <string>

#include "tandem/core/store.hpp"
#include "test_util.hpp"

using namespace tandem;  // NOLINT(google-build-using-namespace)
using tandem::test::ManualClock;
using tandem::test::TempDir;

namespace {

constexpr const char* kJoined = "school_0123456789abcdef";

struct Offline {
  std::string school, course, session, entry, person;
};

Offline make_offline(Store& s) {
  Offline o;
  auto school = s.create("school", Json{{"name", "Min egen skole"}});
  REQUIRE(school.ok());
  o.school = *school;
  REQUIRE(s.set_default_school(o.school).ok());
  auto course = s.create("course", Json{{"kind", "co_teaching"}, {"title", "Forløb"}, {"goals", "Læsning"}});
  REQUIRE(course.ok());
  o.course = *course;
  auto session = s.create("session", Json{{"course", o.course}});
  REQUIRE(session.ok());
  o.session = *session;
  auto entry = s.create("entry", Json{{"session", o.session}, {"type", "note"}, {"text", "Noteret offline"}});
  REQUIRE(entry.ok());
  o.entry = *entry;
  REQUIRE(s.set(o.course, "title", "Forløb, rettet").ok());
  return o;
}

std::unique_ptr<Store> open_store(const StoreOptions& o) {
  auto opened = Store::open(o);
  REQUIRE(opened.ok());
  return std::move(opened).value();
}

// A database used offline: one school of its own and a few records.
struct OfflineFile {
  TempDir dir;
  ManualClock clock;
  StoreOptions o;
  std::unique_ptr<Store> s;
  Offline off;
  OfflineFile() {
    o.path = dir.file("a.db");
    o.clock = &clock;
    s = open_store(o);
    off = make_offline(*s);
  }
  void reopen() {
    s.reset();
    s = open_store(o);
  }
};

std::set<std::string> outbox_records(Store& s) {
  auto out = s.outbox(10'000);
  REQUIRE(out.ok());
  std::set<std::string> records;
  for (const auto& c : *out) {
    CHECK(c.change.school != "");
    records.insert(c.change.record);
  }
  return records;
}

}  // namespace

TEST_CASE("join_school move rewrites the records and their pending changes to the joined school",
          "[core][store][join]") {
  OfflineFile f;
  auto& s = f.s;
  const Offline& off = f.off;
  const std::string dump_fields = s->get(off.entry)->fields.dump();

  auto others = s->other_schools(kJoined);
  REQUIRE(others.ok());
  REQUIRE(others->size() == 1);
  CHECK(others->front().name == "Min egen skole");
  CHECK(others->front().records == 3);

  auto joined = s->join_school(kJoined, Store::LocalRecords::kMove);
  REQUIRE(joined.ok());
  CHECK(joined->moved == 3);
  CHECK(joined->kept == 0);
  CHECK(joined->dropped == std::vector<std::string>{off.school});
  CHECK(s->default_school() == kJoined);
  CHECK(s->get(off.school).error().code == ErrorCode::kNotFound);
  for (const auto& id : {off.course, off.session, off.entry}) CHECK(s->get(id)->school == kJoined);
  CHECK(s->get(off.entry)->fields.dump() == dump_fields);
  CHECK(s->get(off.course)->fields.at("title") == "Forløb, rettet");
  // Every pending change names the joined school; the school's own create is gone.
  auto out = s->outbox(100);
  REQUIRE(out.ok());
  CHECK(out->size() == 4);
  for (const auto& c : *out) CHECK(c.change.school == kJoined);
  CHECK(outbox_records(*s) == std::set<std::string>{off.course, off.session, off.entry});
  CHECK(s->other_schools(kJoined)->empty());
  // New records belong to the joined school, and they are pending too.
  auto later = s->create("action", Json{{"text", "bagefter"}});
  REQUIRE(later.ok());
  CHECK(s->get(*later)->school == kJoined);
  CHECK(*s->outbox_size() == 5);
  // Persisted: a reopened file says the same.
  f.reopen();
  CHECK(s->default_school() == kJoined);
  CHECK(s->get(off.course)->school == kJoined);
}

TEST_CASE("join_school move leaves people in a local-only school", "[core][store][join]") {
  OfflineFile f;
  auto& s = f.s;
  const Offline& off = f.off;
  auto person = s->create("person", Json{{"name", "Anna"}, {"role", "teacher"}});
  REQUIRE(person.ok());
  auto joined = s->join_school(kJoined, Store::LocalRecords::kMove);
  REQUIRE(joined.ok());
  CHECK(joined->moved == 3);
  CHECK(joined->kept == 1);
  CHECK(joined->local_schools == std::vector<std::string>{off.school});
  CHECK(s->get(*person)->school == off.school);
  CHECK(s->is_local_only(off.school));
  CHECK(outbox_records(*s) == std::set<std::string>{off.course, off.session, off.entry});
}

TEST_CASE("join_school keep leaves the records local and never pending", "[core][store][join]") {
  OfflineFile f;
  auto& s = f.s;
  const Offline& off = f.off;
  auto joined = s->join_school(kJoined, Store::LocalRecords::kKeep);
  REQUIRE(joined.ok());
  CHECK(joined->moved == 0);
  CHECK(joined->kept == 3);
  CHECK(joined->local_schools == std::vector<std::string>{off.school});
  CHECK(*s->outbox_size() == 0);
  CHECK(s->get(off.course)->school == off.school);
  CHECK(s->get(off.school)->fields.at("name") == "Min egen skole");
  // Later edits of kept records stay local; new records go to the school.
  REQUIRE(s->set(off.course, "status", "active").ok());
  REQUIRE(s->text_insert(off.entry, "text", 0, "Mere: ").ok());
  CHECK(*s->outbox_size() == 0);
  auto later = s->create("action", Json{{"text", "til skolen"}});
  REQUIRE(later.ok());
  CHECK(outbox_records(*s) == std::set<std::string>{*later});
  // Remembered across a reopen.
  f.reopen();
  CHECK(s->is_local_only(off.school));
  CHECK(s->local_only_schools() == std::vector<std::string>{off.school});
  REQUIRE(s->set(off.course, "title", "igen").ok());
  CHECK(outbox_records(*s) == std::set<std::string>{*later});
}

TEST_CASE("join_school inside a transaction that rolls back changes nothing", "[core][store][join]") {
  OfflineFile f;
  auto& s = f.s;
  const Offline& off = f.off;
  const auto dump = s->canonical_dump();
  REQUIRE(dump.ok());
  const auto choice = GENERATE(Store::LocalRecords::kMove, Store::LocalRecords::kKeep);
  Status refused = s->transaction([&]() -> Status {
    auto joined = s->join_school(kJoined, choice);
    if (!joined) return joined.error();
    return make_error(ErrorCode::kUnauthorized, "the code was refused");
  });
  CHECK(refused.error().code == ErrorCode::kUnauthorized);
  CHECK(*s->canonical_dump() == *dump);
  CHECK(s->default_school() == off.school);
  CHECK_FALSE(s->is_local_only(off.school));
  CHECK(*s->outbox_size() == 5);
  CHECK(s->get(off.course)->school == off.school);
}

TEST_CASE("join_school move also sends what a bundle brought from another offline tablet",
          "[core][store][join]") {
  OfflineFile f;
  // Another tablet, offline too, with a school of its own; its changes
  // arrive here as a bundle would bring them (applied, not local).
  TempDir dir;
  ManualClock clock;
  StoreOptions ob;
  ob.path = dir.file("b.db");
  ob.clock = &clock;
  auto b = open_store(ob);
  const Offline theirs = make_offline(*b);
  auto changes = b->changes_since(0, 1000);
  REQUIRE(changes.ok());
  for (const auto& c : *changes) REQUIRE(f.s->apply(c.change).ok());
  CHECK(*f.s->outbox_size() == 5);  // only this tablet's own

  auto joined = f.s->join_school(kJoined, Store::LocalRecords::kMove);
  REQUIRE(joined.ok());
  CHECK(joined->moved == 6);
  CHECK(joined->dropped.size() == 2);
  CHECK(outbox_records(*f.s) == std::set<std::string>{f.off.course, f.off.session, f.off.entry,
                                                      theirs.course, theirs.session, theirs.entry});
  CHECK(*f.s->outbox_size() == 8);
}
