// The audit trail on a real SQLite file: entries appended through the
// storage's commit queue (submit_write), checked, exported and pruned with
// the real tandem-server binary's `audit` commands, and tampered with
// through SQLite on the file as someone with access to it would.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <future>
#include <thread>

#include "cli_runner.hpp"
#include "server_process.hpp"
#include "server_store.hpp"
#include "tandem/server/admin.hpp"
#include "tandem/server/audit.hpp"
#include "tandem/server/limits.hpp"
#include "tandem/server/storage.hpp"
#include "tandem/server/stores.hpp"

using tandem::Status;
using tandem::server::AuditEntry;
using tandem::server::AuditRef;
using tandem::server::PushTransaction;
using tandem::server::ServerStorage;
using tandem::test::ProcessResult;
using tandem::test::TempDir;
using Json = nlohmann::json;

namespace {

constexpr std::int64_t kT0 = 1'790'000'000'000;  // 2026-09-21T14:13:20Z
constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;

std::unique_ptr<ServerStorage> open_storage(const TempDir& dir) {
  auto s = tandem::server::open_sqlite_storage({dir.file("tandem-server.db")});
  REQUIRE(s);
  return std::move(*s);
}

AuditEntry entry(const std::string& school, std::int64_t at, const std::string& person,
                 const std::string& device, const std::string& action,
                 std::vector<AuditRef> records) {
  return AuditEntry{at, school, person, device, action, std::move(records)};
}

// Appends through the commit queue and waits until it is durable.
Status append(ServerStorage& storage, const AuditEntry& e) {
  std::promise<Status> done;
  storage.submit_write(
      e.school, 1, [&](PushTransaction& txn) { return txn.append_audit(e); },
      [&](Status s) { done.set_value(std::move(s)); });
  return done.get_future().get();
}

// Two schools' trails. School "school_a":
//   1 read   pers_1/dev_1  rec_1(child_x) rec_2(child_y) rec_3(child_x)
//   2 change pers_1/dev_1  rec_1(child_x)
//   3 erase  (admin)       rec_2(child_y)
//   4 read   pers_2/dev_2  rec_4(child_x)
// School "school_b": 1 read, 2 export of rec_9(child_z) by pers_9/dev_9.
void write_two_schools(const TempDir& dir) {
  auto storage = open_storage(dir);
  const std::vector<AuditEntry> entries = {
      entry("school_a", kT0, "pers_1", "dev_1", "read",
            {{"rec_1", "child_x"}, {"rec_2", "child_y"}, {"rec_3", "child_x"}}),
      entry("school_b", kT0 + 500, "pers_9", "dev_9", "read", {{"rec_9", "child_z"}}),
      entry("school_a", kT0 + 1000, "pers_1", "dev_1", "change", {{"rec_1", "child_x"}}),
      entry("school_a", kT0 + 2000, "", "", "erase", {{"rec_2", "child_y"}}),
      entry("school_b", kT0 + 2500, "pers_9", "dev_9", "export", {{"rec_9", "child_z"}}),
      entry("school_a", kT0 + 3000, "pers_2", "dev_2", "read", {{"rec_4", "child_x"}}),
  };
  for (const auto& e : entries) REQUIRE(append(*storage, e));
}

// SQL on the database file, as the sqlite3 shell would run it.
void sql(const TempDir& dir, const std::string& text) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(dir.file("tandem-server.db").c_str(), &db) == SQLITE_OK);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &message);
  INFO("sqlite: " << (message ? message : ""));
  sqlite3_free(message);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

// tandem-server --data DIR ARGS (no --json unless given).
ProcessResult admin(const TempDir& dir, std::vector<std::string> args) {
  return tandem::test::run_process(tandem::test::server_binary(),
                                   tandem::test::store_args(dir.path(), std::move(args)));
}

