// Storage conformance, part 2: each school's change sequence (dense numbers,
// pages and their cursors, purges, a record's rows) and the school's view
// (school_records). Every case runs on the SQLite and the PostgreSQL
// backend, each on a fresh store (storage_conformance.hpp).
#include <catch2/catch.hpp>

#include "storage_conformance.hpp"

using tandem::Change;
using tandem::ErrorCode;
using tandem::Op;
using tandem::server::AppliedChange;
using tandem::server::ChangePage;
using tandem::server::PushTransaction;
using tandem::server::ServerStorage;
using namespace tandem::test::conformance;

namespace {

std::int64_t seq_of(const AppliedChange& a) {
  REQUIRE(a.seq);
  return *a.seq;
}

ChangePage record_rows(ServerStorage& s, const std::string& school,
                       const std::vector<std::string>& records, std::int64_t after_seq,
                       std::int64_t upto_seq, std::size_t limit = 100,
                       std::size_t max_bytes = SIZE_MAX) {
  auto page = s.read_record_changes(school, records, after_seq, upto_seq, limit, max_bytes);
  REQUIRE(page);
  return *page;
}

}  // namespace

TEST_CASE("storage conformance: each school's sequence is dense and read in bounded pages",
          "[storage][conformance][both-stores]") {
  TANDEM_CONFORMANCE_STORE(s);
  const School a = make_school(s, "Aaa", 2);  // seq 1 the school, 2 its person
  const School b = make_school(s, "Bbb", 1);
  const std::string& a1 = a.devices[0].id;
  const std::string& a2 = a.devices[1].id;
  tandem::test::ChangeMaker maker;
  std::vector<Change> in_a;  // A's courses, by seq - 2
  auto course = [&](const School& school, const std::string& title) {
    Change c = maker.create_course(school.id, title);
    if (school.id == a.id) in_a.push_back(c);
    return c;
  };

  // Pushes of both schools interleaved: each school counts on its own.
  auto p1 = push(s, a.devices[0], 1, {course(a, "c1"), course(a, "c2"), course(a, "c3")});
  auto pb = push(s, b.devices[0], 1, {course(b, "b1"), course(b, "b2")});
  auto p2 = push(s, a.devices[1], 1, {course(a, "c4")});
  auto p3 = push(s, a.devices[0], 2, {course(a, "c5"), course(a, "c6")});
  CHECK(seq_of(p1[0]) == 3);
  CHECK(seq_of(p1[2]) == 5);
  CHECK(seq_of(pb[0]) == 3);
  CHECK(seq_of(pb[1]) == 4);
  CHECK(seq_of(p2[0]) == 6);
  CHECK(seq_of(p3[1]) == 8);

  const ChangePage all = read(s, a.id, 0, 100);
  REQUIRE(seqs(all) == dense(8));
  CHECK_FALSE(all.more);
  CHECK(all.cursor == 8);
  for (std::size_t i = 0; i < in_a.size(); ++i) {
    CHECK(all.rows[i + 2].body == in_a[i].to_json().dump());
    CHECK(all.rows[i + 2].record == in_a[i].record);
  }
  const ChangePage of_b = read(s, b.id, 0, 100);
  CHECK(seqs(of_b) == dense(4));
  CHECK(of_b.rows[3].body.find("\"b2\"") != std::string::npos);
  auto none = s.read_changes("school_nope", 0, 10, SIZE_MAX, "dev_none");
  REQUIRE(none);
  CHECK(none->rows.empty());
  CHECK(none->cursor == 0);

  // Limits: the cursor is the last row's seq while rows remain, else the
  // school's last seq (never below where the reader was).
  ChangePage page = read(s, a.id, 0, 3);
  CHECK(seqs(page) == std::vector<std::int64_t>{1, 2, 3});
  CHECK(page.more);
  CHECK(page.cursor == 3);
  page = read(s, a.id, 3, 3);
  CHECK(seqs(page) == std::vector<std::int64_t>{4, 5, 6});
  CHECK(page.more);
  CHECK(page.cursor == 6);
  page = read(s, a.id, 5, 3);  // exactly the rows left
  CHECK(seqs(page) == std::vector<std::int64_t>{6, 7, 8});
  CHECK_FALSE(page.more);
  CHECK(page.cursor == 8);
  page = read(s, a.id, 8, 3);
  CHECK(page.rows.empty());
  CHECK_FALSE(page.more);
  CHECK(page.cursor == 8);
  page = read(s, a.id, 100, 3);
  CHECK(page.rows.empty());
  CHECK(page.cursor == 100);
  page = read(s, a.id, 0, 0);  // taken as 1
  CHECK(seqs(page) == std::vector<std::int64_t>{1});
  CHECK(page.more);

  // Bytes: the first row always fits; then only whole rows within the budget.
  const std::size_t b1 = all.rows[0].body.size(), b2 = all.rows[1].body.size();
  page = read(s, a.id, 0, 100, 1);
  CHECK(seqs(page) == std::vector<std::int64_t>{1});
  CHECK(page.more);
  CHECK(page.cursor == 1);
  CHECK(page.bytes == b1);
  page = read(s, a.id, 0, 100, b1 + b2);
  CHECK(seqs(page) == std::vector<std::int64_t>{1, 2});
  CHECK(page.cursor == 2);
  page = read(s, a.id, 0, 100, b1 + b2 + all.rows[2].body.size() - 1);
  CHECK(seqs(page) == std::vector<std::int64_t>{1, 2});
  CHECK(page.more);

  // A device's own rows are left out (rows of the server never), and still
  // advance the cursor. a1 pushed 3-5, 7 and 8.
  page = read(s, a.id, 0, 100, SIZE_MAX, a1);
  CHECK(seqs(page) == std::vector<std::int64_t>{1, 2, 6});
  CHECK_FALSE(page.more);
  CHECK(page.cursor == 8);
  page = read(s, a.id, 0, 2, SIZE_MAX, a1);
  CHECK(seqs(page) == std::vector<std::int64_t>{1, 2});
  CHECK(page.more);
  CHECK(page.cursor == 2);
  page = read(s, a.id, 2, 2, SIZE_MAX, a1);
  CHECK(seqs(page) == std::vector<std::int64_t>{6});
  CHECK_FALSE(page.more);
  CHECK(page.cursor == 8);
  page = read(s, a.id, 6, 10, SIZE_MAX, a1);
  CHECK(page.rows.empty());
  CHECK(page.cursor == 8);
  page = read(s, a.id, 0, 100, SIZE_MAX, a2);
  CHECK(seqs(page) == std::vector<std::int64_t>{1, 2, 3, 4, 5, 7, 8});

  // What a write (not a device's push) merges has no device as its origin.
  const Change by_server = course(a, "by the server");
  REQUIRE(write(s, a.id, [&](PushTransaction& txn) -> tandem::Status {
    auto done = apply_all(txn, {by_server});
    if (!done) return std::move(done).error();
    return {};
  }));
  for (const std::string& skip : {a1, a2}) {
    page = read(s, a.id, 8, 10, SIZE_MAX, skip);
    CHECK(seqs(page) == std::vector<std::int64_t>{9});
    CHECK(page.rows[0].record == by_server.record);
  }
  CHECK(seqs(read(s, b.id, 0, 100)) == dense(4));
}

