// tandem-server against bad input: every case gets its stable status and
// error code, and afterwards the server's state is exactly what it was.
// Also: slow or broken clients are cut off by the timeouts and limits.
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "server_process.hpp"

using tandem::Change;
using namespace tandem::test;  // NOLINT(google-build-using-namespace)
using nlohmann::json;

namespace {

struct BadCase {
  std::string name;
  std::string method;
  std::string path;
  std::string body;
  std::string auth;  // "" = use the device's token; "-" = none
  long status;
  std::string code;
};

std::string change_json_with(const Change& c, const std::string& key, const json& value) {
  json j = c.to_json();
  if (value.is_null()) {
    j.erase(key);
  } else {
    j[key] = value;
  }
  return j.dump();
}

std::string push_of(const std::string& changes_array) {
  return R"({"push":{"mutation_id":1,"changes":)" + changes_array + "}}";
}

}  // namespace

TEST_CASE("server: bad input gets a stable error and changes nothing", "[server][e2e][bad-input]") {
  SchoolServer world("School");
  auto& [dir, school, server, http] = world;
  const TestDevice device = enroll_test_device(*server, school.person);
  const auto before = pull_all(http, *server, device.token);
  REQUIRE(before.size() == 2);
  const std::int64_t cursor = before.back().at("seq").get<std::int64_t>();

  ChangeMaker maker;
  const Change good = maker.create_course(school.id, "valid");
  const std::string good_json = good.to_json().dump();

  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "[";
  for (int i = 0; i < 100; ++i) deep += "]";
  std::string many = "[";
  for (int i = 0; i < 1001; ++i)
    many += (i ? "," : "") + maker.create_course(school.id, "x").to_json().dump();
  many += "]";
  const std::string huge =
      R"({"pull":{"cursor":0},"pad":")" + std::string(9 * 1024 * 1024, 'a') + "\"}";

  const std::vector<BadCase> cases = {
      {"not JSON", "POST", "/v1/sync", "this is not json", "", 400, "invalid_json"},
      {"empty body", "POST", "/v1/sync", "", "", 400, "invalid_json"},
      {"truncated JSON", "POST", "/v1/sync", R"({"push":{"mutation_id":1,"changes":[)", "", 400,
       "invalid_json"},
      {"invalid UTF-8", "POST", "/v1/sync", "{\"pull\":{\"cursor\":0},\"x\":\"\xff\xfe\"}", "", 400,
       "invalid_json"},
      {"nested too deep", "POST", "/v1/sync", deep, "", 400, "invalid_json"},
      {"not an object", "POST", "/v1/sync", "[1,2]", "", 400, "wrong_type"},
      {"unknown top-level member", "POST", "/v1/sync", R"({"pull":{"cursor":0},"extra":1})", "",
       400, "unknown_field"},
      {"unknown push member", "POST", "/v1/sync",
       R"({"push":{"mutation_id":1,"changes":[],"x":0}})", "", 400, "unknown_field"},
      {"cursor as string", "POST", "/v1/sync", R"({"pull":{"cursor":"5"}})", "", 400, "wrong_type"},
      {"negative cursor", "POST", "/v1/sync", R"({"pull":{"cursor":-1}})", "", 400,
       "invalid_value"},
      {"zero limit", "POST", "/v1/sync", R"({"pull":{"cursor":0,"limit":0}})", "", 400,
       "invalid_value"},
      {"missing mutation_id", "POST", "/v1/sync", R"({"push":{"changes":[]}})", "", 400,
       "missing_field"},
      {"fractional mutation_id", "POST", "/v1/sync", R"({"push":{"mutation_id":1.5,"changes":[]}})",
       "", 400, "wrong_type"},
      {"zero mutation_id", "POST", "/v1/sync", R"({"push":{"mutation_id":0,"changes":[]}})", "",
       400, "invalid_value"},
      {"changes not an array", "POST", "/v1/sync", R"({"push":{"mutation_id":1,"changes":{}}})", "",
       400, "wrong_type"},
      {"change with unknown member", "POST", "/v1/sync",
       push_of("[" + change_json_with(good, "colour", "red") + "]"), "", 400, "unknown_field"},
      {"change without hlc", "POST", "/v1/sync",
       push_of("[" + change_json_with(good, "hlc", nullptr) + "]"), "", 400, "missing_field"},
      {"change with malformed hlc", "POST", "/v1/sync",
       push_of("[" + change_json_with(good, "hlc", "yesterday") + "]"), "", 400,
       "invalid_argument"},
      {"change with unknown op", "POST", "/v1/sync",
       push_of("[" + change_json_with(good, "op", "explode") + "]"), "", 400, "invalid_value"},
      {"change record of wrong type", "POST", "/v1/sync",
       push_of("[" + change_json_with(good, "record", 42) + "]"), "", 400, "wrong_type"},
      {"one bad change spoils the batch", "POST", "/v1/sync",
       push_of("[" + good_json + "," + change_json_with(good, "kind", 7) + "]"), "", 400,
       "wrong_type"},
      {"too many changes", "POST", "/v1/sync", push_of(many), "", 413, "too_many_changes"},
      {"body over 8 MiB", "POST", "/v1/sync", huge, "", 413, "payload_too_large"},
      {"no token", "POST", "/v1/sync", push_of("[" + good_json + "]"), "-", 401, "unauthorized"},
      {"unknown token", "POST", "/v1/sync", push_of("[" + good_json + "]"),
       "Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 401, "unauthorized"},
      {"basic auth", "POST", "/v1/sync", push_of("[" + good_json + "]"), "Basic dXNlcjpwYXNz", 401,
       "unauthorized"},
      {"GET on sync", "GET", "/v1/sync", "", "", 405, "invalid_argument"},
      {"PUT on enroll", "PUT", "/v1/enroll", "{}", "", 405, "invalid_argument"},
      {"POST on healthz", "POST", "/healthz", "{}", "", 405, "invalid_argument"},
      {"unknown route", "POST", "/v1/everything", "{}", "", 404, "not_found"},
      // "/" is the leaders' page now (303 to /login): web_login.cpp.
      {"unknown page", "GET", "/index.html", "", "", 404, "not_found"},
      {"enroll: code not a string", "POST", "/v1/enroll", R"({"code":5})", "-", 400, "wrong_type"},
      {"enroll: unknown member", "POST", "/v1/enroll", R"({"code":"ABCD","admin":true})", "-", 400,
       "unknown_field"},
      {"enroll: no code", "POST", "/v1/enroll", R"({"device_name":"x"})", "-", 400,
       "missing_field"},
      {"enroll: not JSON", "POST", "/v1/enroll", "code=ABCD", "-", 400, "invalid_json"},
  };

  for (const BadCase& c : cases) {
    std::vector<std::string> headers;
    if (c.auth.empty()) headers.push_back("Authorization: Bearer " + device.token);
    if (c.auth != "-" && !c.auth.empty()) headers.push_back("Authorization: " + c.auth);
    const HttpResponse r = http.request(c.method, server->url(c.path), c.body, headers);
    INFO(c.name << " -> " << r.status << " " << r.body.substr(0, 300) << r.error);
    CHECK(r.status == c.status);
    CHECK(r.error_code() == c.code);
    const json body = r.json();
    CHECK((body.is_object() && body.contains("error") && body["error"].contains("message")));
    CHECK((body.is_object() && body.contains("server_time_ms")));
    CHECK(r.headers.count("x-tandem-server-time") == 1);
  }

  // Nothing changed: no new changes, no mutation id consumed, no counters moved.
  HttpClient after;
  const TestDevice observer = enroll_test_device(*server, school.person);
  CHECK(pull_all(after, *server, observer.token, cursor).empty());
  const HttpResponse ok = after.post(server->url("/v1/sync"), sync_body(1, {good}), device.token);
  REQUIRE(ok.status == 200);
  CHECK(ok.json().at("push").at("results")[0].at("status") == "accepted");
  CHECK(pull_all(after, *server, observer.token, cursor).size() == 1);
}

