// Store::forget: a record that left the device's scope leaves no byte in
// the device's files (db, -wal, -journal) once the WAL is checkpointed,
// other records stay as they were, and a later re-delivery restores it.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tandem/core/store.hpp"
#include "test_util.hpp"

using namespace tandem;  // NOLINT(google-build-using-namespace)
using tandem::test::ManualClock;
using tandem::test::TempDir;

namespace {

// Every canary written into the records that will be forgotten, each in a
// different place: a field value, a text's CRDT state, a losing concurrent
// value (conflict), an unsynced local edit (outbox), a refused change.
const std::vector<std::string> kCanaries = {
    "CANARY-title-Mikkel-9c1e", "CANARY-goals-ondt-i-maven-41d2", "CANARY-conflict-far-73aa",
    "CANARY-outbox-edit-5be0",  "CANARY-refused-change-e8f1",     "CANARY-pseudonym-M-K-2d77",
};

// On disk and, when encrypted, decrypted (db, -wal, -journal).
std::size_t canary_bytes(const std::string& path) {
  std::size_t found = 0;
  for (const auto& c : kCanaries) found += test::occurrences(path, c);
  return found;
}

}  // namespace

TEST_CASE("forget erases every trace of a record, and a re-delivery restores it",
          "[core][store][forget]") {
  TempDir dir;
  ManualClock clock_a, clock_b;
  std::string school;
  auto a = test::open_store_with_school(dir.file("a.db"), school, &clock_a);
  // B, the device that forgets: plain, and encrypted at rest.
  const bool encrypted = GENERATE(false, true);
  INFO("encrypted: " << encrypted);
  StoreOptions ob;
  ob.path = dir.file("b.db");
  ob.encryption = encrypted ? Encryption::kRequired : Encryption::kOff;
  auto opened_b = Store::open(ob, test::encrypted_host(&clock_b));
  REQUIRE(opened_b.ok());
  auto b = std::move(*opened_b);
  CHECK(b->encrypted() == encrypted);
  const std::string path = dir.file("b.db");

  // On A, the author: a course with a long text and a child named in it.
  auto course = a->create("course", Json{{"kind", "co_teaching"}, {"title", "Forløb"}});
  REQUIRE(course.ok());
  REQUIRE(a->text_insert(*course, "goals", 0, kCanaries[1]).ok());
  auto child = a->create("child", Json{{"pseudonym", kCanaries[5]}});
  REQUIRE(child.ok());
  auto keep = a->create("course", Json{{"kind", "observation"}, {"title", "Bliver"}});
  REQUIRE(keep.ok());
  REQUIRE(a->text_insert(*keep, "goals", 0, "Læsning i 3.ø").ok());
  test::exchange(*a, *b);
  REQUIRE(b->set_default_school(school).ok());

  // Concurrent titles: B holds a conflict; its own edit waits in its outbox.
  clock_a.advance(1000);
  clock_b.advance(1000);
  REQUIRE(a->set(*course, "title", kCanaries[0]).ok());
  REQUIRE(b->set(*course, "title", kCanaries[2]).ok());
  REQUIRE(b->text_insert(*course, "goals", 0, kCanaries[3]).ok());
  test::exchange(*a, *b);
  auto before = b->get(*course);
  REQUIRE(before.ok());
  REQUIRE_FALSE(before->conflicts.empty());
  // A change of the record the server refused for good.
  Change refused;
  refused.hlc = Hlc{clock_b.now_ms(), 9, b->site_id()};
  refused.record = *course;
  refused.kind = "course";
  refused.school = school;
  refused.op = Op::kSet;
  refused.field = "title";
  refused.value = kCanaries[4];
  RejectedChange r{refused.id(),
                   *course,
                   "course",
                   "set",
                   "title",
                   make_error(ErrorCode::kForbidden, "no"),
                   3,
                   clock_b.now_ms()};
  REQUIRE(b->record_rejected(r, refused).ok());
  auto keep_before = b->get(*keep);
  REQUIRE(keep_before.ok());
  const std::int64_t outbox_before = *b->outbox_size();
  REQUIRE(outbox_before >= 2);
  // The scan sees them before (so its 0 afterwards means something).
  CHECK(canary_bytes(path) > 0);

  // As the sync engine does: inside a deferred transaction with its cursor.
  REQUIRE(b->transaction(
               [&]() -> Status {
                 TANDEM_TRY(b->forget({*course, *child, "never_seen_here"}));
                 return b->set_meta("sync.cursor", "42");
               },
               Durability::kDeferred)
              .ok());
  REQUIRE(b->checkpoint_truncate().ok());

  CHECK(b->get(*course).error().code == ErrorCode::kNotFound);
  CHECK(b->get(*child).error().code == ErrorCode::kNotFound);
  auto log = b->changes_since(0, 100000);
  REQUIRE(log.ok());
  for (const auto& lc : *log) {
    CHECK(lc.change.record != *course);
    CHECK(lc.change.record != *child);
  }
  CHECK(*b->outbox_size() == 0);  // B's own edits were all to the course
  CHECK(b->rejected()->empty());
  auto keep_after = b->get(*keep);
  REQUIRE(keep_after.ok());
  CHECK(keep_after->to_json() == keep_before->to_json());
  CHECK(*b->meta("sync.cursor") == std::optional<std::string>("42"));
  // Not a byte left, with the file still open (a device never closes it).
  CHECK(canary_bytes(path) == 0);
  CHECK(test::file_bytes(path + "-wal").empty());

  // Nothing was logged or pushed: a re-delivery restores the record as A has it.
  CHECK(test::exchange(*a, *b) > 0);
  auto back = b->get(*course);
  REQUIRE(back.ok());
  auto on_a = a->get(*course);
  REQUIRE(on_a.ok());
  CHECK(back->fields == on_a->fields);
  CHECK(back->fields["goals"] == kCanaries[1]);
  CHECK(b->get(*child)->fields["pseudonym"] == kCanaries[5]);
}

TEST_CASE("forget inside a transaction that fails changes nothing", "[core][store][forget]") {
  TempDir dir;
  std::string school;
  auto s = test::open_store_with_school(dir.file("t.db"), school);
  auto id = s->create("child", Json{{"pseudonym", "A.B."}});
  REQUIRE(id.ok());
  const Status failed = s->transaction([&]() -> Status {
    TANDEM_TRY(s->forget({*id}));
    return make_error(ErrorCode::kIo, "disk went away");
  });
  CHECK_FALSE(failed.ok());
  auto r = s->get(*id);
  REQUIRE(r.ok());
  CHECK(r->fields["pseudonym"] == "A.B.");
  CHECK(*s->outbox_size() == 2);  // school and child, still to push
  // Shipped records are not the server's to take away.
  auto templates = s->list("template");
  REQUIRE(templates.ok());
  REQUIRE_FALSE(templates->empty());
  REQUIRE(s->forget({templates->front().id}).ok());
  CHECK(s->get(templates->front().id).ok());
}
