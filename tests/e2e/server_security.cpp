// tandem-server: a device of school A can neither read nor write school B's
// data, through any endpoint, and learns nothing about it from the answers.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "server_process.hpp"

using tandem::Change;
using tandem::Op;
using namespace tandem::test;  // NOLINT(google-build-using-namespace)
using nlohmann::json;

TEST_CASE("server: schools are sealed from each other", "[server][e2e][security]") {
  TempDir dir;
  const TestSchool a = create_test_school(dir.path(), "Alpha school");
  const TestSchool b = create_test_school(dir.path(), "Bravo school");
  auto server = ServerProcess::start(dir.path());
  HttpClient http;
  const TestDevice da = enroll_test_device(*server, a.person);
  const TestDevice db = enroll_test_device(*server, b.person);
  REQUIRE(da.school == a.id);
  REQUIRE(db.school == b.id);
  // Reads B's sequence (db is not sent back what it pushed itself).
  const TestDevice db_reader = enroll_test_device(*server, b.person);

  // School B has a course with a recognisable title and a reference to its person.
  ChangeMaker maker_b;
  const Change b_course = maker_b.create_course(b.id, "BRAVO-SECRET");
  const Change b_tovholder = maker_b.set_field(b_course, "tovholder", b.person);
  {
    const auto r =
        http.post(server->url("/v1/sync"), sync_body(1, {b_course, b_tovholder}), db.token);
    REQUIRE(r.status == 200);
    const json answer = r.json();
    for (const auto& res : answer.at("push").at("results")) REQUIRE(res.at("status") == "accepted");
  }
  const auto b_before = pull_all(http, *server, db_reader.token);
  REQUIRE(b_before.size() == 4);
  const std::int64_t b_cursor = b_before.back().at("seq").get<std::int64_t>();

  ChangeMaker maker_a;
  const auto expect_rejected = [&](std::int64_t mutation_id, const Change& c,
                                   const std::string& code) {
    const auto r = http.post(server->url("/v1/sync"), sync_body(mutation_id, {c}), da.token);
    INFO("attempt " << mutation_id << ": " << r.body.substr(0, 400));
    REQUIRE(r.status == 200);
    const json result = r.json().at("push").at("results").at(0);
    CHECK(result.at("status") == "rejected");
    CHECK(result.at("error").at("code") == code);
    // The answer never echoes the other school's content.
    CHECK(r.body.find("BRAVO") == std::string::npos);
    CHECK(r.body.find(b.name) == std::string::npos);
  };

  SECTION("reading: pull shows only the device's own school, whatever the cursor") {
    for (std::int64_t cursor : {0, 1, 2, 3, 100}) {
      const auto r = http.post(server->url("/v1/sync"), pull_body(cursor), da.token);
      REQUIRE(r.status == 200);
      const json page = r.json();
      for (const auto& c : page.at("pull").at("changes"))
        CHECK(c.at("change").at("school") == a.id);
      CHECK(r.body.find("BRAVO") == std::string::npos);
      CHECK(r.body.find(b.id) == std::string::npos);
      CHECK(r.body.find(b.person) == std::string::npos);
    }
    CHECK(pull_all(http, *server, da.token).size() == 2);
  }
  SECTION("reading: health and metrics reveal no school data") {
    for (const char* path : {"/healthz", "/metrics"}) {
      const auto r = http.get(server->url(path));
      CHECK(r.body.find(b.id) == std::string::npos);
      CHECK(r.body.find("BRAVO") == std::string::npos);
    }
  }
  SECTION("writing: changes naming school B are rejected") {
    expect_rejected(1, maker_a.create_course(b.id, "planted"), "wrong_school");
    Change edit = maker_a.set_field(b_course, "title", "defaced");  // school = B
    expect_rejected(2, edit, "wrong_school");
    expect_rejected(3, maker_a.op(b_course, Op::kDelete), "wrong_school");
    expect_rejected(4, maker_a.op(b_course, Op::kPurge), "wrong_school");
  }
  SECTION("writing: B's records under A's school name are answered not_found") {
    Change edit = maker_a.set_field(b_course, "title", "defaced");
    edit.school = a.id;
    expect_rejected(1, edit, "not_found");
    Change del = maker_a.op(b_course, Op::kDelete);
    del.school = a.id;
    expect_rejected(2, del, "not_found");
    Change purge = maker_a.op(b_course, Op::kPurge);
    purge.school = a.id;
    expect_rejected(3, purge, "not_found");
    Change recreate = maker_a.create_course_with_id(a.id, b_course.record, "hijack");
    expect_rejected(4, recreate, "not_found");
    // B's person record and B's school record.
    Change person = maker_a.set_field(b_course, "name", "renamed");
    person.kind = "person";
    person.record = b.person;
    person.school = a.id;
    expect_rejected(5, person, "not_found");
    Change school_b = maker_a.set_field(b_course, "name", "renamed");
    school_b.kind = "school";
    school_b.record = b.id;
    school_b.school = a.id;
    expect_rejected(6, school_b, "invalid_argument");
  }
  SECTION("writing: references to B's records are answered not_found") {
    const Change mine = maker_a.create_course(a.id, "ours");
    REQUIRE(http.post(server->url("/v1/sync"), sync_body(1, {mine}), da.token).status == 200);
    expect_rejected(2, maker_a.set_field(mine, "tovholder", b.person), "not_found");
    Change add = maker_a.set_field(mine, "participants", b.person);
    add.op = Op::kAdd;
    expect_rejected(3, add, "not_found");
    Change create = maker_a.create_course(a.id, "linked");
    create.value["participants"] = json::array({b.person});
    expect_rejected(4, create, "not_found");
  }
  SECTION("enrollment: a code of school B gives a device of school B only") {
    const std::string code = enrollment_code(dir.path(), b.person);
    const auto r = http.post(server->url("/v1/enroll"), json{{"code", code}}.dump());
    REQUIRE(r.status == 200);
    CHECK(r.json().at("school").at("id") == b.id);
    // ...and A's token is not B's: A still sees only A.
    CHECK(pull_all(http, *server, da.token).size() == 2);
  }

  // Whatever A tried, B's data is exactly as before.
  CHECK(pull_all(http, *server, db_reader.token, b_cursor).empty());
  const auto b_after = pull_all(http, *server, db_reader.token);
  CHECK(b_after == b_before);
}
