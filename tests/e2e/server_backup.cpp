// Backups (issue 17; server/include/tandem/server/backup.hpp): a backup
// taken while 8 devices push holds every change acknowledged before it
// started; restored into a new folder, a purge done after the backup is
// re-applied (erasure is never undone); encrypted servers back up and
// restore under their key, and nothing opens without it.
#include <sys/stat.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "server_process.hpp"
#include "tandem/server/backup.hpp"
#include "test_util.hpp"

using tandem::Change;
using tandem::Op;
using namespace tandem::test;  // NOLINT(google-build-using-namespace)
using nlohmann::json;

namespace {

constexpr int kDevices = 8;

// The stamps of the changes served to `token`, and the records purged.
struct Served {
  std::set<std::string> hlcs;
  std::set<std::string> purged;
};

Served served_to(HttpClient& http, const ServerProcess& server, const std::string& token) {
  Served s;
  for (const auto& p : pull_all(http, server, token)) {
    const json& c = p.at("change");
    s.hlcs.insert(c.at("hlc").get<std::string>());
    if (c.at("op") == "purge") s.purged.insert(c.at("record").get<std::string>());
  }
  return s;
}

}  // namespace

TEST_CASE("backup while 8 devices push: every change acknowledged before it is restored, a later purge is "
          "re-applied",
          "[sqlite-only][e2e][server][backup]") {
  TempDir dir;
  const std::string data = dir.file("data");
  const std::string backup_file = dir.file("backups/monday.db");
  std::filesystem::create_directories(dir.file("backups"));
  const TestSchool school = create_test_school(data, "School");
  auto server = ServerProcess::start(data);
  std::vector<TestDevice> devices;
  for (int i = 0; i < kDevices; ++i) devices.push_back(enroll_test_device(*server, school.person));

  // A course with a canary title, acknowledged before the backup; purged after it.
  ChangeMaker first_maker;
  const std::string canary = "BACKUP-CANARY-purged-after-the-backup-7Hq";
  const Change doomed = first_maker.create_course(school.id, canary);
  HttpClient http;
  {
    const HttpResponse r = http.post(server->url("/v1/sync"), sync_body(1, {doomed}), devices[0].token);
    REQUIRE(r.status == 200);
    REQUIRE(r.json().at("push").at("results").at(0).at("status") == "accepted");
  }

  std::atomic<bool> backup_started{false};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::set<std::string> acked_before;  // answers received before the backup started
  std::set<std::string> acked_all;
  std::atomic<int> failures{0};
  std::atomic<int> answers{0};
  std::string last_answer;
  std::vector<std::thread> pushers;
  for (int d = 0; d < kDevices; ++d) {
    pushers.emplace_back([&, d] {
      HttpClient client;
      ChangeMaker maker;
      std::int64_t mutation_id = d == 0 ? 1 : 0;
      while (!stop) {
        std::vector<Change> batch;
        for (int i = 0; i < 5; ++i) batch.push_back(maker.create_course(school.id, "c"));
        const HttpResponse r = client.post(server->url("/v1/sync"), sync_body(++mutation_id, batch),
                                           devices[static_cast<std::size_t>(d)].token);
        // Read before the answer is looked at: an answer that arrived after
        // the backup started may or may not be in it.
        const bool before = !backup_started;
        if (r.status != 200) {
          ++failures;
          continue;
        }
        ++answers;
        std::lock_guard lock(mu);
        last_answer = r.body.substr(0, 300);
        const json answer = r.json();  // the loop below reads into it: not a temporary
        for (const auto& res : answer.at("push").at("results")) {
          if (res.at("status") != "accepted") {
            ++failures;
            continue;
          }
          const std::string hlc = res.at("hlc").get<std::string>();
          acked_all.insert(hlc);
          if (before) acked_before.insert(hlc);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  backup_started = true;
  const ProcessResult backed_up = server_admin(data, {"backup", "--to", backup_file});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  for (auto& t : pushers) t.join();
  INFO("backup: " << backed_up.out << backed_up.err);
  REQUIRE(backed_up.exit_code == 0);
  CHECK(json::parse(backed_up.out).at("bytes").get<std::int64_t>() > 0);
  CHECK(failures == 0);
  INFO("answers " << answers << ", the last: " << last_answer);
  INFO("acknowledged before the backup: " << acked_before.size() << ", in all: " << acked_all.size());
  REQUIRE(acked_before.size() >= 40);

  // After the backup: the canary course is erased.
  {
    const HttpResponse r = http.post(server->url("/v1/sync"),
                                     sync_body(1'000'000, {first_maker.op(doomed, Op::kPurge)}),
                                     devices[0].token);
    REQUIRE(r.status == 200);
    REQUIRE(r.json().at("push").at("results").at(0).at("status") == "accepted");
  }
  server->terminate();
  CHECK(raw_hits(data, canary) == 0);

  SECTION("restore re-applies the erasure log") {
    const std::string restored = dir.file("restored");
    const json out = server_admin_json(
        restored, {"restore", "--from", backup_file, "--erasure-log", data + "/erasure-log.jsonl"});
    CHECK(out.at("erasures_in_log") == 1);
    CHECK(out.at("erasures_reapplied") == 1);
    CHECK(raw_hits(restored, canary) == 0);  // the backup had it; the restore erased it again

    auto again = ServerProcess::start(restored);
    const TestDevice observer = enroll_test_device(*again, school.person);
    HttpClient h;
    const Served served = served_to(h, *again, observer.token);
    std::size_t missing = 0;
    for (const auto& hlc : acked_before) missing += served.hlcs.count(hlc) == 0 ? 1 : 0;
    CHECK(missing == 0);
    // The purge reaches devices again, and the course does not.
    CHECK(served.purged.count(doomed.record) == 1);
    CHECK(served.hlcs.count(doomed.hlc.str()) == 0);
    again->terminate();
    CHECK(raw_hits(restored, canary) == 0);
    // The new folder's own log holds the purge: a backup of it restored
    // later re-applies it too.
    CHECK(file_bytes(restored + "/erasure-log.jsonl").find(doomed.record) != std::string::npos);
  }
  SECTION("restore refuses to run without a decision about the log, and never over a database") {
    const ProcessResult no_log = server_admin(dir.file("r2"), {"restore", "--from", backup_file});
    CHECK(no_log.exit_code == 2);
    CHECK(no_log.err.find("--erasure-log") != std::string::npos);
    const ProcessResult over = server_admin(
        data, {"restore", "--from", backup_file, "--erasure-log", data + "/erasure-log.jsonl"});
    CHECK(over.exit_code != 0);
    CHECK(over.out.find("already_exists") != std::string::npos);
    CHECK(raw_hits(data, canary) == 0);
  }
}

TEST_CASE("an encrypted server's backup is encrypted under its own key and restores only with the master key",
          "[sqlite-only][e2e][server][backup][encryption]") {
  TempDir dir;
  const std::string data = dir.file("data");
  const std::string key = dir.file("db.key");
  std::ofstream(key) << "8f3a0c5be21d47f9a6c8e0b3d5f7192a4c6e8f0a2b4d6e8f1a3c5e7f9b0d2e4f\n";
  REQUIRE(::chmod(key.c_str(), 0600) == 0);
  const TestSchool school = create_test_school(data, "School");
  const std::string canary = "ENCRYPTED-BACKUP-CANARY-Zp4";
  {
    auto server = ServerProcess::start(data, {"--db-key", key});  // encrypts the plain folder
    const std::string code =
        server_admin_json(data, {"--db-key", key, "enroll-code", "--person", school.person}).at("code");
    HttpClient http;
    const HttpResponse e = http.post(server->url("/v1/enroll"), json{{"code", code}}.dump());
    REQUIRE(e.status == 200);
    ChangeMaker maker;
    const HttpResponse r = http.post(server->url("/v1/sync"),
                                     sync_body(1, {maker.create_course(school.id, canary)}),
                                     e.json().at("token").get<std::string>());
    REQUIRE(r.status == 200);
    std::filesystem::create_directories(dir.file("b"));
    server_admin_json(data, {"--db-key", key, "backup", "--to", dir.file("b/backup.db")});
    server->terminate();
  }
  const std::string backup = file_bytes(dir.file("b/backup.db"));
  REQUIRE_FALSE(backup.empty());
  CHECK(backup.find(canary) == std::string::npos);
  CHECK(backup.find("SQLite format 3") == std::string::npos);
  CHECK(std::filesystem::exists(dir.file("b/keys")));

  // Without the master key: a clear error, nothing made.
  const ProcessResult without =
      server_admin(dir.file("r1"), {"restore", "--from", dir.file("b/backup.db"), "--without-erasure-log"});
  CHECK(without.exit_code != 0);
  CHECK(without.out.find("key_missing") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.file("r1/tandem-server.db")));

  server_admin_json(dir.file("r2"), {"--db-key", key, "restore", "--from", dir.file("b/backup.db"),
                                     "--without-erasure-log"});
  CHECK(raw_hits(dir.file("r2"), canary) == 0);
  auto again = ServerProcess::start(dir.file("r2"), {"--db-key", key});
  const std::string code =
      server_admin_json(dir.file("r2"), {"--db-key", key, "enroll-code", "--person", school.person}).at("code");
  HttpClient http;
  const HttpResponse e = http.post(again->url("/v1/enroll"), json{{"code", code}}.dump());
  REQUIRE(e.status == 200);
  bool found = false;
  for (const auto& p : pull_all(http, *again, e.json().at("token").get<std::string>())) {
    const json& c = p.at("change");
    if (c.at("op") == "create" && c.at("value").value("title", "") == canary) found = true;
  }
  CHECK(found);
  again->terminate();
}

TEST_CASE("the erasure log: a line cut by a crash is left out, a damaged one stops the restore",
          "[sqlite-only][server][backup]") {
  TempDir dir;
  const std::string path = dir.file("erasure-log.jsonl");
  ChangeMaker maker;
  const Change course = maker.create_course("school_x", "t");
  const Change purge = maker.op(course, Op::kPurge);
  {
    tandem::server::ErasureLog log(path);
    REQUIRE(log.append(purge, 1).ok());
    REQUIRE(log.append(maker.op(maker.create_course("school_x", "u"), Op::kPurge), 2).ok());
  }
  auto read = tandem::server::ErasureLog::read(path);
  REQUIRE(read.ok());
  REQUIRE(read->size() == 2);
  CHECK((*read)[0].record == purge.record);
  CHECK((*read)[0].hlc.str() == purge.hlc.str());
  CHECK(file_bytes(path).find("\"t\"") == std::string::npos);  // ids and clocks only
  const std::string whole = file_bytes(path);

  SECTION("a torn last line") {
    std::ofstream(path, std::ios::app) << whole.substr(0, 40);
    auto again = tandem::server::ErasureLog::read(path);
    REQUIRE(again.ok());
    CHECK(again->size() == 2);
  }
  SECTION("a damaged line in the middle") {
    std::ofstream(path, std::ios::trunc) << "{\"not\":\"a purge\"}\n" << whole;
    auto again = tandem::server::ErasureLog::read(path);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().message.find("line 1") != std::string::npos);
  }
  SECTION("a create is not a purge") {
    std::ofstream(path, std::ios::trunc)
        << nlohmann::json{{"change", course.to_json()}}.dump() << "\n" << whole;
    CHECK_FALSE(tandem::server::ErasureLog::read(path).ok());
  }
  SECTION("no log: nothing to re-apply") {
    auto none = tandem::server::ErasureLog::read(dir.file("missing.jsonl"));
    REQUIRE(none.ok());
    CHECK(none->empty());
  }
}