Json export_json(const TempDir& dir, const std::string& child) {
  const ProcessResult r = admin(dir, {"audit", "export", "--child", child, "--json"});
  INFO("stdout: " << r.out << " stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return Json::parse(r.out);
}

// One exported line as "action record person device".
std::vector<std::string> lines(const Json& exported) {
  std::vector<std::string> out;
  for (const auto& l : exported) {
    out.push_back(l.at("action").get<std::string>() + " " + l.at("record").get<std::string>() +
                  " " + l.at("person").get<std::string>() + " " +
                  l.at("device").get<std::string>());
  }
  return out;
}

// `audit verify` must fail naming school_a's entry `n`, and say `what`.
void require_broken_at(const TempDir& dir, std::int64_t n, const std::string& what) {
  const ProcessResult text = admin(dir, {"audit", "verify"});
  INFO("stdout: " << text.out << " stderr: " << text.err);
  CHECK(text.exit_code == tandem::server::kAuditBrokenExit);
  CHECK_THAT(text.err, Catch::Contains("school school_a entry " + std::to_string(n) + ":"));
  CHECK_THAT(text.err, Catch::Contains(what));
  const ProcessResult json = admin(dir, {"--json", "audit", "verify"});
  CHECK(json.exit_code == tandem::server::kAuditBrokenExit);
  const Json j = Json::parse(json.out);
  CHECK(j.at("ok") == false);
  CHECK(j.at("broken").at("school") == "school_a");
  CHECK(j.at("broken").at("n") == n);
}

}  // namespace

TEST_CASE("audit: an intact trail verifies and its export expands batched entries for one child",
          "[sqlite-only][server][audit]") {
  TempDir dir;
  write_two_schools(dir);

  const ProcessResult v = admin(dir, {"--json", "audit", "verify"});
  INFO("stdout: " << v.out << " stderr: " << v.err);
  REQUIRE(v.exit_code == 0);
  const Json j = Json::parse(v.out);
  CHECK(j.at("ok") == true);
  CHECK(j.at("schools") == 2);
  CHECK(j.at("entries") == 6);
  REQUIRE(j.at("heads").size() == 2);
  CHECK(j.at("heads")[0].at("last_n") == 4);
  CHECK(j.at("heads")[0].at("hash").get<std::string>().size() == 64);

  // child_x: entry 1 expanded to its two records of child_x (not rec_2,
  // which names child_y), then entries 2 and 4; ids only, nothing else.
  const Json x = export_json(dir, "child_x");
  CHECK(lines(x) == std::vector<std::string>{"read rec_1 pers_1 dev_1", "read rec_3 pers_1 dev_1",
                                             "change rec_1 pers_1 dev_1",
                                             "read rec_4 pers_2 dev_2"});
  CHECK(x[0].at("at") == "2026-09-21T14:13:20Z");
  CHECK(x[2].at("at") == "2026-09-21T14:13:21Z");
  for (const auto& line : x) CHECK(line.size() == 5);  // at, person, device, record, action
  // The administration's erasure has no person or device.
  CHECK(lines(export_json(dir, "child_y")) ==
        std::vector<std::string>{"read rec_2 pers_1 dev_1", "erase rec_2  "});
  CHECK(lines(export_json(dir, "child_z")).size() == 2);  // the other school's chain
  CHECK(export_json(dir, "child_nobody").empty());

  // CSV: the default, and with --csv; a header line and the same rows.
  const ProcessResult csv = admin(dir, {"audit", "export", "--child", "child_x"});
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out ==
        "at,person,device,record,action\n"
        "2026-09-21T14:13:20Z,pers_1,dev_1,rec_1,read\n"
        "2026-09-21T14:13:20Z,pers_1,dev_1,rec_3,read\n"
        "2026-09-21T14:13:21Z,pers_1,dev_1,rec_1,change\n"
        "2026-09-21T14:13:23Z,pers_2,dev_2,rec_4,read\n");
  CHECK(admin(dir, {"--json", "audit", "export", "--child", "child_x", "--csv"}).out == csv.out);
}

