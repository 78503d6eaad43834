// The real tandem-server holds push.mutation_id to 1..2^53: 2^63-1 (after
// which a device would add 1 and overflow) and 2^53+1 are refused with 400
// invalid_value and store nothing; 2^53 itself is accepted, and replayed.
#include <catch2/catch.hpp>

#include "server_process.hpp"

using namespace tandem::test;  // NOLINT(google-build-using-namespace)
using nlohmann::json;

TEST_CASE("server: push.mutation_id outside 1..2^53 is refused, 2^53 accepted",
          "[server][e2e][mutation_id]") {
  SchoolServer world("School");
  auto& [dir, school, server, http] = world;
  const TestDevice d = world.enroll();
  const TestDevice observer = world.enroll();
  const std::size_t before = pull_all(http, *server, observer.token).size();
  ChangeMaker maker;

  // Written out: the test must not take the bound from the code it tests.
  const std::int64_t two_to_53 = 9'007'199'254'740'992;
  for (const std::int64_t id :
       {std::int64_t{9'223'372'036'854'775'807}, two_to_53 + 1, std::int64_t{0}}) {
    INFO("mutation_id " << id);
    const auto r = http.post(server->url("/v1/sync"),
                             sync_body(id, {maker.create_course(school.id, "x")}), d.token);
    CHECK(r.status == 400);
    CHECK(r.error_code() == "invalid_value");
    CHECK(r.json().at("error").at("message").get<std::string>().find("mutation_id") !=
          std::string::npos);
  }
  CHECK(pull_all(http, *server, observer.token).size() == before);  // nothing stored

  const auto course = maker.create_course(school.id, "Læsevejledning");
  const std::string body = sync_body(two_to_53, {course});
  const auto accepted = http.post(server->url("/v1/sync"), body, d.token);
  INFO("answer: " << accepted.body);
  REQUIRE(accepted.status == 200);
  CHECK(accepted.json().at("push").at("mutation_id") == two_to_53);
  CHECK(accepted.json().at("push").at("results").at(0).at("status") == "accepted");
  const auto replayed = http.post(server->url("/v1/sync"), body, d.token);
  REQUIRE(replayed.status == 200);
  CHECK(replayed.json().at("push").at("replayed") == true);

  // The next id would be 2^53+1: still refused as out of range, not taken.
  const auto next =
      http.post(server->url("/v1/sync"),
                sync_body(two_to_53 + 1, {maker.create_course(school.id, "y")}), d.token);
  CHECK(next.status == 400);
  CHECK(next.error_code() == "invalid_value");
  CHECK(pull_all(http, *server, observer.token).size() == before + 1);
}
