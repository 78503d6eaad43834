// The consent scenario of issue 12, end to end with the real server and real
// tablets: a child's agenda item reaches the external psychologist of the
// resource-team meeting only while the parents' consent is in force, and
// leaves every byte of her files when it is withdrawn.
#include <catch2/catch.hpp>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "sync_fixture.hpp"
#include "tandem/core/schema.hpp"
#include "test_util.hpp"

using namespace tandem;
using namespace tandem::test;

namespace {

constexpr const char* kPseudonym = "CANARY-pseudonym-K";
constexpr const char* kItemNotes = "CANARY-item-notes-K";

// Occurrences of `needle` in the tablet's database files, on disk and in
// their decrypted pages (tablets are encrypted): what `tandem debug scan` counts.
std::size_t bytes_of(const Tablet& t, const std::string& needle) { return tandem::test::occurrences(t.path(), needle); }

std::string today() {
  return copenhagen_date(std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count());
}

// Enrolls the resource person's tablet `rc` and `other` for a new person of
// `role` named `name`; returns that person.
std::string enroll_with(SyncWorld& world, Tablet& rc, Tablet& other, const std::string& name,
                        const std::string& role) {
  world.enroll(rc);
  const std::string person = world.add_person(name, role);
  other.enroll(world.base_url(), world.code_for(person));
  return person;
}

// A child (its pseudonym the canary) and today's resource-team meeting with
// `psychologist` taking part, recorded on `rc`: {child, meeting}.
std::pair<std::string, std::string> resource_team(Tablet& rc, const std::string& psychologist) {
  auto child = rc.store().create("child", Json{{"pseudonym", kPseudonym}});
  REQUIRE(child.ok());
  auto meeting = rc.store().create(
      "meeting", Json{{"date", today()}, {"title", "Ressourceteam"}, {"participants", Json::array({psychologist})}});
  REQUIRE(meeting.ok());
  return {*child, *meeting};
}

}  // namespace

TEST_CASE("consent: the psychologist gets the child's agenda item while consent is in force, "
          "and loses every byte of it when it is withdrawn",
          "[e2e][sync][visibility][consent]") {
  SyncWorld world;
  TempDir dir;
  Tablet rc(dir.file("rc.db"));  // the resource person
  Tablet psy(dir.file("psy.db"));
  Tablet lone(dir.file("lone.db"));  // a teacher who takes part in nothing
  world.enroll(rc);
  const std::string psychologist = world.add_person("Pia PPR", "external");
  const std::string teacher = world.add_person("Lone Lærer", "teacher");
  psy.enroll(world.base_url(), world.code_for(psychologist));
  lone.enroll(world.base_url(), world.code_for(teacher));
  REQUIRE(rc.sync(world.base_url())->complete);

  const auto [child, meeting] = resource_team(rc, psychologist);
  auto item = rc.store().create("agenda_item", Json{{"meeting", meeting},
                                                     {"need", "child_intervention"},
                                                     {"child", child}});
  REQUIRE(item.ok());
  REQUIRE(rc.store().text_insert(*item, "notes", 0, kItemNotes).ok());
  auto course = rc.store().create("course", Json{{"kind", "observation"}, {"title", "Trivsel 4.b"},
                                                 {"children", Json::array({child})}});
  REQUIRE(course.ok());
  REQUIRE(rc.sync(world.base_url())->complete);

  // No consent: the meeting, not the item, not the child.
  REQUIRE(psy.sync(world.base_url())->complete);
  REQUIRE(lone.sync(world.base_url())->complete);
  CHECK(psy.store().get(meeting).ok());
  CHECK_FALSE(psy.store().get(*item).ok());
  CHECK(bytes_of(psy, kItemNotes) == 0);
  CHECK(bytes_of(psy, kPseudonym) == 0);

  // Consent for the resource team: her next sync brings the item as it is now.
  auto consent = rc.store().create("consent", Json{{"child", child},
                                                   {"given_on", today()},
                                                   {"scope", "resource_team"},
                                                   {"recorded_by", world.school.person}});
  REQUIRE(consent.ok());
  REQUIRE(rc.sync(world.base_url())->complete);
  auto widened = psy.sync(world.base_url());
  REQUIRE(widened.ok());
  CHECK(widened->complete);
  auto got = psy.store().get(*item);
  REQUIRE(got.ok());
  CHECK(got->fields["notes"] == kItemNotes);
  CHECK(psy.store().get(child).ok());  // the child the item names, under consent
  CHECK(bytes_of(psy, kItemNotes) > 0);

  // Withdrawn today (in force through yesterday): gone from her files.
  REQUIRE(rc.store().set(*consent, "withdrawn_on", today()).ok());
  REQUIRE(rc.sync(world.base_url())->complete);
  auto narrowed = psy.sync(world.base_url());
  REQUIRE(narrowed.ok());
  CHECK(narrowed->complete);
  CHECK_FALSE(psy.store().get(*item).ok());
  CHECK_FALSE(psy.store().get(child).ok());
  CHECK(psy.store().get(meeting).ok());  // the meeting itself stays hers
  CHECK(bytes_of(psy, kItemNotes) == 0);
  CHECK(bytes_of(psy, kPseudonym) == 0);
  // Still gone after another sync (acknowledged, nothing sent back).
  REQUIRE(psy.sync(world.base_url())->complete);
  CHECK_FALSE(psy.store().get(*item).ok());

  // The teacher who takes part in nothing never held the course, the item or
  // the child.
  REQUIRE(lone.sync(world.base_url())->complete);
  CHECK_FALSE(lone.store().get(*course).ok());
  CHECK(bytes_of(lone, kPseudonym) == 0);
  CHECK(bytes_of(lone, kItemNotes) == 0);
  CHECK(bytes_of(lone, "Trivsel 4.b") == 0);

  // The resource person kept everything.
  CHECK(rc.store().get(*item).ok());
}