TEST_CASE("server: changes the schema refuses are rejected one by one",
          "[server][e2e][bad-input]") {
  SchoolServer world("School");
  auto& [dir, school, server, http] = world;
  const TestDevice device = enroll_test_device(*server, school.person);
  ChangeMaker maker;

  Change unknown_kind = maker.create_course(school.id, "x");
  unknown_kind.kind = "spaceship";
  Change unknown_field = maker.create_course(school.id, "x");
  unknown_field.value["colour"] = "red";
  Change bad_enum = maker.create_course(school.id, "x");
  bad_enum.value["kind"] = "karate";
  Change wrong_type = maker.create_course(school.id, "x");
  wrong_type.value["title"] = 42;
  Change bad_date =
      maker.set_field(maker.create_course(school.id, "x"), "start_date", "2024-02-30");
  Change no_school = maker.create_course(school.id, "x");
  no_school.school = "";
  const Change good = maker.create_course(school.id, "fine");

  const std::vector<std::pair<Change, std::string>> expected = {
      {unknown_kind, "unknown_kind"}, {unknown_field, "unknown_field"}, {bad_enum, "invalid_value"},
      {wrong_type, "wrong_type"},     {bad_date, "invalid_date"},       {no_school, "wrong_school"},
  };
  std::vector<Change> batch;
  for (const auto& [c, _] : expected) batch.push_back(c);
  batch.push_back(good);
  const HttpResponse r = http.post(server->url("/v1/sync"), sync_body(1, batch), device.token);
  REQUIRE(r.status == 200);
  const json results = r.json().at("push").at("results");
  REQUIRE(results.size() == batch.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("change " << i << ": " << results[i].dump());
    CHECK(results[i].at("status") == "rejected");
    CHECK(results[i].at("error").at("code") == expected[i].second);
    CHECK_FALSE(results[i].contains("seq"));
  }
  CHECK(results.back().at("status") == "accepted");
  const TestDevice observer = enroll_test_device(*server, school.person);
  const auto pulled = pull_all(http, *server, observer.token);
  REQUIRE(pulled.size() == 3);  // school, person, the good course
  CHECK(pulled.back().at("change").at("hlc") == good.hlc.str());
  const auto metrics = http.get(server->url("/metrics"));
  CHECK(metrics.body.find("tandem_changes_total{result=\"rejected\"} 6") != std::string::npos);
}

