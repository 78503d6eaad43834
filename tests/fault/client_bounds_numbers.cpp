// The client never trusts a number from the server: a hostile server in the
// test process answers the real `tandem sync` (real engine, real libcurl)
// with one number out of range or out of order per case — negative, beyond
// 2^53, a cursor going backwards, more results than changes pushed, a
// last_mutation_id of 2^63-1 — and the device refuses the answer with
// `bad_response`, sends it no retry, and keeps everything as it was: records,
// outbox, cursor, clock offset, rejected log.
#include <catch2/catch.hpp>
#include <functional>

#include "hostile_school.hpp"
#include "tandem/sync/engine.hpp"
#include "test_util.hpp"

namespace tandem::test {
namespace {

using nlohmann::json;

struct BadNumber {
  const char* name;
  // Spoils the well-behaved answer to the n-th request.
  std::function<void(json& answer, const json& request, int n)> spoil;
};

json pulled(std::int64_t seq, std::int64_t ms, const std::string& name) {
  return json{{"seq", seq}, {"change", school_change(ms, name)}};
}

const std::vector<BadNumber>& bad_numbers() {
  static const std::vector<BadNumber> cases = {
      {"pull cursor negative", [](json& a, const json&, int) { a["pull"]["cursor"] = -1; }},
      {"pull cursor above 2^53",
       [](json& a, const json&, int) { a["pull"]["cursor"] = kTwoTo53 + 1; }},
      {"pull cursor going backwards", [](json& a, const json&, int) { a["pull"]["cursor"] = 3; }},
      {"pulled seq at the request's cursor",
       [](json& a, const json&, int) {
         a["pull"]["changes"] = {pulled(5, wall_ms(), "Overskrevet")};
       }},
      {"pulled seq beyond the page's cursor",
       [](json& a, const json&, int) {
         a["pull"]["changes"] = {pulled(16, wall_ms(), "Overskrevet")};
       }},
      {"pulled seqs out of order",
       [](json& a, const json&, int) {
         a["pull"]["changes"] = {pulled(12, wall_ms(), "A"), pulled(11, wall_ms() + 1, "B")};
       }},
      {"pulled seq above 2^53",
       [](json& a, const json&, int) {
         a["pull"]["changes"] = {pulled(kTwoTo53 + 1, wall_ms(), "Overskrevet")};
         a["pull"]["cursor"] = kTwoTo53 + 1;
       }},
      {"more pulled changes than the page limit asked (2)",
       [](json& a, const json&, int) {
         a["pull"]["changes"] = {pulled(6, wall_ms(), "A"), pulled(7, wall_ms() + 1, "B"),
                                 pulled(8, wall_ms() + 2, "C")};
       }},
      {"more: true without progress",
       [](json& a, const json&, int n) {
         if (n > 20) return;  // today's engine loops: let it finish
         a["pull"]["cursor"] = 5;
         a["pull"]["more"] = true;
       }},
      {"more push results than changes pushed",
       [](json& a, const json&, int) {
         a["push"]["results"].push_back(
             {{"hlc", school_change(wall_ms(), "x")["hlc"]}, {"status", "accepted"}, {"seq", 101}});
       }},
      {"a result for a change that was not pushed",
       [](json& a, const json&, int) {
         a["push"]["results"][0]["hlc"] = school_change(wall_ms(), "x")["hlc"];
       }},
      {"push answer for another mutation_id",
       [](json& a, const json&, int) {
         a["push"]["mutation_id"] = a["push"]["mutation_id"].get<std::int64_t>() + 1;
       }},
      {"result seq above 2^53",
       [](json& a, const json&, int) { a["push"]["results"][0]["seq"] = kTwoTo53 + 1; }},
      {"result seq 0", [](json& a, const json&, int) { a["push"]["results"][0]["seq"] = 0; }},
      {"no push part for a push", [](json& a, const json&, int) { a.erase("push"); }},
      {"server time 2^63-1", [](json& a, const json&, int) { a["server_time_ms"] = kInt64Max; }},
      {"server time negative", [](json& a, const json&, int) { a["server_time_ms"] = -5; }},
  };
  return cases;
}

// The mutation id a device pushed with, from a recorded request body (0: no push).
std::int64_t pushed_id(const json& body) {
  return body.contains("push") ? body.at("push").at("mutation_id").get<std::int64_t>() : 0;
}

}  // namespace

#define BAD_NUMBERS_TEST "a server answer with a number out of range is refused and changes nothing"
TEST_CASE(BAD_NUMBERS_TEST, "[fault][client][hostile]") {
  std::size_t refused = 0;
  for (const BadNumber& bad : bad_numbers()) {
    INFO("case: " << bad.name);
    HostileSchool school([&bad](int n, const json& request, HostileWire& wire) {
      json answer = good_answer(request);
      // A forged time rides along: a refused answer must not move the clock.
      answer["server_time_ms"] = wall_ms() + kTenYearsMs;
      bad.spoil(answer, request, n);
      wire.send(http_answer(200, answer.dump()));
    });
    CliDb db;
    const LocalState before = school.enroll_with_action(db.path(), "Læsebånd i 4.b");

    const ProcessResult r =
        cli_sync(db.path(), {"--page", "2", "--attempts", "3", "--backoff-ms", "1"});
    INFO("tandem sync exited " << r.exit_code << ": " << r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(cli_error_code(r) == "bad_response");
    CHECK(school.bodies().size() == 1);  // a broken answer is not asked for again
    const LocalState after = local_state(db.path());
    CHECK(after.same_data(before));
    CHECK(after.outbox.size() == 1);
    if (r.exit_code == 1 && cli_error_code(r) == "bad_response" && after.same_data(before)) {
      ++refused;
    }
  }
  CHECK(refused == bad_numbers().size());
  print_reliability("hostile server: numbers out of range or order", bad_numbers().size(),
                    std::to_string(refused) + "/" + std::to_string(bad_numbers().size()) +
                        " answers refused (bad_response), 0 local changes, no retry",
                    BAD_NUMBERS_TEST);
}

#define LAST_ID_TEST "a 409 with last_mutation_id beyond 2^53 never makes the client overflow"
TEST_CASE(LAST_ID_TEST, "[fault][client][hostile][mutation_id]") {
  const std::vector<std::int64_t> lasts = {kInt64Max, kTwoTo53 + 1, kTwoTo53};
  std::size_t held = 0;
  for (const std::int64_t last : lasts) {
    INFO("server's last_mutation_id " << last);
    HostileSchool school([last](int n, const json& request, HostileWire& wire) {
      wire.send(n == 1 ? http_stale(last) : http_answer(200, good_answer(request).dump()));
    });
    CliDb db;
    const LocalState before = school.enroll_with_action(db.path(), "Matematikvejledning");

    const ProcessResult r = cli_sync(db.path(), {"--attempts", "2", "--backoff-ms", "1"});
    INFO("tandem sync exited " << r.exit_code << ": " << r.out << r.err);
    CHECK(r.exit_code == 1);
    // 2^53 is in range, but no id is left above it; beyond it the answer is bad.
    const std::string expected = last == kTwoTo53 ? "invalid_value" : "bad_response";
    CHECK(cli_error_code(r) == expected);
    bool ids_in_range = true;
    for (const json& body : school.bodies()) {
      if (body.contains("push")) {
        ids_in_range = ids_in_range && pushed_id(body) >= 1 && pushed_id(body) <= kTwoTo53;
      }
    }
    CHECK(ids_in_range);
    const LocalState after = local_state(db.path());
    CHECK(after.outbox == before.outbox);
    CHECK(after.dump == before.dump);
    CHECK(std::stoll(after.mutation_id) <= kTwoTo53);
    if (r.exit_code == 1 && cli_error_code(r) == expected && ids_in_range &&
        after.outbox == before.outbox) {
      ++held;
    }
  }
  print_reliability("hostile server: 409 last_mutation_id 2^53, 2^53+1, 2^63-1", lasts.size(),
                    std::to_string(held) + "/" + std::to_string(lasts.size()) +
                        " refused with a clear error; every id sent within 1..2^53; outbox kept",
                    LAST_ID_TEST);
}

#define AT_BOUND_TEST \
  "a device at mutation_id 2^53 stops with a clear error and goes on after enrolling again"
TEST_CASE(AT_BOUND_TEST, "[fault][client][hostile][mutation_id]") {
  HostileSchool school([](int n, const json& request, HostileWire& wire) {
    wire.send(n == 1 ? http_stale(kTwoTo53 - 1) : http_answer(200, good_answer(request).dump()));
  });
  CliDb db;
  school.enroll_with_action(db.path(), "Første");
  ProcessResult r = cli_sync(db.path(), {"--backoff-ms", "1"});
  INFO("first sync exited " << r.exit_code << ": " << r.out << r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(school.bodies().size() == 2);
  CHECK(pushed_id(school.bodies()[1]) == kTwoTo53);  // the last id there is

  record_action(db.path(), "Anden");
  const LocalState before = local_state(db.path());
  r = cli_sync(db.path(), {"--backoff-ms", "1"});
  INFO("second sync exited " << r.exit_code << ": " << r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(cli_error_code(r) == "invalid_value");
  CHECK(school.bodies().size() == 2);  // nothing sent with an id beyond 2^53
  const LocalState after = local_state(db.path());
  CHECK(after == before);
  const bool stopped = r.exit_code == 1 && cli_error_code(r) == "invalid_value" &&
                       school.bodies().size() == 2 && after == before;

  // A new enrollment is a new device for the server: ids start again at 1,
  // and the change recorded meanwhile is pushed.
  school.set_device_id("dev_hostile_2");
  r = run_cli({"--db", db.path(), "--json", "enroll", "--server", school.url(), "--code",
               "K7QM-2HXD-9RTB", "--quiet"});
  INFO("enroll again exited " << r.exit_code << ": " << r.out << r.err);
  CHECK(r.exit_code == 0);
  REQUIRE(school.bodies().size() == 3);
  CHECK(pushed_id(school.bodies()[2]) == 1);
  CHECK(local_state(db.path()).outbox.empty());
  const bool resumed = r.exit_code == 0 && pushed_id(school.bodies()[2]) == 1 &&
                       local_state(db.path()).outbox.empty();
  print_reliability("mutation_id at the bound 2^53", 1,
                    std::string("2^53 used; the next push ") +
                        (stopped ? "refused (invalid_value) without sending, nothing changed"
                                 : "NOT refused cleanly") +
                        "; after enrolling again " +
                        (resumed ? "ids restart at 1 and the kept change is pushed"
                                 : "the device did NOT resume"),
                    AT_BOUND_TEST);
}

#define ENROLL_TEST "an enrollment answer with a server time out of range stores nothing"
TEST_CASE(ENROLL_TEST, "[fault][client][hostile]") {
  const std::vector<std::int64_t> times = {kInt64Max, -1, kTwoTo53 + 1};
  std::size_t refused = 0;
  for (const std::int64_t bad_time : times) {
    INFO("server_time_ms " << bad_time);
    HostileServer server([bad_time](const HostileRequest&, HostileWire& wire) {
      const json answer{{"device_id", "dev_x"},
                        {"token", "tok"},
                        {"school", {{"id", HostileSchool::kSchool}, {"name", "S"}}},
                        {"person", {{"id", "person_1"}, {"name", "P"}, {"role", "teacher"}}},
                        {"server_time_ms", bad_time}};
      wire.send(http_answer(200, answer.dump()));
    });
    CliDb db;
    const ProcessResult r = run_cli({"--db", db.path(), "--json", "enroll", "--server",
                                     server.url(), "--code", "K7QM-2HXD-9RTA", "--quiet"});
    INFO("tandem enroll exited " << r.exit_code << ": " << r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(cli_error_code(r) == "bad_response");
    CHECK(server.requests() == 1);
    StoreOptions o;
    o.path = db.path();
    o.encryption = Encryption::kOff;  // made by the CLI: encrypted, keys in test_keys()
    auto store = Store::open(o, encrypted_host());
    REQUIRE(store.ok());
    auto token = (*store)->meta(sync::kMetaToken);
    REQUIRE(token.ok());
    const bool no_token = !*token || (*token)->empty();
    CHECK(no_token);
    if (r.exit_code == 1 && cli_error_code(r) == "bad_response" && no_token) ++refused;
  }
  print_reliability("hostile server: enrollment with server time -1, 2^53+1, 2^63-1", times.size(),
                    std::to_string(refused) + "/" + std::to_string(times.size()) +
                        " refused (bad_response), no token stored",
                    ENROLL_TEST);
}

}  // namespace tandem::test
