// tandem-server end to end: the real binary on a free loopback port, a
// temporary data directory, libcurl for HTTP. Behaviour only; no timings.
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include "server_process.hpp"
#include "server_store.hpp"
#include "tandem/core/sqlite.hpp"

using tandem::Change;
using tandem::Op;
using namespace tandem::test;  // NOLINT(google-build-using-namespace)
using nlohmann::json;

namespace {

// Pushes `changes` as one mutation and returns the decoded answer (REQUIREs 200).
json push(HttpClient& http, const ServerProcess& server, const TestDevice& device,
          std::int64_t mutation_id, const std::vector<Change>& changes) {
  const HttpResponse r =
      http.post(server.url("/v1/sync"), sync_body(mutation_id, changes), device.token);
  INFO("push answered " << r.status << ": " << r.body.substr(0, 400));
  REQUIRE(r.status == 200);
  return r.json();
}

// The value of one sample in Prometheus text ("name{labels} value"); -1 if absent.
double metric_value(const std::string& text, const std::string& sample) {
  const auto at = text.find("\n" + sample + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + 1 + sample.size() + 1));
}

long long count_in(const std::vector<json>& pulled, const std::string& hlc) {
  long long n = 0;
  for (const auto& p : pulled) n += p.at("change").at("hlc") == hlc ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("server: /healthz and /metrics answer", "[server][e2e]") {
  TempDir dir;
  auto server = ServerProcess::start(dir.path());
  HttpClient http;
  const auto health = http.get(server->url("/healthz"));
  CHECK(health.status == 200);
  CHECK(health.json().at("status") == "ok");
  CHECK(health.json().at("server_time_ms").is_number_integer());
  CHECK(health.headers.count("x-tandem-server-time") == 1);

  const auto metrics = http.get(server->url("/metrics"));
  CHECK(metrics.status == 200);
  CHECK(metrics.body.find("tandem_http_requests_total{route=\"/healthz\",status=\"200\"}") !=
        std::string::npos);
  CHECK(metrics.body.find("tandem_http_request_duration_seconds_bucket") != std::string::npos);
  CHECK(metrics.body.find("tandem_changes_total{result=\"accepted\"} 0") != std::string::npos);
  CHECK(metrics.body.find("tandem_active_devices 0") != std::string::npos);
}

TEST_CASE("server: admin, enroll, push and pull round trip", "[server][e2e]") {
  SchoolServer world("Skovbakkeskolen");
  auto& [dir, school, server, http] = world;
  const TestDevice a = enroll_test_device(*server, school.person);
  const TestDevice b = enroll_test_device(*server, school.person);
  CHECK(a.school == school.id);
  CHECK(a.id != b.id);
  CHECK(a.token != b.token);
  CHECK(a.token.size() >= 22);  // >= 128 bits in base64url

  // The school and the person, created by the admin commands, reach devices.
  auto initial = pull_all(http, *server, a.token);
  REQUIRE(initial.size() == 2);
  CHECK(initial[0].at("change").at("kind") == "school");
  CHECK(initial[0].at("change").at("value").at("name") == "Skovbakkeskolen");
  CHECK(initial[1].at("change").at("kind") == "person");
  const std::int64_t cursor = initial.back().at("seq").get<std::int64_t>();

  ChangeMaker maker;
  const Change course = maker.create_course(school.id, "Klasseledelse 5.b");
  const Change title = maker.set_field(course, "status", "active");
  const json answer = push(http, *server, a, 1, {course, title});
  CHECK(answer.at("server_time_ms").is_number_integer());
  REQUIRE(answer.at("push").at("results").size() == 2);
  for (const auto& r : answer.at("push").at("results")) {
    CHECK(r.at("status") == "accepted");
    CHECK(r.at("seq").is_number_integer());
  }
  CHECK(answer.at("push").at("results")[0].at("hlc") == course.hlc.str());

  // Device b receives both changes, exactly as pushed.
  auto pulled = pull_all(http, *server, b.token, cursor);
  REQUIRE(pulled.size() == 2);
  CHECK(pulled[0].at("change") == course.to_json());
  CHECK(pulled[1].at("change") == title.to_json());
  CHECK(pulled[0].at("seq").get<std::int64_t>() < pulled[1].at("seq").get<std::int64_t>());

  // Device a is not sent back what it pushed; its cursor still moves past it.
  const HttpResponse own = http.post(server->url("/v1/sync"), pull_body(cursor), a.token);
  REQUIRE(own.status == 200);
  CHECK(own.json().at("pull").at("changes").empty());
  CHECK(own.json().at("pull").at("cursor") == pulled[1].at("seq"));
  CHECK(own.json().at("pull").at("more") == false);

  // Pushing the same changes again in a new mutation: duplicates, nothing new.
  const json again = push(http, *server, b, 1, {course, title});
  for (const auto& r : again.at("push").at("results")) CHECK(r.at("status") == "duplicate");
  CHECK(pull_all(http, *server, b.token, cursor).size() == 2);

  // Push and pull in one round trip: the pull skips the push it came with.
  const Change other = maker.create_course(school.id, "Co-teaching 3.a");
  const HttpResponse both =
      http.post(server->url("/v1/sync"), sync_body(2, {other}, cursor), a.token);
  REQUIRE(both.status == 200);
  CHECK(both.json().at("pull").at("changes").empty());
  CHECK(both.json().at("pull").at("cursor") ==
        both.json().at("push").at("results")[0].at("seq"));
  CHECK(both.json().at("pull").at("more") == false);
  CHECK(pull_all(http, *server, b.token, cursor).size() == 3);

  // The admin sees both devices.
  const json devices = server_admin_json(dir.path(), {"device", "list", "--school", school.id});
  REQUIRE(devices.size() == 2);
  CHECK(devices[0].at("revoked") == false);

  const auto metrics = http.get(server->url("/metrics"));
  CHECK(metrics.body.find("tandem_changes_total{result=\"accepted\"} 3") != std::string::npos);
  CHECK(metrics.body.find("tandem_changes_total{result=\"duplicate\"} 2") != std::string::npos);
  CHECK(metrics.body.find("tandem_active_devices 2") != std::string::npos);
  // The school's first pull read the file; the pulls of up-to-date devices
  // and the tokens seen before were answered from memory.
  const std::string reads = "tandem_storage_reads_total";
  CHECK(metric_value(metrics.body, reads + "{read=\"pull\",from=\"file\"}") >= 1);
  CHECK(metric_value(metrics.body, reads + "{read=\"token\",from=\"file\"}") >= 2);
  // The PostgreSQL store keeps nothing in memory (several instances share it).
  if (!testing_postgres()) {
    CHECK(metric_value(metrics.body, reads + "{read=\"pull\",from=\"memory\"}") >= 3);
    CHECK(metric_value(metrics.body, reads + "{read=\"token\",from=\"memory\"}") >= 4);
  }
}

TEST_CASE("server: enrollment codes are single use and expire", "[server][e2e]") {
  SchoolServer world("School");
  auto& [dir, school, server, http] = world;

  SECTION("single use") {
    const std::string c = world.code_for(school.person);
    CHECK(c.size() == 14);  // XXXX-XXXX-XXXX
    const json body{{"code", c}, {"device_name", "tablet"}};
    CHECK(http.post(server->url("/v1/enroll"), body.dump()).status == 200);
    const auto second = http.post(server->url("/v1/enroll"), body.dump());
    CHECK(second.status == 401);
    CHECK(second.error_code() == "unauthorized");
  }
  SECTION("typed sloppily: lower case, no dashes, O for 0") {
    const std::string c = world.code_for(school.person);
    std::string typed;
    for (char ch : c) {
      if (ch == '-') continue;
      typed.push_back(ch == '0' ? 'o'
                                : static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    }
    CHECK(http.post(server->url("/v1/enroll"), json{{"code", typed}}.dump()).status == 200);
  }
  SECTION("expired by lifetime") {
    const std::string c = server_admin_json(dir.path(), {"enroll-code", "--person", school.person,
                                                         "--ttl-seconds", "1"})
                              .at("code");
    std::this_thread::sleep_for(std::chrono::milliseconds(1300));
    const auto r = http.post(server->url("/v1/enroll"), json{{"code", c}}.dump());
    CHECK(r.status == 401);
    CHECK(r.error_code() == "expired");
  }
  SECTION("expired: issued by a clock two hours behind") {
    const std::string c = server_admin_json(dir.path(), {"--now-offset-ms", "-7200000",
                                                         "enroll-code", "--person", school.person})
                              .at("code");
    const auto r = http.post(server->url("/v1/enroll"), json{{"code", c}}.dump());
    CHECK(r.status == 401);
    CHECK(r.error_code() == "expired");
  }
  SECTION("unknown code") {
    const auto r = http.post(server->url("/v1/enroll"), json{{"code", "ABCD-EFGH-JKMN"}}.dump());
    CHECK(r.status == 401);
    CHECK(r.error_code() == "unauthorized");
  }
  SECTION("unknown person") {
    const auto r = server_admin(dir.path(), {"enroll-code", "--person", "person_nobody"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("not_found") != std::string::npos);
  }
}

TEST_CASE("server: a revoked device gets 401", "[server][e2e]") {
  SchoolServer world("School");
  auto& [dir, school, server, http] = world;
  const TestDevice d = enroll_test_device(*server, school.person);
  CHECK(http.post(server->url("/v1/sync"), pull_body(0), d.token).status == 200);

  const json revoked = server_admin_json(dir.path(), {"device", "revoke", d.id});
  CHECK(revoked.at("revoked") == true);
  // Refused at once, also a pull, which reaches no commit.
  const auto pull = http.post(server->url("/v1/sync"), pull_body(0), d.token);
  CHECK(pull.status == 401);
  CHECK(pull.error_code() == "unauthorized");

  ChangeMaker maker;
  const auto r = http.post(server->url("/v1/sync"),
                           sync_body(1, {maker.create_course(school.id, "x")}, 0), d.token);
  CHECK(r.status == 401);
  CHECK(r.error_code() == "unauthorized");
  CHECK(r.headers.count("www-authenticate") == 1);
  const json devices = server_admin_json(dir.path(), {"device", "list", "--school", school.id});
  REQUIRE(devices.size() == 1);
  CHECK(devices[0].at("revoked") == true);
  CHECK(server_admin(dir.path(), {"device", "revoke", "dev_unknown"}).exit_code == 1);
}

TEST_CASE("server: replaying one push 10 times takes effect once", "[server][e2e]") {
  SchoolServer world("School");
  auto& [dir, school, server, http] = world;
  const TestDevice d = enroll_test_device(*server, school.person);
  ChangeMaker maker;
  std::vector<Change> batch;
  for (int i = 0; i < 5; ++i)
    batch.push_back(maker.create_course(school.id, "course " + std::to_string(i)));
  const std::string body = sync_body(7, batch);

  const auto first = http.post(server->url("/v1/sync"), body, d.token);
  REQUIRE(first.status == 200);
  const json first_push = first.json().at("push");
  for (int i = 0; i < 10; ++i) {
    const auto again = http.post(server->url("/v1/sync"), body, d.token);
    REQUIRE(again.status == 200);
    json p = again.json().at("push");
    CHECK(p.at("replayed") == true);
    p.erase("replayed");
    CHECK(p == first_push);  // the stored answer, verbatim
  }
  const TestDevice observer = enroll_test_device(*server, school.person);
  const auto pulled = pull_all(http, *server, observer.token);
  CHECK(pulled.size() == 2 + batch.size());
  for (const auto& c : batch) CHECK(count_in(pulled, c.hlc.str()) == 1);

  // An older id, or the same id with other changes, is refused and changes nothing.
  const auto stale = http.post(server->url("/v1/sync"),
                               sync_body(6, {maker.create_course(school.id, "s")}), d.token);
  CHECK(stale.status == 409);
  CHECK(stale.json().at("error").at("last_mutation_id") == 7);
  const auto reused = http.post(server->url("/v1/sync"),
                                sync_body(7, {maker.create_course(school.id, "r")}), d.token);
  CHECK(reused.status == 409);
  CHECK(reused.error_code() == "already_exists");
  CHECK(pull_all(http, *server, observer.token).size() == pulled.size());

  const auto metrics = http.get(server->url("/metrics"));
  CHECK(metrics.body.find("tandem_changes_total{result=\"accepted\"} 5") != std::string::npos);
}

TEST_CASE("server: pull pages through a few thousand changes", "[server][e2e]") {
  SchoolServer world("School");
  auto& [dir, school, server, http] = world;
  const TestDevice d = enroll_test_device(*server, school.person);
  ChangeMaker maker;
  std::set<std::string> pushed;
  for (int m = 1; m <= 3; ++m) {
    std::vector<Change> batch;
    for (int i = 0; i < 1000; ++i) {
      batch.push_back(maker.create_course(school.id, "c" + std::to_string(m * 1000 + i)));
      pushed.insert(batch.back().hlc.str());
    }
    const json answer = push(http, *server, d, m, batch);
    for (const auto& r : answer.at("push").at("results")) REQUIRE(r.at("status") == "accepted");
  }

  // Pages of 700: 3002 changes -> 5 pages, `more` on all but the last (read
  // by another device: d is not sent its own changes).
  const TestDevice r_device = enroll_test_device(*server, school.person);
  std::int64_t cursor = 0;
  std::int64_t last_seq = 0;
  int pages = 0;
  std::set<std::string> seen;
  for (;;) {
    const auto r = http.post(server->url("/v1/sync"), pull_body(cursor, 700), r_device.token);
    REQUIRE(r.status == 200);
    const json page = r.json().at("pull");
    ++pages;
    CHECK(page.at("changes").size() <= 700);
    for (const auto& c : page.at("changes")) {
      const auto seq = c.at("seq").get<std::int64_t>();
      CHECK(seq == last_seq + 1);  // dense, ascending, no repeats
      last_seq = seq;
      seen.insert(c.at("change").at("hlc").get<std::string>());
    }
    cursor = page.at("cursor").get<std::int64_t>();
    if (!page.at("more").get<bool>()) break;
  }
  CHECK(pages == 5);
  CHECK(last_seq == 3002);
  for (const auto& h : pushed) CHECK(seen.count(h) == 1);
  // A limit above the maximum is served as the maximum.
  const auto big = http.post(server->url("/v1/sync"), pull_body(0, 5000), r_device.token);
  REQUIRE(big.status == 200);
  CHECK(big.json().at("pull").at("changes").size() == 1000);
  CHECK(big.json().at("pull").at("more") == true);
  // Past the end: nothing, cursor unchanged.
  const auto end = http.post(server->url("/v1/sync"), pull_body(cursor), r_device.token);
  CHECK(end.json().at("pull").at("changes").empty());
  CHECK(end.json().at("pull").at("cursor") == cursor);
  // The device that pushed them all pages past them in one empty page.
  const auto own = http.post(server->url("/v1/sync"), pull_body(2, 700), d.token);
  REQUIRE(own.status == 200);
  CHECK(own.json().at("pull").at("changes").empty());
  CHECK(own.json().at("pull").at("cursor") == 3002);
  CHECK(own.json().at("pull").at("more") == false);
}

TEST_CASE("server: tables of version 1 are upgraded in place, old changes reach every device",
          "[sqlite-only][server][e2e]") {
  TempDir dir;
  const TestSchool school = create_test_school(dir.path(), "School");
  {
    // Back to version 1, as a server of that version left it: no origin
    // column, a unique stamp and an index by record.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(dir.file("tandem-server.db").c_str(), &db) == SQLITE_OK);
    const tandem::Status down = tandem::sqlite::exec(
        db,
        "CREATE TABLE server_changes_v1(school TEXT NOT NULL, seq INTEGER NOT NULL, hlc TEXT NOT "
        "NULL UNIQUE, record TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL, "
        "PRIMARY KEY(school, seq)) WITHOUT ROWID;"
        "INSERT INTO server_changes_v1 SELECT school, seq, hlc, record, kind, body "
        "FROM server_changes;"
        "DROP TABLE server_changes;"
        "ALTER TABLE server_changes_v1 RENAME TO server_changes;"
        "CREATE INDEX server_changes_record ON server_changes(record);"
        "DROP TABLE server_scope; DROP TABLE server_members; DROP TABLE server_links;"
        "DROP TABLE server_consents; DROP TABLE server_scope_versions;"
        "DROP TABLE server_device_views; DELETE FROM server_meta WHERE key='scopes_v4_built';"
        // Version 5's device columns (lost tablets, token rotation).
        "DROP INDEX server_devices_next_token;"
        "ALTER TABLE server_devices DROP COLUMN wipe_ordered_ms;"
        "ALTER TABLE server_devices DROP COLUMN wipe_delivered_ms;"
        "ALTER TABLE server_devices DROP COLUMN token_ms;"
        "ALTER TABLE server_devices DROP COLUMN rotate_due;"
        "ALTER TABLE server_devices DROP COLUMN next_token_hash;"
        "UPDATE server_meta SET value='1' WHERE key='schema_version';");
    sqlite3_close(db);
    REQUIRE(down.ok());
  }
  auto server = ServerProcess::start(dir.path());
  HttpClient http;
  const TestDevice a = enroll_test_device(*server, school.person);
  const TestDevice b = enroll_test_device(*server, school.person);
  ChangeMaker maker;
  const Change course = maker.create_course(school.id, "after the upgrade");
  push(http, *server, a, 1, {course});
  const auto to_a = pull_all(http, *server, a.token);
  const auto to_b = pull_all(http, *server, b.token);
  CHECK(to_a.size() == 2);  // school and person, written before the upgrade
  CHECK(count_in(to_a, course.hlc.str()) == 0);
  CHECK(to_b.size() == 3);
  CHECK(count_in(to_b, course.hlc.str()) == 1);
  server->terminate();

  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(dir.file("tandem-server.db").c_str(), &db, SQLITE_OPEN_READONLY,
                          nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT value FROM server_meta WHERE key='schema_version'", -1,
                             &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "5");
  sqlite3_finalize(st);
  // Version 4: every record has its scope row, those from before the upgrade
  // included (the school and the person: reference data).
  REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*) FROM server_scope WHERE kind IN "
                                 "('school','person','course')",
                             -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(sqlite3_column_int(st, 0) == 3);
  sqlite3_finalize(st);
  // Version 3: the sequence has no secondary index left.
  REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type='index' AND "
                                 "tbl_name='server_changes'",
                             -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(sqlite3_column_int(st, 0) == 0);  // neither the unique stamp nor by record
  sqlite3_finalize(st);
  sqlite3_close(db);
}

TEST_CASE("server: clock skew, deletes and purges", "[server][e2e]") {
  SchoolServer world("School", {"--max-skew-ms", "60000"});
  auto& [dir, school, server, http] = world;
  const TestDevice d = enroll_test_device(*server, school.person);
  // Reads what the server serves (d is not sent back its own changes).
  const TestDevice observer = enroll_test_device(*server, school.person);
  ChangeMaker maker;

  SECTION("a change stamped too far ahead is rejected with clock_skew") {
    ChangeMaker wrong_clock;  // a device whose clock runs 10 minutes fast
    const Change future = wrong_clock.restamp(
        wrong_clock.create_course(school.id, "from the future"), 10 * 60 * 1000);
    const Change fine = maker.create_course(school.id, "now");
    const auto r = http.post(server->url("/v1/sync"), sync_body(1, {future, fine}), d.token);
    REQUIRE(r.status == 200);
    const json results = r.json().at("push").at("results");
    CHECK(results[0].at("status") == "rejected");
    CHECK(results[0].at("error").at("code") == "clock_skew");
    CHECK(results[1].at("status") == "accepted");
    const auto server_time = r.json().at("server_time_ms").get<std::int64_t>();
    CHECK(future.hlc.ms - server_time > 60000);
    const auto pulled = pull_all(http, *server, observer.token);
    CHECK(count_in(pulled, future.hlc.str()) == 0);
    CHECK(count_in(pulled, fine.hlc.str()) == 1);
  }
  SECTION("a purge removes the record's earlier changes from the sequence") {
    const Change course = maker.create_course(school.id, "Sensitive");
    const Change note = maker.set_field(course, "title", "Even more sensitive");
    push(http, *server, d, 1, {course, note});
    // Pulled once before the purge: the server holds these rows in memory too.
    CHECK(count_in(pull_all(http, *server, observer.token), course.hlc.str()) == 1);
    const Change purge = maker.op(course, Op::kPurge);
    const json answer = push(http, *server, d, 2, {purge});
    CHECK(answer.at("push").at("results")[0].at("status") == "accepted");
    const auto pulled = pull_all(http, *server, observer.token);
    CHECK(count_in(pulled, course.hlc.str()) == 0);
    CHECK(count_in(pulled, note.hlc.str()) == 0);
    CHECK(count_in(pulled, purge.hlc.str()) == 1);
    // A late copy of the purged content is taken but not stored or served.
    const json late = push(http, *server, d, 3, {maker.set_field(course, "title", "late")});
    CHECK(late.at("push").at("results")[0].at("status") == "accepted");
    CHECK(late.at("push").at("results")[0].contains("seq") == false);
    CHECK(pull_all(http, *server, observer.token).size() == pulled.size());
    for (const auto& p : pull_all(http, *server, observer.token)) {
      CHECK(p.dump().find("ensitive") == std::string::npos);
    }
    // Gone from the server's files too, not only from what it serves.
    for (const char* name : {"tandem-server.db", "tandem-server.db-wal"}) {
      std::ifstream in(dir.file(name), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      INFO(name);
      CHECK(bytes.find("ensitive") == std::string::npos);
    }
  }
}

namespace {
// Sends POST /v1/sync with `body` over a new connection, the body's first
// bytes before SIGTERM reaches `server` and the rest after; returns what came
// back until the server closed the connection (*closed: it did).
std::string sync_across_sigterm(ServerProcess& server, const std::string& token,
                                const std::string& body, bool* closed) {
  RawConnection conn(server.port());
  REQUIRE(conn.send("POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
                    "\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 5)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  REQUIRE(server.signal(SIGTERM));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  REQUIRE(conn.send(body.substr(5)));
  return conn.read_until_closed(std::chrono::milliseconds(5000), closed);
}
}  // namespace

TEST_CASE("server: SIGTERM drains and exits 0", "[server][e2e]") {
  SchoolServer world("School");
  auto& [dir, school, server, http] = world;
  const TestDevice d = enroll_test_device(*server, school.person);
  // An idle keep-alive connection must not hold the shutdown up.
  RawConnection idle(server->port());
  REQUIRE(idle.ok());
  CHECK(http.post(server->url("/v1/sync"), pull_body(0), d.token).status == 200);
  const ProcessResult r = server->terminate();
  CHECK_FALSE(r.timed_out);
  CHECK(r.term_signal == 0);
  CHECK(r.exit_code == 0);
  bool closed = false;
  idle.read_until_closed(std::chrono::milliseconds(2000), &closed);
  CHECK(closed);
  // The data is still there after a restart.
  auto again = ServerProcess::start(dir.path());
  CHECK(pull_all(http, *again, d.token).size() == 2);

  // A request in flight when the signal comes is answered (then the
  // connection closes), and the server still exits 0.
  bool slow_closed = false;
  const std::string answer = sync_across_sigterm(*again, d.token, pull_body(0), &slow_closed);
  CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(answer.find("Connection: close") != std::string::npos);
  CHECK(slow_closed);
  const ProcessResult r2 = again->wait();
  CHECK(r2.exit_code == 0);

  // A push in flight when the signal comes waits in the commit queue, not on
  // a thread: it is still committed and answered, and it survives.
  auto third = ServerProcess::start(dir.path());
  const TestDevice e = enroll_test_device(*third, school.person);
  ChangeMaker maker;
  const Change course = maker.create_course(school.id, "Sent during shutdown");
  bool push_closed = false;
  const std::string pushed = sync_across_sigterm(*third, d.token, sync_body(1, {course}), &push_closed);
  CHECK(push_closed);
  CHECK(pushed.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(pushed.find("\"accepted\"") != std::string::npos);
  CHECK(third->wait().exit_code == 0);
  auto fourth = ServerProcess::start(dir.path());
  const auto seen = pull_all(http, *fourth, e.token);
  REQUIRE(seen.size() == 3);
  CHECK(seen.back().at("change") == course.to_json());
}

TEST_CASE("server: last_seen is written with the next commit, without holding up the request",
          "[server][e2e]") {
  TempDir dir;
  const TestSchool school = create_test_school(dir.path(), "School");
  TestDevice d;
  {
    auto server = ServerProcess::start(dir.path());
    d = enroll_test_device(*server, school.person);
  }
  // Two days later the device no longer counts as active...
  const std::string later = std::to_string(2LL * 24 * 60 * 60 * 1000);
  auto server = ServerProcess::start(dir.path(), {"--now-offset-ms", later});
  HttpClient http;
  const auto active = [&](ServerProcess& s) {
    const std::string body = http.get(s.url("/metrics")).body;
    const auto at = body.find("\ntandem_active_devices ");
    return at == std::string::npos ? -1 : std::atoi(body.c_str() + at + 23);
  };
  CHECK(active(*server) == 0);
  // ...until it syncs (a pull only: nothing else to commit). The write is
  // queued for the commit thread; wait for it to land.
  CHECK(http.post(server->url("/v1/sync"), pull_body(0), d.token).status == 200);
  int seen = 0;
  for (int i = 0; i < 200 && seen != 1; ++i) {
    seen = active(*server);
    if (seen != 1) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  CHECK(seen == 1);
  // It was committed: still there after a restart.
  CHECK(server->terminate().exit_code == 0);
  auto again = ServerProcess::start(dir.path(), {"--now-offset-ms", later});
  CHECK(active(*again) == 1);
}

TEST_CASE("server: listen address and port 0", "[server][e2e]") {
  TempDir dir;
  auto one = ServerProcess::start(dir.path());
  TempDir dir2;
  auto two = ServerProcess::start(dir2.path());
  CHECK(one->port() != two->port());
  CHECK(one->port() > 0);
  const auto bad = run_process(server_binary(), {"--data", dir.path(), "--listen", "nonsense"});
  CHECK(bad.exit_code == 2);
}
