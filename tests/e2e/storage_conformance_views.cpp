// Storage conformance, part 3: what the sync rules keep through
// PushTransaction (scope rows, members, links, consents, scope versions,
// device views, meta), that a failed write undoes only itself, and the audit
// chain. Every case runs on the SQLite and the PostgreSQL backend, each on a
// fresh store (storage_conformance.hpp). The callbacks run on the commit
// thread: they only collect what they read; the case asserts afterwards.
#include <algorithm>
#include <catch2/catch.hpp>
#include <future>

#include "storage_conformance.hpp"

using tandem::ErrorCode;
using tandem::Status;
using tandem::server::AuditEntry;
using tandem::server::AuditEntryRow;
using tandem::server::AuditRef;
using tandem::server::AuditVerification;
using tandem::server::ConsentRow;
using tandem::server::DeviceView;
using tandem::server::PushTransaction;
using tandem::server::RecordScope;
using tandem::server::ServerStorage;
using namespace tandem::test::conformance;

namespace {

template <typename T>
std::vector<T> sorted(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v;
}

void check_same_view(const DeviceView& got, const DeviceView& want) {
  CHECK(got.number == want.number);
  CHECK(got.view == want.view);
  CHECK(got.acked_view == want.acked_view);
  CHECK(got.scope_version == want.scope_version);
  CHECK(got.day == want.day);
  CHECK(got.gone == want.gone);
  CHECK(got.backfill == want.backfill);
  CHECK(got.backfill_upto == want.backfill_upto);
  CHECK(got.rewind == want.rewind);
}

std::vector<RecordScope> by_record(const std::vector<tandem::server::ScopeRef>& refs) {
  std::vector<RecordScope> v;
  for (const auto& r : refs) v.push_back(*r);
  std::sort(v.begin(), v.end(),
            [](const RecordScope& x, const RecordScope& y) { return x.record < y.record; });
  return v;
}

RecordScope plain_scope(const std::string& record, const std::string& school,
                        const std::string& kind) {
  RecordScope r;
  r.record = record;
  r.school = school;
  r.kind = kind;
  return r;
}

bool same_consent(const ConsentRow& x, const ConsentRow& y) {
  return x.id == y.id && x.school == y.school && x.child == y.child && x.scope == y.scope &&
         x.given_on == y.given_on && x.withdrawn_on == y.withdrawn_on && x.live == y.live;
}

// What the case reads back inside one transaction.
struct Seen {
  std::optional<RecordScope> course, entry, missing;
  std::vector<RecordScope> under_course, under_nothing, of_school;
  std::vector<std::string> members, anchors_p1, anchors_p2, anchors_elsewhere;
  std::vector<std::pair<std::string, std::string>> links;
  std::vector<ConsentRow> consents, consents_elsewhere;
  std::int64_t school_version = -1, person_version = -1, unknown_version = -1;
  std::optional<DeviceView> view, no_view;
  std::optional<std::string> meta, no_meta;
  std::optional<tandem::server::DeviceRecord> device, no_device;
  std::optional<tandem::Record> record, no_record;
};

Status look(PushTransaction& txn, const std::string& school, const std::string& person,
            const std::string& device, Seen& seen) {
  auto try_get = [](auto result, auto& into) -> Status {
    if (!result) return std::move(result).error();
    into = std::move(*result);
    return {};
  };
  TANDEM_TRY(try_get(txn.scope("course_x"), seen.course));
  TANDEM_TRY(try_get(txn.scope("entry_y"), seen.entry));
  TANDEM_TRY(try_get(txn.scope("record_nope"), seen.missing));
  TANDEM_TRY(try_get(txn.scopes_under("course_x"), seen.under_course));
  TANDEM_TRY(try_get(txn.scopes_under(""), seen.under_nothing));
  TANDEM_TRY(try_get(txn.school_scopes(school), seen.of_school));
  TANDEM_TRY(try_get(txn.members("course_x"), seen.members));
  TANDEM_TRY(try_get(txn.anchors_of(school, "person_p1"), seen.anchors_p1));
  TANDEM_TRY(try_get(txn.anchors_of(school, "person_p2"), seen.anchors_p2));
  TANDEM_TRY(try_get(txn.anchors_of("school_other", "person_p2"), seen.anchors_elsewhere));
  TANDEM_TRY(try_get(txn.links_of({"course_x", "course_nope"}), seen.links));
  TANDEM_TRY(try_get(txn.consents(school), seen.consents));
  TANDEM_TRY(try_get(txn.consents("school_other"), seen.consents_elsewhere));
  TANDEM_TRY(try_get(txn.scope_version(school), seen.school_version));
  TANDEM_TRY(try_get(txn.scope_version(person), seen.person_version));
  TANDEM_TRY(try_get(txn.scope_version("nobody"), seen.unknown_version));
  TANDEM_TRY(try_get(txn.device_view(device), seen.view));
  TANDEM_TRY(try_get(txn.device_view("dev_nope"), seen.no_view));
  TANDEM_TRY(try_get(txn.meta("views_built"), seen.meta));
  TANDEM_TRY(try_get(txn.meta("meta_nope"), seen.no_meta));
  TANDEM_TRY(try_get(txn.device(device), seen.device));
  TANDEM_TRY(try_get(txn.device("dev_nope"), seen.no_device));
  TANDEM_TRY(try_get(txn.record(person), seen.record));
  TANDEM_TRY(try_get(txn.record("person_nope"), seen.no_record));
  return {};
}

}  // namespace

