// Storage conformance, part 1: administration, enrollment, devices and their
// tokens, mutations, leaders' web sessions, health. Every case runs on the
// SQLite and the PostgreSQL backend, each time on a fresh store, and
// asserts only what storage.hpp promises (storage_conformance.hpp). Part 2,
// the sequence and what the sync rules keep: storage_conformance_sequence.cpp.
#include "storage_conformance.hpp"

#include <catch2/catch.hpp>
#include <future>

#include "tandem/server/limits.hpp"

using tandem::ErrorCode;
using tandem::Result;
using tandem::server::DeviceRecord;
using tandem::server::MutationOutcome;
using tandem::server::MutationState;
using tandem::server::NewDevice;
using tandem::server::PushTransaction;
using tandem::server::ServerStorage;
using tandem::server::WebSessionRow;
using namespace tandem::test::conformance;

namespace {

DeviceRecord listed(ServerStorage& s, const std::string& school, const std::string& id) {
  auto devices = s.list_devices(school);
  REQUIRE(devices);
  for (const auto& d : *devices)
    if (d.id == id) return d;
  FAIL("device " << id << " not listed");
  return {};
}

std::string field(const tandem::Record& r, const char* name) {
  return r.fields.value(name, std::string());
}

}  // namespace

TEST_CASE("storage conformance: schools, people and settings",
          "[storage][conformance][both-stores]") {
  TANDEM_CONFORMANCE_STORE(s);

  auto school = s.create_school("Nordskolen");
  REQUIRE(school);
  CHECK(school->name == "Nordskolen");
  auto person = s.add_person(school->id, "Anna", "teacher", "pedagogue");
  REQUIRE(person);
  CHECK(person->name == "Anna");
  CHECK(person->role == "teacher");

  // The merged records, as every device will get them.
  auto school_record = s.read_record(school->id);
  REQUIRE(school_record);
  REQUIRE(*school_record);
  CHECK((*school_record)->kind == "school");
  CHECK(field(**school_record, "name") == "Nordskolen");
  auto person_record = s.read_record(person->id);
  REQUIRE(person_record);
  REQUIRE(*person_record);
  CHECK((*person_record)->kind == "person");
  CHECK((*person_record)->school == school->id);
  CHECK(field(**person_record, "role") == "teacher");
  CHECK(field(**person_record, "profession") == "pedagogue");
  CHECK((*person_record)->live());
  auto unknown = s.read_record("person_nope");
  REQUIRE(unknown);
  CHECK_FALSE(*unknown);

  CHECK(failure(s.add_person("school_nope", "Bo", "teacher", "")) == ErrorCode::kNotFound);
  // A record that is not a school is no school.
  CHECK(failure(s.add_person(person->id, "Bo", "teacher", "")) == ErrorCode::kNotFound);

  // A role change moves the school's scope version (every view is worked
  // out again), and leaves the profession unless given.
  auto before = s.pull_state("dev_none", school->id, person->id);
  REQUIRE(before);
  REQUIRE(s.update_person(person->id, "leader", std::nullopt));
  auto after = s.pull_state("dev_none", school->id, person->id);
  REQUIRE(after);
  CHECK(after->scope_version > before->scope_version);
  person_record = s.read_record(person->id);
  REQUIRE(person_record);
  REQUIRE(*person_record);
  CHECK(field(**person_record, "role") == "leader");
  CHECK(field(**person_record, "profession") == "pedagogue");
  REQUIRE(s.update_person(person->id, "leader", std::string("teacher")));
  person_record = s.read_record(person->id);
  REQUIRE(person_record);
  REQUIRE(*person_record);
  CHECK(field(**person_record, "profession") == "teacher");
  CHECK(failure(s.update_person("person_nope", "teacher", std::nullopt)) == ErrorCode::kNotFound);
  CHECK(failure(s.update_person(school->id, "teacher", std::nullopt)) == ErrorCode::kNotFound);

  // Every administrative write is in the school's sequence, dense, with no
  // device as its origin (left out for no device).
  const auto page = read(s, school->id, 0, 100, SIZE_MAX, "dev_any");
  CHECK(seqs(page) == dense(static_cast<std::int64_t>(page.rows.size())));
  CHECK(page.rows.size() >= 4);  // school, person, role, role + profession
  CHECK(page.rows.front().record == school->id);
  CHECK(page.rows[1].record == person->id);
  CHECK(page.cursor == page.rows.back().seq);
  CHECK_FALSE(page.more);

  // Settings.
  auto unset = s.setting("reports_for_resource_persons:x");
  REQUIRE(unset);
  CHECK_FALSE(*unset);
  REQUIRE(s.set_setting("reports_for_resource_persons:x", "1"));
  REQUIRE(s.set_setting("reports_for_resource_persons:x", "0"));
  auto set = s.setting("reports_for_resource_persons:x");
  REQUIRE(set);
  CHECK(*set == std::optional<std::string>("0"));

  CHECK(s.check_health());
  auto active = s.count_active_devices(0);
  REQUIRE(active);
  CHECK(*active == 0);
}