TEST_CASE("storage conformance: a purge leaves only its own row of the record",
          "[storage][conformance][both-stores]") {
  TANDEM_CONFORMANCE_STORE(s);
  const School a = make_school(s, "Aaa", 1);
  const School b = make_school(s, "Bbb", 1);
  tandem::test::ChangeMaker maker;
  const Change c1 = maker.create_course(a.id, "to be erased");
  const Change c2 = maker.create_course(a.id, "kept");
  push(s, a.devices[0], 1, {c1, c2});                                     // 3, 4
  push(s, a.devices[0], 2, {maker.set_field(c1, "title", "secret")});     // 5
  push(s, b.devices[0], 1, {maker.create_course(b.id, "other school")});  // B: 3
  const Change purge = maker.op(c1, Op::kPurge);
  auto purged = push(s, a.devices[0], 3, {purge});
  REQUIRE(purged.size() == 1);
  CHECK(purged[0].outcome == tandem::ApplyOutcome::kApplied);
  CHECK(seq_of(purged[0]) == 6);

  ChangePage page = read(s, a.id, 0, 100);
  CHECK(seqs(page) == std::vector<std::int64_t>{1, 2, 4, 6});
  CHECK(page.cursor == 6);
  CHECK(page.rows.back().record == c1.record);
  CHECK(page.rows.back().body == purge.to_json().dump());
  for (const auto& row : page.rows) CHECK(row.body.find("secret") == std::string::npos);
  CHECK(seqs(read(s, b.id, 0, 100)) == dense(3));
  auto erased = s.read_record(c1.record);
  REQUIRE(erased);
  REQUIRE(*erased);
  CHECK_FALSE((*erased)->purged.empty());
  CHECK_FALSE((*erased)->live());
  CHECK((*erased)->fields.value("title", std::string()).empty());
  // Numbers go on after the purge's; none is given twice.
  const Change c3 = maker.create_course(a.id, "after");
  CHECK(seq_of(push(s, a.devices[0], 4, {c3})[0]) == 7);

  // A record's rows: after_seq < seq <= upto_seq, only the records asked for.
  const std::vector<std::string> both = {c1.record, c2.record};
  page = record_rows(s, a.id, both, 0, 7);
  CHECK(seqs(page) == std::vector<std::int64_t>{4, 6});
  CHECK_FALSE(page.more);
  CHECK(page.cursor == 7);
  CHECK(page.rows[1].body == purge.to_json().dump());
  page = record_rows(s, a.id, {c1.record, c2.record, c3.record}, 0, 5);
  CHECK(seqs(page) == std::vector<std::int64_t>{4});
  CHECK(page.cursor == 5);
  page = record_rows(s, a.id, both, 4, 7);
  CHECK(seqs(page) == std::vector<std::int64_t>{6});
  page = record_rows(s, a.id, both, 6, 7);
  CHECK(page.rows.empty());
  CHECK(page.cursor == 7);
  page = record_rows(s, a.id, both, 0, 7, 1);  // limit
  CHECK(seqs(page) == std::vector<std::int64_t>{4});
  CHECK(page.more);
  CHECK(page.cursor == 4);
  page = record_rows(s, a.id, both, 0, 7, 0);  // taken as 1
  CHECK(seqs(page) == std::vector<std::int64_t>{4});
  CHECK(page.more);
  page = record_rows(s, a.id, both, 0, 7, 100, 1);  // bytes: the first row fits
  CHECK(seqs(page) == std::vector<std::int64_t>{4});
  CHECK(page.more);
  CHECK(page.cursor == 4);
  page = record_rows(s, b.id, both, 0, 7);  // another school's sequence
  CHECK(page.rows.empty());
  CHECK(page.cursor == 7);
  page = record_rows(s, a.id, {}, 0, 7);
  CHECK(page.rows.empty());
  CHECK(page.cursor == 7);
}