TEST_CASE("storage conformance: the visibility bookkeeping keeps what it is given",
          "[storage][conformance][both-stores]") {
  TANDEM_CONFORMANCE_STORE(s);
  const School school = make_school(s, "Skolen", 1);
  const std::string& dev = school.devices[0].id;
  const RecordScope course{"course_x", school.id,   "course",    "", "course_x", "course",
                           "",         "person_p1", "person_p1", "", 3};
  const RecordScope entry{"entry_y", school.id,   "entry",     "course_x", "course_x", "course",
                          "child_1", "person_p2", "person_p1", "",         4};
  const ConsentRow consent{"consent_1",  school.id, "child_1", "observation_notes",
                           "2026-01-05", "",        true};
  DeviceView view;
  view.number = 7;
  view.view = R"({"v":1})";
  view.acked_view = R"({"v":0})";
  view.scope_version = 3;
  view.day = "2026-03-02";
  view.gone = {"entry_old"};
  view.backfill = {"course_x", "entry_y"};
  view.backfill_upto = 12;
  view.rewind = true;

  REQUIRE(write(s, school.id, [&](PushTransaction& txn) -> Status {
    TANDEM_TRY(txn.put_scope(course));
    TANDEM_TRY(txn.put_scope(entry));
    TANDEM_TRY(txn.set_members(school.id, "course_x", {"person_p2", "person_p1", "person_p1"}));
    TANDEM_TRY(txn.set_links(school.id, "course_x", {"child_2", "child_1"}));
    TANDEM_TRY(txn.put_consent(consent));
    TANDEM_TRY(txn.bump_scope_version(school.id));
    TANDEM_TRY(txn.bump_scope_version(school.id));
    TANDEM_TRY(txn.bump_scope_version(school.person));
    TANDEM_TRY(txn.put_device_view(dev, view));
    return txn.set_meta("views_built", "1");
  }));
  Seen seen;
  REQUIRE(write(s, school.id, [&](PushTransaction& txn) {
    return look(txn, school.id, school.person, dev, seen);
  }));
  CHECK(seen.course == std::optional<RecordScope>(course));
  CHECK(seen.entry == std::optional<RecordScope>(entry));
  CHECK_FALSE(seen.missing);
  CHECK(seen.under_course == std::vector<RecordScope>{entry});
  CHECK(seen.under_nothing.empty());
  // The school's rows: ours and those of what the administration created.
  std::vector<std::string> scoped;
  for (const auto& r : seen.of_school) {
    scoped.push_back(r.record);
    CHECK(r.school == school.id);
    if (r.record == school.id) CHECK((r.kind == "school" && r.first_seq == 1));
    if (r.record == school.person) CHECK((r.kind == "person" && r.first_seq == 2));
  }
  CHECK(sorted(scoped) == sorted<std::string>({"course_x", "entry_y", school.id, school.person}));
  CHECK(seen.members == std::vector<std::string>{"person_p1", "person_p2"});
  CHECK(seen.anchors_p1 == std::vector<std::string>{"course_x"});
  CHECK(seen.anchors_elsewhere.empty());
  CHECK(sorted(seen.links) == std::vector<std::pair<std::string, std::string>>{
                                  {"course_x", "child_1"}, {"course_x", "child_2"}});
  REQUIRE(seen.consents.size() == 1);
  CHECK(same_consent(seen.consents[0], consent));
  CHECK(seen.consents_elsewhere.empty());
  CHECK(seen.school_version == 2);
  CHECK(seen.person_version == 1);
  CHECK(seen.unknown_version == 0);
  REQUIRE(seen.view);
  check_same_view(*seen.view, view);
  CHECK_FALSE(seen.no_view);
  CHECK(seen.meta == std::optional<std::string>("1"));
  CHECK_FALSE(seen.no_meta);
  REQUIRE(seen.device);
  CHECK(seen.device->school == school.id);
  CHECK(seen.device->person == school.person);
  CHECK_FALSE(seen.no_device);
  REQUIRE(seen.record);
  CHECK(seen.record->kind == "person");
  CHECK_FALSE(seen.no_record);

  // Outside a transaction: scope rows by record, the pull's state in one read.
  auto scopes = s.scopes_of({"entry_y", "course_x", "record_nope"});
  REQUIRE(scopes);
  CHECK(by_record(*scopes) == std::vector<RecordScope>{course, entry});
  auto state = s.pull_state(dev, school.id, school.person);
  REQUIRE(state);
  CHECK(state->scope_version == 3);  // the school's 2 + the person's 1
  REQUIRE(state->view);
  check_same_view(*state->view, view);
  auto stranger = s.pull_state("dev_nope", school.id, "person_nope");
  REQUIRE(stranger);
  CHECK_FALSE(stranger->view);
  CHECK(stranger->scope_version == 2);
  auto setting = s.setting("views_built");
  REQUIRE(setting);
  CHECK(*setting == std::optional<std::string>("1"));

  // Replaced as a whole.
  RecordScope moved = entry;
  moved.parent = "";
  moved.anchor = "";
  moved.anchor_kind = "";
  moved.child = "child_2";
  const ConsentRow withdrawn{"consent_1",  school.id,    "child_1", "observation_notes",
                             "2026-01-05", "2026-02-01", false};
  DeviceView next = view;
  next.number = 8;
  next.gone = {};
  next.backfill = {};
  next.rewind = false;
  REQUIRE(write(s, school.id, [&](PushTransaction& txn) -> Status {
    TANDEM_TRY(txn.put_scope(moved));
    TANDEM_TRY(txn.set_members(school.id, "course_x", {"person_p2"}));
    TANDEM_TRY(txn.set_links(school.id, "course_x", {}));
    TANDEM_TRY(txn.put_consent(withdrawn));
    TANDEM_TRY(txn.bump_scope_version(school.person));
    TANDEM_TRY(txn.put_device_view(dev, next));
    return txn.set_meta("views_built", "2");
  }));
  seen = Seen{};
  REQUIRE(write(s, school.id, [&](PushTransaction& txn) {
    return look(txn, school.id, school.person, dev, seen);
  }));
  CHECK(seen.entry == std::optional<RecordScope>(moved));
  CHECK(seen.under_course.empty());
  CHECK(seen.members == std::vector<std::string>{"person_p2"});
  CHECK(seen.anchors_p1.empty());
  CHECK(seen.anchors_p2 == std::vector<std::string>{"course_x"});
  CHECK(seen.links.empty());
  REQUIRE(seen.consents.size() == 1);
  CHECK(same_consent(seen.consents[0], withdrawn));
  CHECK(seen.person_version == 2);
  REQUIRE(seen.view);
  check_same_view(*seen.view, next);
  CHECK(seen.meta == std::optional<std::string>("2"));
  state = s.pull_state(dev, school.id, school.person);
  REQUIRE(state);
  CHECK(state->scope_version == 4);
  REQUIRE(state->view);
  CHECK(state->view->number == 8);
}