TEST_CASE("audit: verify names the first entry tampered with, deleted or reordered",
          "[sqlite-only][server][audit]") {
  TempDir dir;
  write_two_schools(dir);
  REQUIRE(admin(dir, {"audit", "verify"}).exit_code == 0);
  const std::string unlock = "DROP TRIGGER server_audit_append_only;";

  SECTION("entries cannot be updated through SQL while the trigger stands") {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(dir.file("tandem-server.db").c_str(), &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "UPDATE server_audit SET person='pers_x' WHERE n=2", nullptr, nullptr,
                       nullptr) != SQLITE_OK);
    sqlite3_close(db);
    CHECK(admin(dir, {"audit", "verify"}).exit_code == 0);
  }
  SECTION("one field of one entry changed") {
    sql(dir, unlock + "UPDATE server_audit SET person='pers_x' WHERE school='school_a' AND n=2");
    require_broken_at(dir, 2, "hash does not match");
  }
  SECTION("one record of a batched entry pointed at another child") {
    sql(dir, unlock +
                 "UPDATE server_audit SET records=replace(records, 'child_y', 'child_x') "
                 "WHERE school='school_a' AND n=1");
    require_broken_at(dir, 1, "hash does not match");
  }
  SECTION("the time of an entry moved") {
    sql(dir, unlock + "UPDATE server_audit SET at_ms=at_ms+1 WHERE school='school_a' AND n=3");
    require_broken_at(dir, 3, "hash does not match");
  }
  SECTION("one entry rewritten with its own hash recomputed: the next one breaks") {
    // Whoever recomputes an entry's hash must rewrite every later one and
    // the head as well (each hash covers the one before).
    std::string hash1;
    {
      sqlite3* db = nullptr;
      REQUIRE(sqlite3_open(dir.file("tandem-server.db").c_str(), &db) == SQLITE_OK);
      sqlite3_stmt* st = nullptr;
      REQUIRE(sqlite3_prepare_v2(db,
                                 "SELECT hash FROM server_audit WHERE school='school_a' AND n=1",
                                 -1, &st, nullptr) == SQLITE_OK);
      REQUIRE(sqlite3_step(st) == SQLITE_ROW);
      hash1 = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
      sqlite3_finalize(st);
      sqlite3_close(db);
    }
    const AuditEntry forged =
        entry("school_a", kT0 + 1000, "pers_x", "dev_1", "change", {{"rec_1", "child_x"}});
    sql(dir, unlock + "UPDATE server_audit SET person='pers_x', hash='" +
                 tandem::server::audit_hash(hash1, forged, 2) +
                 "' WHERE school='school_a' AND n=2");
    require_broken_at(dir, 3, "hash does not match");
  }
  SECTION("one entry deleted") {
    sql(dir, "DELETE FROM server_audit WHERE school='school_a' AND n=2");
    require_broken_at(dir, 2, "missing");
  }
  SECTION("two entries swapped (their contents and hashes)") {
    sql(dir, unlock +
                 "CREATE TEMP TABLE t AS SELECT * FROM server_audit WHERE school='school_a' AND "
                 "n IN (2,3);"
                 "UPDATE server_audit SET (at_ms, person, device, action, records, hash) = "
                 "(SELECT at_ms, person, device, action, records, hash FROM t WHERE t.n = 5 - "
                 "server_audit.n) WHERE school='school_a' AND n IN (2,3);");
    require_broken_at(dir, 2, "hash does not match");
  }
  SECTION("the newest entry deleted") {
    sql(dir, "DELETE FROM server_audit WHERE school='school_a' AND n=4");
    require_broken_at(dir, 4, "missing");
  }
  SECTION("the newest entry and the head rolled back together, hash left") {
    sql(dir,
        "DELETE FROM server_audit WHERE school='school_a' AND n=4;"
        "UPDATE server_audit_chain SET last_n=3 WHERE school='school_a'");
    require_broken_at(dir, 3, "head's hash");
  }
  SECTION("a school's head deleted") {
    sql(dir, "DELETE FROM server_audit_chain WHERE school='school_a'");
    require_broken_at(dir, 1, "head is missing");
  }
}