TEST_CASE("storage conformance: a school's records as merged, and those changed since",
          "[storage][conformance][both-stores]") {
  TANDEM_CONFORMANCE_STORE(s);
  const School a = make_school(s, "Aaa", 1);
  const School b = make_school(s, "Bbb", 1);
  tandem::test::ChangeMaker maker;
  const Change c1 = maker.create_course(a.id, "one");
  const Change c2 = maker.create_course(a.id, "two");
  const Change cb = maker.create_course(b.id, "elsewhere");
  push(s, a.devices[0], 1, {c1, c2});  // 3, 4
  push(s, b.devices[0], 1, {cb});
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };

  auto snap = s.school_records(a.id, 0);
  REQUIRE(snap);
  CHECK(snap->seq == 4);
  CHECK(ids_of(snap->records) == sorted({a.id, a.person, c1.record, c2.record}));
  for (const auto& r : snap->records) CHECK(r.school == a.id);
  snap = s.school_records(a.id, 2);
  REQUIRE(snap);
  CHECK(ids_of(snap->records) == sorted({c1.record, c2.record}));
  snap = s.school_records(a.id, 4);
  REQUIRE(snap);
  CHECK(snap->records.empty());
  CHECK(snap->seq == 4);

  push(s, a.devices[0], 2, {maker.set_field(c1, "title", "one, renamed")});  // 5
  snap = s.school_records(a.id, 4);
  REQUIRE(snap);
  CHECK(snap->seq == 5);
  REQUIRE(snap->records.size() == 1);
  CHECK(snap->records[0].id == c1.record);
  CHECK(snap->records[0].fields.value("title", std::string()) == "one, renamed");
  // Deleted and purged records are there too when they changed since.
  push(s, a.devices[0], 3, {maker.op(c2, Op::kPurge)});  // 6
  snap = s.school_records(a.id, 5);
  REQUIRE(snap);
  REQUIRE(snap->records.size() == 1);
  CHECK(snap->records[0].id == c2.record);
  CHECK_FALSE(snap->records[0].purged.empty());

  snap = s.school_records(b.id, 0);
  REQUIRE(snap);
  CHECK(snap->seq == 3);
  CHECK(ids_of(snap->records) == sorted({b.id, b.person, cb.record}));
  snap = s.school_records("school_nope", 0);
  REQUIRE(snap);
  CHECK(snap->records.empty());
  CHECK(snap->seq == 0);

  // Inside a transaction: every record of a kind (each has its scope row),
  // a record's school and its first row.
  std::vector<std::string> courses, schools;
  std::optional<std::string> school_of_c1, school_of_none;
  std::int64_t first_c1 = -1, first_none = -1;
  REQUIRE(write(s, a.id, [&](PushTransaction& txn) -> tandem::Status {
    auto ids = txn.record_ids("course");
    if (!ids) return std::move(ids).error();
    courses = *ids;
    ids = txn.record_ids("school");
    if (!ids) return std::move(ids).error();
    schools = *ids;
    auto where = txn.record_school(c1.record);
    if (!where) return std::move(where).error();
    school_of_c1 = *where;
    where = txn.record_school("course_nope");
    if (!where) return std::move(where).error();
    school_of_none = *where;
    auto first = txn.first_seq(a.id, c1.record);
    if (!first) return std::move(first).error();
    first_c1 = *first;
    first = txn.first_seq(a.id, "course_nope");
    if (!first) return std::move(first).error();
    first_none = *first;
    return {};
  }));
  CHECK(sorted(courses) == sorted({c1.record, c2.record, cb.record}));
  CHECK(sorted(schools) == sorted({a.id, b.id}));
  CHECK(school_of_c1 == std::optional<std::string>(a.id));
  CHECK_FALSE(school_of_none);
  CHECK(first_c1 == 3);
  CHECK(first_none == 0);
}