TEST_CASE("storage conformance: a failed write undoes only what it did",
          "[storage][conformance][both-stores]") {
  TANDEM_CONFORMANCE_STORE(s);
  const School school = make_school(s, "Skolen", 1);
  const std::string& dev = school.devices[0].id;
  tandem::test::ChangeMaker maker;
  const tandem::Change doomed = maker.create_course(school.id, "doomed");
  const tandem::Change kept = maker.create_course(school.id, "kept");
  DeviceView view;
  view.number = 1;
  view.view = "{}";

  // Queued together (one commit group, as a rule): the first fails after
  // writing every kind of row; the second commits.
  std::promise<Status> failed, committed;
  s.submit_write(
      school.id, 1,
      [&](PushTransaction& txn) -> Status {
        auto applied = apply_all(txn, {doomed});
        if (!applied) return std::move(applied).error();
        TANDEM_TRY(txn.put_scope(plain_scope("course_z", school.id, "course")));
        TANDEM_TRY(txn.set_members(school.id, "course_z", {"person_p1"}));
        TANDEM_TRY(txn.set_links(school.id, "course_z", {"child_1"}));
        TANDEM_TRY(txn.put_consent(ConsentRow{"consent_z", school.id, "child_1", "resource_team",
                                              "2026-01-05", "", true}));
        TANDEM_TRY(txn.bump_scope_version(school.id));
        TANDEM_TRY(txn.put_device_view(dev, view));
        TANDEM_TRY(txn.set_meta("doomed", "1"));
        TANDEM_TRY(txn.append_audit(AuditEntry{
            1000, school.id, school.person, dev, "read", {AuditRef{doomed.record, "child_1"}}}));
        return tandem::make_error(ErrorCode::kForbidden, "refused after writing");
      },
      [&](Status st) { failed.set_value(std::move(st)); });
  s.submit_write(
      school.id, 1,
      [&](PushTransaction& txn) -> Status {
        auto applied = apply_all(txn, {kept});
        if (!applied) return std::move(applied).error();
        TANDEM_TRY(txn.bump_scope_version(school.person));
        return txn.set_meta("kept", "1");
      },
      [&](Status st) { committed.set_value(std::move(st)); });
  CHECK(failure(failed.get_future().get()) == ErrorCode::kForbidden);
  REQUIRE(committed.get_future().get());

  const auto page = read(s, school.id, 0, 100);
  CHECK(seqs(page) == dense(3));  // the school, its person, `kept` (no number lost)
  CHECK(page.rows.back().record == kept.record);
  auto gone = s.read_record(doomed.record);
  REQUIRE(gone);
  CHECK_FALSE(*gone);
  auto scopes = s.scopes_of({"course_z", doomed.record, kept.record});
  REQUIRE(scopes);
  REQUIRE(scopes->size() == 1);
  CHECK(scopes->front()->record == kept.record);
  auto state = s.pull_state(dev, school.id, school.person);
  REQUIRE(state);
  CHECK(state->scope_version == 1);  // the person's, from `kept`
  CHECK_FALSE(state->view);
  auto doomed_meta = s.setting("doomed");
  REQUIRE(doomed_meta);
  CHECK_FALSE(*doomed_meta);
  auto kept_meta = s.setting("kept");
  REQUIRE(kept_meta);
  CHECK(*kept_meta == std::optional<std::string>("1"));
  auto audit = s.verify_audit();
  REQUIRE(audit);
  CHECK(audit->ok());
  CHECK(audit->entries == 0);

  std::vector<std::string> members;
  std::vector<std::pair<std::string, std::string>> links;
  std::vector<ConsentRow> consents;
  REQUIRE(write(s, school.id, [&](PushTransaction& txn) -> Status {
    auto m = txn.members("course_z");
    if (!m) return std::move(m).error();
    members = *m;
    auto l = txn.links_of({"course_z"});
    if (!l) return std::move(l).error();
    links = *l;
    auto c = txn.consents(school.id);
    if (!c) return std::move(c).error();
    consents = *c;
    return {};
  }));
  CHECK(members.empty());
  CHECK(links.empty());
  CHECK(consents.empty());
}