TEST_CASE("audit: pruning keeps the chain verifiable and exports only what it kept",
          "[sqlite-only][server][audit]") {
  TempDir dir;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  {
    auto storage = open_storage(dir);
    for (std::int64_t days : {400, 300, 200, 10, 1}) {
      REQUIRE(append(*storage, entry("school_a", now - days * kDayMs, "pers_1", "dev_1", "read",
                                     {{"rec_" + std::to_string(days), "child_x"}})));
    }
    REQUIRE(append(*storage, entry("school_b", now - 500 * kDayMs, "pers_9", "dev_9", "read",
                                   {{"rec_b", "child_x"}})));
  }
  REQUIRE(lines(export_json(dir, "child_x")).size() == 6);

  const ProcessResult p = admin(dir, {"--json", "audit", "prune", "--older-than-days", "183"});
  INFO("stdout: " << p.out << " stderr: " << p.err);
  REQUIRE(p.exit_code == 0);
  CHECK(Json::parse(p.out).at("deleted") == 4);  // school_a's 400, 300, 200; school_b's only one
  REQUIRE(admin(dir, {"audit", "verify"}).exit_code == 0);
  CHECK(lines(export_json(dir, "child_x")) ==
        std::vector<std::string>{"read rec_10 pers_1 dev_1", "read rec_1 pers_1 dev_1"});

  // The checkpoint still guards the first kept entry.
  SECTION("the first kept entry tampered with") {
    sql(dir,
        "DROP TRIGGER server_audit_append_only;"
        "UPDATE server_audit SET device='dev_x' WHERE school='school_a' AND n=4");
    require_broken_at(dir, 4, "hash does not match");
  }
  SECTION("the first kept entry deleted") {
    sql(dir, "DELETE FROM server_audit WHERE school='school_a' AND n=4");
    require_broken_at(dir, 4, "missing");
  }
  SECTION("a school pruned empty goes on numbering from its head") {
    REQUIRE(admin(dir, {"audit", "prune", "--older-than-days", "0"}).exit_code == 0);
    REQUIRE(admin(dir, {"audit", "verify"}).exit_code == 0);
    CHECK(export_json(dir, "child_x").empty());
    {
      auto storage = open_storage(dir);
      REQUIRE(append(*storage,
                     entry("school_a", now, "pers_1", "dev_1", "read", {{"rec_new", "child_x"}})));
    }
    const ProcessResult v = admin(dir, {"--json", "audit", "verify"});
    REQUIRE(v.exit_code == 0);
    CHECK(Json::parse(v.out).at("heads")[0].at("first_n") == 6);
    CHECK(Json::parse(v.out).at("heads")[0].at("last_n") == 6);
  }
}

TEST_CASE("audit: the server prunes past its retention when it starts", "[sqlite-only][server][audit]") {
  TempDir dir;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  {
    auto storage = open_storage(dir);
    REQUIRE(append(*storage, entry("school_a", now - 40 * kDayMs, "pers_1", "dev_1", "read",
                                   {{"rec_old", "child_x"}})));
    REQUIRE(append(*storage, entry("school_a", now - 20 * kDayMs, "pers_1", "dev_1", "read",
                                   {{"rec_new", "child_x"}})));
  }
  auto server = tandem::test::ServerProcess::start(dir.path(), {"--audit-retention-days", "30"});
  CHECK(lines(export_json(dir, "child_x")) ==
        std::vector<std::string>{"read rec_new pers_1 dev_1"});
  CHECK(admin(dir, {"audit", "verify"}).exit_code == 0);
  CHECK(server->terminate().exit_code == 0);
}