TEST_CASE("storage conformance: an enrollment code is checked, then used once",
          "[storage][conformance][both-stores]") {
  TANDEM_CONFORMANCE_STORE(s);
  auto school = s.create_school("Vestskolen");
  REQUIRE(school);
  auto person = s.add_person(school->id, "Bo", "teacher", "");
  REQUIRE(person);

  auto added = s.add_enrollment_code("code-a", person->id, 1000, 5000);
  REQUIRE(added);
  CHECK(*added == school->id);
  CHECK(failure(s.add_enrollment_code("code-b", "person_nope", 1000, 5000)) ==
        ErrorCode::kNotFound);

  // Checked as often as wanted without consuming it.
  for (int i = 0; i < 2; ++i) {
    auto holder = s.enrollment_code("code-a", 2000);
    REQUIRE(holder);
    CHECK(holder->school.id == school->id);
    CHECK(holder->school.name == "Vestskolen");
    CHECK(holder->person.id == person->id);
    CHECK(holder->person.name == "Bo");
    CHECK(holder->person.role == "teacher");
    CHECK(holder->device.id.empty());
  }
  CHECK(failure(s.enrollment_code("code-nope", 2000)) == ErrorCode::kUnauthorized);
  CHECK(failure(s.enrollment_code("code-a", 5000)) == ErrorCode::kExpired);

  // Too late: refused, and nothing is left behind (the code still works in time).
  CHECK(failure(s.enroll("code-a", NewDevice{"dev_a", "Tablet A", "hash-a"}, 5000)) ==
        ErrorCode::kExpired);
  auto none = s.list_devices(school->id);
  REQUIRE(none);
  CHECK(none->empty());
  auto e = s.enroll("code-a", NewDevice{"dev_a", "Tablet A", "hash-a"}, 2000);
  REQUIRE(e);
  CHECK(e->device.id == "dev_a");
  CHECK(e->device.school == school->id);
  CHECK(e->device.person == person->id);
  CHECK(e->device.name == "Tablet A");
  CHECK(e->device.created_ms == 2000);
  CHECK(e->device.token_ms == 2000);
  CHECK_FALSE(e->device.revoked_ms);
  CHECK(e->school.id == school->id);
  CHECK(e->person.id == person->id);
  CHECK(e->person.role == "teacher");

  // Single use.
  CHECK(failure(s.enroll("code-a", NewDevice{"dev_b", "Tablet B", "hash-b"}, 2001)) ==
        ErrorCode::kUnauthorized);
  CHECK(failure(s.enrollment_code("code-a", 2001)) == ErrorCode::kUnauthorized);
  CHECK(failure(s.enroll("code-nope", NewDevice{"dev_c", "", "hash-c"}, 2001)) ==
        ErrorCode::kUnauthorized);
  CHECK(failure(s.device_by_token("hash-b", 2002)) == ErrorCode::kUnauthorized);

  auto found = s.device_by_token("hash-a", 2002);
  REQUIRE(found);
  CHECK(found->id == "dev_a");
  CHECK(found->school == school->id);
  CHECK(found->person == person->id);
  CHECK(found->token_hash == "hash-a");
  CHECK_FALSE(found->by_pending_token);
  CHECK_FALSE(found->token_pending);
  CHECK_FALSE(found->rotate_due);
  CHECK(failure(s.device_by_token("hash-nope", 2002)) == ErrorCode::kUnauthorized);

  // Colliding ids (minted at random, so only in theory): refused, and the
  // code is not used up. (Which code each backend answers is not settled:
  // SQLite kInvalidArgument, PostgreSQL kAlreadyExists.)
  REQUIRE(s.add_enrollment_code("code-c", person->id, 1000, 5000));
  CHECK_FALSE(s.add_enrollment_code("code-c", person->id, 1000, 9000));
  CHECK_FALSE(s.enroll("code-c", NewDevice{"dev_a", "Again", "hash-c"}, 2003));
  CHECK_FALSE(s.enroll("code-c", NewDevice{"dev_c", "Again", "hash-a"}, 2003));
  auto still = s.enrollment_code("code-c", 2004);
  REQUIRE(still);
  CHECK(still->person.id == person->id);
  CHECK(failure(s.enrollment_code("code-c", 5000)) ==
        ErrorCode::kExpired);  // the first one's expiry

  const DeviceRecord d = listed(s, school->id, "dev_a");
  CHECK(d.name == "Tablet A");
  CHECK(d.person == person->id);
  CHECK(d.created_ms == 2000);
  auto all = s.list_devices(school->id);
  REQUIRE(all);
  CHECK(all->size() == 1);
  auto elsewhere = s.list_devices("school_nope");
  REQUIRE(elsewhere);
  CHECK(elsewhere->empty());
}