TEST_CASE("storage conformance: the audit chain verifies, answers per child and is pruned",
          "[storage][conformance][both-stores]") {
  using tandem::server::audit_hash;
  using tandem::server::kAuditGenesisHash;
  TANDEM_CONFORMANCE_STORE(s);
  const School a = make_school(s, "Aaa", 1);
  const School b = make_school(s, "Bbb", 1);
  const std::string& da = a.devices[0].id;
  const AuditEntry a1{1000, a.id, a.person, da, "read", {AuditRef{"entry_1", "child_1"}}};
  const AuditEntry a2{2000,     a.id,
                      a.person, da,
                      "change", {AuditRef{"entry_2", "child_2"}, AuditRef{"entry_3", "child_1"}}};
  const AuditEntry b1{1500, b.id, "", "", "export", {AuditRef{"entry_b", "child_1"}}};
  auto append = [&](const std::string& school, std::vector<AuditEntry> entries) {
    return write(s, school, [entries](PushTransaction& txn) -> Status {
      for (const auto& e : entries) TANDEM_TRY(txn.append_audit(e));
      return {};
    });
  };
  REQUIRE(append(a.id, {a1, a2}));
  REQUIRE(append(b.id, {b1}));
  auto head_of = [](const AuditVerification& v, const std::string& school) {
    for (const auto& h : v.heads)
      if (h.school == school) return h;
    FAIL("no head for " << school);
    return tandem::server::AuditSchoolHead{};
  };

  auto v = s.verify_audit();
  REQUIRE(v);
  CHECK(v->ok());
  CHECK(v->schools == 2);
  CHECK(v->entries == 3);
  REQUIRE(v->heads.size() == 2);
  CHECK(v->heads[0].school < v->heads[1].school);
  const std::string h1 = audit_hash(kAuditGenesisHash, a1, 1);
  const std::string h2 = audit_hash(h1, a2, 2);
  CHECK(head_of(*v, a.id).first_n == 1);
  CHECK(head_of(*v, a.id).last_n == 2);
  CHECK(head_of(*v, a.id).last_hash == h2);
  CHECK(head_of(*v, b.id).last_n == 1);

  // Per child, by time, each entry holding only that child's records.
  auto rows = s.audit_entries_for_child("child_1");
  REQUIRE(rows);
  REQUIRE(rows->size() == 3);
  const AuditEntryRow& first = (*rows)[0];
  CHECK((first.entry.school == a.id && first.n == 1 && first.hash == h1));
  CHECK(first.entry.at_ms == 1000);
  CHECK(first.entry.person == a.person);
  CHECK(first.entry.device == da);
  CHECK(first.entry.action == "read");
  CHECK(((*rows)[1].entry.school == b.id && (*rows)[1].n == 1));
  CHECK((*rows)[1].entry.action == "export");
  CHECK(((*rows)[2].entry.school == a.id && (*rows)[2].n == 2 && (*rows)[2].hash == h2));
  REQUIRE((*rows)[2].entry.records.size() == 1);
  CHECK((*rows)[2].entry.records[0].record == "entry_3");
  rows = s.audit_entries_for_child("child_2");
  REQUIRE(rows);
  REQUIRE(rows->size() == 1);
  CHECK((*rows)[0].entry.records.size() == 1);
  CHECK((*rows)[0].entry.records[0].record == "entry_2");
  rows = s.audit_entries_for_child("child_9");
  REQUIRE(rows);
  CHECK(rows->empty());

  // Entries that break the rules are refused; a write that fails appends
  // nothing, and the next entry follows without a gap.
  CHECK(failure(append(a.id, {AuditEntry{3000, a.id, a.person, da, "peek", a1.records}})) ==
        ErrorCode::kInvalidArgument);
  CHECK(failure(append(a.id, {AuditEntry{3000, a.id, a.person, da, "read", {}}})) ==
        ErrorCode::kInvalidArgument);
  CHECK(failure(append(a.id,
                       {a1, AuditEntry{3000, a.id, "", "", "read", {AuditRef{"bad id", "c"}}}})) ==
        ErrorCode::kInvalidArgument);
  const AuditEntry a3{3000, a.id, a.person, da, "erase", {AuditRef{"entry_1", "child_1"}}};
  REQUIRE(append(a.id, {a3}));
  v = s.verify_audit();
  REQUIRE(v);
  CHECK(v->ok());
  CHECK(v->entries == 4);
  CHECK(head_of(*v, a.id).last_n == 3);
  CHECK(head_of(*v, a.id).last_hash == audit_hash(h2, a3, 3));

  // Retention: each school's entries stamped before the cutoff go; what is
  // kept still verifies.
  auto pruned = s.prune_audit(1600);
  REQUIRE(pruned);
  CHECK(*pruned == 2);  // a1 and b1
  v = s.verify_audit();
  REQUIRE(v);
  CHECK(v->ok());
  CHECK(v->entries == 2);
  CHECK(head_of(*v, a.id).first_n == 2);
  CHECK(head_of(*v, a.id).last_n == 3);
  CHECK(head_of(*v, b.id).first_n == 2);
  CHECK(head_of(*v, b.id).last_n == 1);
  rows = s.audit_entries_for_child("child_1");
  REQUIRE(rows);
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[0].n == 2);
  CHECK((*rows)[1].n == 3);
  pruned = s.prune_audit(1600);
  REQUIRE(pruned);
  CHECK(*pruned == 0);
  // The chain goes on after the checkpoint.
  REQUIRE(
      append(b.id, {AuditEntry{4000, b.id, "", "", "export", {AuditRef{"entry_b", "child_1"}}}}));
  v = s.verify_audit();
  REQUIRE(v);
  CHECK(v->ok());
  CHECK(v->entries == 3);
  CHECK(head_of(*v, b.id).last_n == 2);
}