// A record that moves while the device's view stays the same: an item that
// comes to name a child after the psychologist received it leaves her files,
// and none of its later edits reach her (the server keeps records' scopes in
// memory: it must be as if nothing were cached).
TEST_CASE("an agenda item that names a child after it was delivered leaves the psychologist's view, "
          "its later edits never reach her",
          "[e2e][sync][visibility][consent]") {
  SyncWorld world;
  TempDir dir;
  Tablet rc(dir.file("rc.db"));
  Tablet psy(dir.file("psy.db"));
  const std::string psychologist = enroll_with(world, rc, psy, "Pia PPR", "external");
  REQUIRE(rc.sync(world.base_url())->complete);

  const auto [child, meeting] = resource_team(rc, psychologist);
  auto item = rc.store().create("agenda_item", Json{{"meeting", meeting}, {"need", "child_intervention"}});
  REQUIRE(item.ok());
  REQUIRE(rc.store().text_insert(*item, "notes", 0, "Ingen barn nævnt endnu. ").ok());
  REQUIRE(rc.sync(world.base_url())->complete);
  REQUIRE(psy.sync(world.base_url())->complete);
  REQUIRE(psy.store().get(*item).ok());  // no child named: hers through the meeting

  // Named a child (no consent), then written about, in two pushes.
  REQUIRE(rc.store().set(*item, "child", child).ok());
  REQUIRE(rc.sync(world.base_url())->complete);
  REQUIRE(rc.store().text_insert(*item, "notes", 0, kItemNotes).ok());
  REQUIRE(rc.sync(world.base_url())->complete);
  for (int round = 0; round < 2; ++round) {
    REQUIRE(psy.sync(world.base_url())->complete);
    CHECK_FALSE(psy.store().get(*item).ok());  // erased: it left her view where it stood
    CHECK(psy.store().get(meeting).ok());
    CHECK(bytes_of(psy, "Ingen barn") == 0);
    CHECK(bytes_of(psy, kItemNotes) == 0);
    CHECK(bytes_of(psy, kPseudonym) == 0);
  }
}

// The other way: an action handed to a teacher who took part in nothing
// reaches her whole (its create and every edit made before), and leaves her
// files when it is handed on.
TEST_CASE("an action handed to a teacher reaches her whole, and leaves her when handed on",
          "[e2e][sync][visibility]") {
  SyncWorld world;
  TempDir dir;
  Tablet rc(dir.file("rc.db"));
  Tablet lone(dir.file("lone.db"));
  const std::string teacher = enroll_with(world, rc, lone, "Lone Lærer", "teacher");
  const std::string other = world.add_person("Ole Lærer", "teacher");
  auto action = rc.store().create("action", Json{{"text", "CANARY-action-before "}});
  REQUIRE(action.ok());
  REQUIRE(rc.store().text_insert(*action, "text", 0, "CANARY-action-edit ").ok());
  for (int i = 0; i < 30; ++i)  // other records around it, before and after
    REQUIRE(rc.store().create("action", Json{{"text", "anden " + std::to_string(i)}}).ok());
  REQUIRE(rc.sync(world.base_url())->complete);
  REQUIRE(lone.sync(world.base_url())->complete);
  CHECK_FALSE(lone.store().get(*action).ok());
  CHECK(tandem::test::occurrences(lone.path(), "CANARY-action") == 0);

  REQUIRE(rc.store().set(*action, "tovholder", teacher).ok());
  REQUIRE(rc.sync(world.base_url())->complete);
  auto widened = lone.sync(world.base_url());
  REQUIRE(widened.ok());
  CHECK(widened->complete);
  auto got = lone.store().get(*action);
  REQUIRE(got.ok());
  CHECK(got->fields.value("text", std::string()) == "CANARY-action-edit CANARY-action-before ");
  CHECK(got->fields.value("tovholder", std::string()) == teacher);
  auto mine = rc.store().get(*action);
  REQUIRE(mine.ok());
  CHECK(got->fields == mine->fields);

  REQUIRE(rc.store().set(*action, "tovholder", other).ok());
  REQUIRE(rc.sync(world.base_url())->complete);
  REQUIRE(lone.sync(world.base_url())->complete);
  CHECK_FALSE(lone.store().get(*action).ok());
  CHECK(tandem::test::occurrences(lone.path(), "CANARY-action") == 0);
}