TEST_CASE("storage conformance: revocation and the wipe order",
          "[storage][conformance][both-stores]") {
  TANDEM_CONFORMANCE_STORE(s);
  const School school = make_school(s, "Sydskolen", 3);
  const std::string& a = school.devices[0].id;
  const std::string& b = school.devices[1].id;

  REQUIRE(
      s.device_by_token("Sydskolen-token-0", 10));  // known (and cached, where a backend caches)
  REQUIRE(s.revoke_device(a, 100));
  CHECK(failure(s.device_by_token("Sydskolen-token-0", 110)) == ErrorCode::kUnauthorized);
  REQUIRE(s.revoke_device(a, 200));  // twice: the first time is kept
  CHECK(listed(s, school.id, a).revoked_ms == std::optional<std::int64_t>(100));
  CHECK_FALSE(listed(s, school.id, a).wipe_ordered_ms);
  CHECK(failure(s.revoke_device("dev_nope", 100)) == ErrorCode::kNotFound);
  CHECK(s.device_by_token("Sydskolen-token-2", 110));  // the others are unaffected

  // A lost tablet: told to erase itself at every contact; the first contact
  // is recorded as the order's delivery.
  REQUIRE(s.revoke_device(b, 300, true));
  CHECK(failure(s.device_by_token("Sydskolen-token-1", 400)) == ErrorCode::kDeviceWiped);
  DeviceRecord wiped = listed(s, school.id, b);
  CHECK(wiped.revoked_ms == std::optional<std::int64_t>(300));
  CHECK(wiped.wipe_ordered_ms == std::optional<std::int64_t>(300));
  CHECK(wiped.wipe_delivered_ms == std::optional<std::int64_t>(400));
  CHECK(failure(s.device_by_token("Sydskolen-token-1", 500)) == ErrorCode::kDeviceWiped);
  CHECK(listed(s, school.id, b).wipe_delivered_ms == std::optional<std::int64_t>(400));

  // A wipe may be ordered for a device already revoked.
  REQUIRE(s.revoke_device(a, 600, true));
  wiped = listed(s, school.id, a);
  CHECK(wiped.revoked_ms == std::optional<std::int64_t>(100));
  CHECK(wiped.wipe_ordered_ms == std::optional<std::int64_t>(600));
  CHECK_FALSE(wiped.wipe_delivered_ms);
  CHECK(failure(s.device_by_token("Sydskolen-token-0", 700)) == ErrorCode::kDeviceWiped);

  // Rotation is for live devices only.
  CHECK(failure(s.request_token_rotation(a)) == ErrorCode::kForbidden);
  CHECK(failure(s.request_token_rotation("dev_nope")) == ErrorCode::kNotFound);
  auto active = s.count_active_devices(0);
  REQUIRE(active);
  CHECK(*active == 1);
}