TEST_CASE("server: slow and broken clients are cut off", "[server][e2e][limits]") {
  TempDir dir;
  auto server = ServerProcess::start(dir.path(), {"--header-timeout-ms", "300", "--body-timeout-ms",
                                                  "300", "--idle-timeout-ms", "300"});
  const auto within = std::chrono::milliseconds(3000);

  SECTION("headers that never end") {
    RawConnection c(server->port());
    REQUIRE(c.send("POST /v1/sync HTTP/1.1\r\nHost: x\r\n"));
    bool closed = false;
    c.read_until_closed(within, &closed);
    CHECK(closed);
  }
  SECTION("a body that never comes") {
    RawConnection c(server->port());
    REQUIRE(c.send("POST /v1/enroll HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"code\""));
    bool closed = false;
    c.read_until_closed(within, &closed);
    CHECK(closed);
  }
  SECTION("an idle keep-alive connection") {
    RawConnection c(server->port());
    REQUIRE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    bool closed = false;
    const std::string got = c.read_until_closed(within, &closed);
    CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(closed);
  }
  SECTION("a connection that says nothing") {
    RawConnection c(server->port());
    bool closed = false;
    c.read_until_closed(within, &closed);
    CHECK(closed);
  }
  SECTION("malformed HTTP gets 400 and a close") {
    RawConnection c(server->port());
    REQUIRE(c.send("HELLO THERE\r\n\r\n"));
    bool closed = false;
    const std::string got = c.read_until_closed(within, &closed);
    CHECK(got.rfind("HTTP/1.1 400", 0) == 0);
    CHECK(got.find("invalid_argument") != std::string::npos);
    CHECK(closed);
  }
  SECTION("a declared body over the limit is refused before it is sent") {
    RawConnection c(server->port());
    REQUIRE(c.send("POST /v1/sync HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"));
    bool closed = false;
    const std::string got = c.read_until_closed(within, &closed);
    CHECK(got.rfind("HTTP/1.1 413", 0) == 0);
    CHECK(got.find("payload_too_large") != std::string::npos);
    CHECK(closed);
  }
  SECTION("headers over the limit") {
    RawConnection c(server->port());
    REQUIRE(c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(20000, 'a') +
                   "\r\n\r\n"));
    bool closed = false;
    const std::string got = c.read_until_closed(within, &closed);
    CHECK(got.rfind("HTTP/1.1 431", 0) == 0);
    CHECK(closed);
  }
  // Whatever happened, the server still serves (once the connections above
  // are gone: give it a moment to see them close).
  HttpClient http;
  long status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    status = http.get(server->url("/healthz")).status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  CHECK(status == 200);
}