// A record is found through what was merged, not through its visibility
// row: a change merged without a scope row (a set that arrives before its
// record's create, or a caller that skips put_scope) is found by read_record
// and record_ids on both stores (PostgreSQL: server_records).
TEST_CASE("storage conformance: a merged record is found without its scope row",
          "[storage][conformance][both-stores]") {
  TANDEM_CONFORMANCE_STORE(s);
  const School a = make_school(s, "Aaa", 1);
  tandem::test::ChangeMaker maker;
  const Change c = maker.create_course(a.id, "no scope row");
  auto pushed =
      mutate(s, a.devices[0], 1, "one", [&](PushTransaction& txn) -> tandem::Result<std::string> {
        auto applied = txn.apply(c, c.to_json().dump());  // no put_scope
        if (!applied) return std::move(applied).error();
        return std::string("{}");
      });
  REQUIRE(pushed);
  REQUIRE(pushed->state == tandem::server::MutationState::kCommitted);
  auto found = s.read_record(c.record);
  REQUIRE(found);
  CHECK(*found);
  std::vector<std::string> courses;
  REQUIRE(write(s, a.id, [&](PushTransaction& txn) -> tandem::Status {
    auto ids = txn.record_ids("course");
    if (!ids) return std::move(ids).error();
    courses = *ids;
    return {};
  }));
  CHECK(courses == std::vector<std::string>{c.record});
}