TEST_CASE("storage conformance: a rotated token replaces the old one",
          "[storage][conformance][both-stores]") {
  TANDEM_CONFORMANCE_STORE(s);
  const School school = make_school(s, "Skolen", 1);
  const std::string id = school.devices[0].id;
  const std::string h0 = "Skolen-token-0";

  auto fresh = s.device_by_token(h0, 10);
  REQUIRE(fresh);
  CHECK(fresh->token_ms == 1);  // dated at enrollment
  CHECK_FALSE(fresh->rotate_due);
  REQUIRE(s.request_token_rotation(id));
  auto due = s.device_by_token(h0, 11);
  REQUIRE(due);
  CHECK(due->rotate_due);
  CHECK(listed(s, school.id, id).rotate_due);

  // Stored only while the caller's token is the current one; a second one
  // replaces the first (whose answer was lost).
  auto stale = s.set_next_token(id, "not-the-current-token", "h1");
  REQUIRE(stale);
  CHECK_FALSE(*stale);
  for (const char* next : {"h1", "h2"}) {
    auto stored = s.set_next_token(id, h0, next);
    REQUIRE(stored);
    CHECK(*stored);
  }
  CHECK(failure(s.device_by_token("h1", 12)) == ErrorCode::kUnauthorized);
  auto both = s.device_by_token(h0, 13);
  REQUIRE(both);
  CHECK(both->token_pending);
  CHECK_FALSE(both->by_pending_token);
  auto by_new = s.device_by_token("h2", 14);
  REQUIRE(by_new);
  CHECK(by_new->id == id);
  CHECK(by_new->by_pending_token);
  CHECK(by_new->token_hash == "h2");

  // Promotion: only the pending token can be made current; from then on the
  // old one is unknown.
  auto lost = s.promote_token(id, "h1", 15);
  REQUIRE(lost);
  CHECK_FALSE(*lost);
  auto promoted = s.promote_token(id, "h2", 15);
  REQUIRE(promoted);
  CHECK(*promoted);
  auto again = s.promote_token(id, "h2", 16);  // a concurrent request's second call
  REQUIRE(again);
  CHECK(*again);
  CHECK(failure(s.device_by_token(h0, 17)) == ErrorCode::kUnauthorized);
  auto current = s.device_by_token("h2", 17);
  REQUIRE(current);
  CHECK_FALSE(current->by_pending_token);
  CHECK(current->token_ms == 15);
  CHECK_FALSE(current->rotate_due);
  CHECK_FALSE(current->token_pending);
  const DeviceRecord row = listed(s, school.id, id);
  CHECK(row.token_ms == 15);
  CHECK_FALSE(row.rotate_due);
  auto old_current = s.set_next_token(id, h0, "h3");
  REQUIRE(old_current);
  CHECK_FALSE(*old_current);

  // A revoked device gets no new token, and its pending one does not work.
  auto pending = s.set_next_token(id, "h2", "h5");
  REQUIRE(pending);
  CHECK(*pending);
  REQUIRE(s.revoke_device(id, 20));
  auto after_revoke = s.set_next_token(id, "h2", "h6");
  REQUIRE(after_revoke);
  CHECK_FALSE(*after_revoke);
  CHECK(failure(s.device_by_token("h5", 21)) == ErrorCode::kUnauthorized);
  auto revoked_promote = s.promote_token(id, "h5", 22);
  REQUIRE(revoked_promote);
  CHECK_FALSE(*revoked_promote);
}