// A server upgraded from one whose scope rows were built by older rules
// works every scope out again at its first start (rebuild_scopes): what that
// moves leaves the devices that held it, as a move by a change does.
TEST_CASE("a scope rebuild at start takes an item that now names a child from the psychologist",
          "[e2e][sync][visibility][consent][sqlite-only]") {
  SyncWorld world;
  TempDir dir;
  Tablet rc(dir.file("rc.db"));
  Tablet psy(dir.file("psy.db"));
  const std::string psychologist = enroll_with(world, rc, psy, "Pia PPR", "external");
  REQUIRE(rc.sync(world.base_url())->complete);
  const auto [child, meeting] = resource_team(rc, psychologist);
  auto item = rc.store().create("agenda_item", Json{{"meeting", meeting},
                                                     {"need", "child_intervention"},
                                                     {"child", child}});
  REQUIRE(item.ok());
  REQUIRE(rc.store().text_insert(*item, "notes", 0, kItemNotes).ok());
  REQUIRE(rc.sync(world.base_url())->complete);
  const auto sql = [&](const std::string& text) {
    world.server->terminate();
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(world.dir.file("tandem-server.db").c_str(), &db) == SQLITE_OK);
    const int rc_sql = sqlite3_exec(db, text.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    REQUIRE(rc_sql == SQLITE_OK);
    world.server = ServerProcess::start(world.dir.path());
  };
  // Rows as older rules left them: the item named no child.
  sql("UPDATE server_scope SET child='' WHERE record='" + *item + "'");
  REQUIRE(psy.sync(world.base_url())->complete);
  REQUIRE(psy.store().get(*item).ok());
  // The upgrade: every scope worked out again at start.
  sql("DELETE FROM server_meta WHERE key='scopes_v4_built'");
  REQUIRE(psy.sync(world.base_url())->complete);
  CHECK_FALSE(psy.store().get(*item).ok());
  CHECK(psy.store().get(meeting).ok());
  CHECK(bytes_of(psy, kItemNotes) == 0);
}

TEST_CASE("a device that sets its own role is refused and sees no more than before",
          "[e2e][sync][visibility]") {
  SyncWorld world;
  TempDir dir;
  Tablet rc(dir.file("rc.db"));
  Tablet t(dir.file("t.db"));
  const std::string teacher = enroll_with(world, rc, t, "Tove Lærer", "teacher");
  auto course = rc.store().create("course", Json{{"kind", "guidance"}, {"title", "CANARY-not-hers"}});
  REQUIRE(course.ok());
  REQUIRE(rc.sync(world.base_url())->complete);
  REQUIRE(t.sync(world.base_url())->complete);
  REQUIRE(t.store().set(teacher, "role", "leader").ok());
  auto r = t.sync(world.base_url());
  REQUIRE(r.ok());
  CHECK(r->rejected == 1);
  auto refused = t.store().rejected();
  REQUIRE(refused.ok());
  REQUIRE(refused->size() == 1);
  CHECK(refused->front().error.code == ErrorCode::kForbidden);
  REQUIRE(t.sync(world.base_url())->complete);
  CHECK_FALSE(t.store().get(*course).ok());
  CHECK(bytes_of(t, "CANARY-not-hers") == 0);
  // The school still has her as a teacher.
  REQUIRE(rc.sync(world.base_url())->complete);
  CHECK(rc.store().get(teacher)->fields["role"] == "teacher");
}

TEST_CASE("widening: a teacher added to a course of 1000 records gets all of it at her next sync",
          "[e2e][sync][visibility][widening]") {
  SyncWorld world;
  TempDir dir;
  Tablet rc(dir.file("rc.db"));
  Tablet t(dir.file("t.db"));
  const std::string teacher = enroll_with(world, rc, t, "Vibe Lærer", "teacher");
  REQUIRE(rc.sync(world.base_url())->complete);
  std::string course;
  REQUIRE(rc.store()
              .transaction([&]() -> Status {
                auto id = rc.store().create("course", Json{{"kind", "co_teaching"}, {"title", "Stort forløb"}});
                if (!id) return id.error();
                course = *id;
                for (int i = 0; i < 999; ++i) {
                  auto s = rc.store().create("session", Json{{"course", course}, {"focus", "lektion " + std::to_string(i)}});
                  if (!s) return s.error();
                }
                return {};
              })
              .ok());
  REQUIRE(rc.sync(world.base_url())->complete);
  REQUIRE(t.sync(world.base_url())->complete);
  CHECK(t.store().list("session")->empty());
  REQUIRE(rc.store().add(course, "participants", teacher).ok());
  REQUIRE(rc.sync(world.base_url())->complete);
  const auto started = std::chrono::steady_clock::now();
  auto widened = t.sync(world.base_url());
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  REQUIRE(widened.ok());
  CHECK(widened->complete);
  CHECK(t.store().list("session")->size() == 999);
  CHECK(t.store().get(course).ok());
  std::printf("widening backfill: 1000 records (course + 999 sessions) in %.0f ms, %lld requests, "
              "%lld changes pulled\n",
              ms, static_cast<long long>(widened->requests), static_cast<long long>(widened->pulled));
}