TEST_CASE("audit: writes from many threads for many schools make dense, intact chains",
          "[sqlite-only][server][audit][commit]") {
  TempDir dir;
  auto storage = open_storage(dir);
  constexpr int kThreads = 4, kSchools = 3, kPerThread = 60;
  std::vector<std::thread> threads;
  std::atomic<int> failed_as_asked{0}, wrong{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::future<Status>> pending;
      std::vector<std::shared_ptr<std::promise<Status>>> promises;
      for (int i = 0; i < kPerThread; ++i) {
        const std::string school = "school_" + std::to_string(i % kSchools);
        // Every 7th write appends, then fails: its entry must roll back alone.
        const bool fail = i % 7 == 3;
        auto e = std::make_shared<AuditEntry>(
            entry(school, kT0 + i, "pers_" + std::to_string(t), "dev_" + std::to_string(t), "read",
                  {{"rec_" + std::to_string(t) + "_" + std::to_string(i), "child_x"}}));
        auto promise = std::make_shared<std::promise<Status>>();
        pending.push_back(promise->get_future());
        storage->submit_write(
            school, 1,
            [e, fail](PushTransaction& txn) -> Status {
              TANDEM_TRY(txn.append_audit(*e));
              if (fail) return tandem::make_error(tandem::ErrorCode::kInvalidValue, "asked to");
              return {};
            },
            [promise](Status s) { promise->set_value(std::move(s)); });
      }
      for (int i = 0; i < kPerThread; ++i) {
        const Status s = pending[static_cast<std::size_t>(i)].get();
        const bool fail = i % 7 == 3;
        if (fail && !s && s.error().code == tandem::ErrorCode::kInvalidValue) ++failed_as_asked;
        if (fail == static_cast<bool>(s)) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wrong == 0);
  const int failing_per_thread = (kPerThread + 3) / 7;  // i = 3, 10, 17, ...
  CHECK(failed_as_asked == kThreads * failing_per_thread);

  auto v = storage->verify_audit();
  REQUIRE(v);
  INFO("broken: " << (v->broken ? v->broken->school + " " + std::to_string(v->broken->n) + " " +
                                      v->broken->problem
                                : ""));
  CHECK(v->ok());
  CHECK(v->schools == kSchools);
  CHECK(v->entries == kThreads * (kPerThread - failing_per_thread));
  std::int64_t total = 0;
  for (const auto& h : v->heads) {
    CHECK(h.first_n == 1);
    total += h.last_n;
  }
  CHECK(total == v->entries);  // dense: numbers without gaps, none lost
  auto rows = storage->audit_entries_for_child("child_x");
  REQUIRE(rows);
  CHECK(static_cast<std::int64_t>(rows->size()) == v->entries);
}

TEST_CASE("audit: entries hold ids only and a write after draining is refused", "[sqlite-only][server][audit]") {
  TempDir dir;
  auto storage = open_storage(dir);
  // Text where an id belongs (a pseudonym, a note) is refused, nothing kept.
  CHECK_FALSE(append(
      *storage, entry("school_a", kT0, "pers_1", "dev_1", "read", {{"rec_1", "Anna from 3.b"}})));
  CHECK_FALSE(append(*storage,
                     entry("school_a", kT0, "pers_1", "dev_1", "looked", {{"rec_1", "child_x"}})));
  CHECK_FALSE(append(*storage, entry("school_a", kT0, "pers_1", "dev_1", "read", {})));
  std::vector<AuditRef> many(tandem::server::kMaxAuditRefsPerEntry + 1, {"rec_1", "child_x"});
  CHECK_FALSE(append(*storage, entry("school_a", kT0, "pers_1", "dev_1", "read", many)));
  auto v = storage->verify_audit();
  REQUIRE(v);
  CHECK(v->entries == 0);
  CHECK(v->schools == 0);

  storage->drain();
  const Status late = append(*storage, entry("school_a", kT0, "", "", "read", {{"r", "c"}}));
  REQUIRE_FALSE(late);
  CHECK(late.error().code == tandem::ErrorCode::kServer);
}