TEST_CASE("storage conformance: a mutation id runs once", "[storage][conformance][both-stores]") {
  TANDEM_CONFORMANCE_STORE(s);
  const School school = make_school(s, "Skolen", 2);
  const DeviceRecord& a = school.devices[0];
  tandem::test::ChangeMaker maker;
  int runs = 0;
  auto answer = [&](const std::string& text) {
    return [&runs, text](PushTransaction&) -> Result<std::string> {
      ++runs;
      return text;
    };
  };
  auto expect = [&](const Result<MutationOutcome>& got, MutationState state, std::int64_t last,
                    const std::string& response) {
    REQUIRE(got);
    CHECK(got->state == state);
    CHECK(got->last_mutation_id == last);
    if (state == MutationState::kCommitted || state == MutationState::kReplayed)
      CHECK(got->response == response);
  };

  expect(mutate(s, a, 1, "one", answer("answer-1")), MutationState::kCommitted, 1, "answer-1");
  CHECK(runs == 1);
  // A retry gets the stored answer without running again.
  expect(mutate(s, a, 1, "one", answer("other")), MutationState::kReplayed, 1, "answer-1");
  expect(mutate(s, a, 1, "two", answer("other")), MutationState::kReused, 1, "");
  expect(mutate(s, a, 0, "zero", answer("other")), MutationState::kStale, 1, "");
  CHECK(runs == 1);
  expect(mutate(s, a, 5, "five", answer("answer-5")), MutationState::kCommitted, 5, "answer-5");
  expect(mutate(s, a, 3, "three", answer("other")), MutationState::kStale, 5, "");
  expect(mutate(s, a, 5, "five", answer("other")), MutationState::kReplayed, 5, "answer-5");
  // Ids are the device's own.
  expect(mutate(s, school.devices[1], 1, "one", answer("b-1")), MutationState::kCommitted, 1,
         "b-1");
  CHECK(runs == 3);

  SECTION("a revoked device's mutation does not land") {
    REQUIRE(s.revoke_device(a.id, 50));
    auto late = mutate(s, a, 6, "six", [&](PushTransaction& txn) -> Result<std::string> {
      auto done = apply_all(txn, {maker.create_course(school.id, "late")});
      if (!done) return std::move(done).error();
      return std::string("{}");
    });
    CHECK(failure(late) == ErrorCode::kUnauthorized);
    CHECK(failure(mutate(s, a, 6, "six", answer("x"))) == ErrorCode::kUnauthorized);
    const auto page = read(s, school.id, 0, 100);
    CHECK(page.rows.size() == 2);  // the school and the person
    CHECK(runs == 3);
  }
  SECTION("a failed mutation leaves nothing behind, and its id unused") {
    const tandem::Change doomed = maker.create_course(school.id, "doomed");
    const tandem::Change kept = maker.create_course(school.id, "kept");
    // Two mutations of one group (submitted together): the one that fails
    // rolls back alone.
    // (The callbacks run on the commit thread: they collect, the case asserts.)
    std::promise<Result<MutationOutcome>> failed, committed;
    std::optional<std::int64_t> doomed_seq;
    s.submit_mutation(
        a, 6, "six", 1,
        [&](PushTransaction& txn) -> Result<std::string> {
          auto done = apply_all(txn, {doomed});
          if (!done) return std::move(done).error();
          doomed_seq = (*done)[0].seq;
          if (auto st = txn.set_meta("doomed", "1"); !st) return std::move(st).error();
          return tandem::make_error(ErrorCode::kInvalidArgument, "refused after merging");
        },
        [&](Result<MutationOutcome> o) { failed.set_value(std::move(o)); });
    s.submit_mutation(
        school.devices[1], 2, "two", 1,
        [&](PushTransaction& txn) -> Result<std::string> {
          auto done = apply_all(txn, {kept});
          if (!done) return std::move(done).error();
          return std::string("kept");
        },
        [&](Result<MutationOutcome> o) { committed.set_value(std::move(o)); });
    CHECK(failure(failed.get_future().get()) == ErrorCode::kInvalidArgument);
    expect(committed.get_future().get(), MutationState::kCommitted, 2, "kept");
    CHECK(doomed_seq == std::optional<std::int64_t>(3));  // the number `kept` then got

    // Nothing of the failed one: no row, no seq taken, no record, no meta.
    const auto page = read(s, school.id, 0, 100);
    CHECK(seqs(page) == dense(3));
    CHECK(page.rows.back().record == kept.record);
    auto gone = s.read_record(doomed.record);
    REQUIRE(gone);
    CHECK_FALSE(*gone);
    auto meta = s.setting("doomed");
    REQUIRE(meta);
    CHECK_FALSE(*meta);
    // Its id was not recorded: the same id with another batch commits, and
    // its rows follow without a gap.
    std::optional<std::string> school_of;
    std::optional<tandem::Record> record;
    std::vector<tandem::server::AppliedChange> first, twice;
    auto retried = mutate(s, a, 6, "six-again", [&](PushTransaction& txn) -> Result<std::string> {
      auto where = txn.record_school(doomed.record);
      if (!where) return std::move(where).error();
      school_of = *where;
      auto merged = txn.record(doomed.record);
      if (!merged) return std::move(merged).error();
      record = *merged;
      auto done = apply_all(txn, {doomed});
      if (!done) return std::move(done).error();
      first = *done;
      // The same change again in one push: a duplicate, not sequenced.
      done = apply_all(txn, {doomed});
      if (!done) return std::move(done).error();
      twice = *done;
      return std::string("retried");
    });
    expect(retried, MutationState::kCommitted, 6, "retried");
    CHECK_FALSE(school_of);  // not even in a cache
    CHECK_FALSE(record);
    REQUIRE(first.size() == 1);
    CHECK(first[0].outcome == tandem::ApplyOutcome::kApplied);
    CHECK(first[0].seq == std::optional<std::int64_t>(4));
    REQUIRE(twice.size() == 1);
    CHECK(twice[0].outcome == tandem::ApplyOutcome::kDuplicate);
    CHECK_FALSE(twice[0].seq);
    CHECK(seqs(read(s, school.id, 0, 100)) == dense(4));
    auto landed = s.read_record(doomed.record);
    REQUIRE(landed);
    REQUIRE(*landed);
    CHECK(field(**landed, "title") == "doomed");
  }
}

TEST_CASE("storage conformance: login codes and web sessions",
          "[storage][conformance][both-stores]") {
  TANDEM_CONFORMANCE_STORE(s);
  const School school = make_school(s, "Skolen", 0);
  const std::string& p = school.person;

  auto added = s.add_login_code("lc1", p, 1000, 2000);
  REQUIRE(added);
  CHECK(*added == school.id);
  CHECK(failure(s.add_login_code("lc0", "person_nope", 1000, 2000)) == ErrorCode::kNotFound);
  auto used = s.use_login_code("lc1", 1500);
  REQUIRE(used);
  CHECK(*used == p);
  CHECK(failure(s.use_login_code("lc1", 1501)) == ErrorCode::kUnauthorized);  // single use
  CHECK(failure(s.use_login_code("lc-nope", 1501)) == ErrorCode::kUnauthorized);
  REQUIRE(s.add_login_code("lc2", p, 1000, 2000));
  CHECK(failure(s.use_login_code("lc2", 2000)) == ErrorCode::kExpired);

  const WebSessionRow one{"ws_1", "wh1", p, school.id, 1000, 5000};
  REQUIRE(s.add_web_session(one, 1000));
  auto got = s.web_session("wh1", 1200);
  REQUIRE(got);
  CHECK(got->id == "ws_1");
  CHECK(got->token_hash == "wh1");
  CHECK(got->person == p);
  CHECK(got->school == school.id);
  CHECK(got->created_ms == 1000);
  CHECK(got->expires_ms == 5000);
  CHECK(failure(s.web_session("wh1", 5000)) == ErrorCode::kUnauthorized);  // expired
  CHECK(failure(s.web_session("wh-nope", 1200)) == ErrorCode::kUnauthorized);

  // A new session forgets the sessions and codes expired by then.
  REQUIRE(s.add_login_code("lc3", p, 1000, 3000));
  REQUIRE(s.add_web_session(WebSessionRow{"ws_2", "wh2", p, school.id, 6000, 9000}, 6000));
  CHECK(failure(s.web_session("wh1", 1200)) == ErrorCode::kUnauthorized);
  CHECK(failure(s.use_login_code("lc3", 1500)) == ErrorCode::kUnauthorized);
  REQUIRE(s.web_session("wh2", 6000));

  REQUIRE(s.delete_web_session("wh2"));
  CHECK(failure(s.web_session("wh2", 6000)) == ErrorCode::kUnauthorized);
  CHECK(s.delete_web_session("wh2"));  // already gone: no error
}

TEST_CASE("storage conformance: active devices are those seen lately",
          "[storage][conformance][both-stores]") {
  using tandem::server::kLastSeenGranularityMs;
  TANDEM_CONFORMANCE_STORE(s);
  const School school = make_school(s, "Skolen", 3);  // enrolled at 1: seen at 1
  auto count = [&](std::int64_t since) {
    auto n = s.count_active_devices(since);
    REQUIRE(n);
    return *n;
  };
  CHECK(count(1) == 3);
  CHECK(count(2) == 0);

  // Seen again: recorded with the next commit group (a write waited for).
  const std::int64_t later = 1 + kLastSeenGranularityMs;
  auto seen = s.device_by_token("Skolen-token-0", later);
  REQUIRE(seen);
  CHECK(seen->last_seen_ms == later);
  REQUIRE(write(s, school.id, [](PushTransaction&) { return tandem::Status{}; }));
  CHECK(count(2) == 1);
  CHECK(listed(s, school.id, school.devices[0].id).last_seen_ms == later);
  CHECK(listed(s, school.id, school.devices[1].id).last_seen_ms == 1);

  REQUIRE(s.revoke_device(school.devices[0].id, later + 1));
  CHECK(count(2) == 0);
  CHECK(count(0) == 2);
  CHECK(s.check_health());
}
