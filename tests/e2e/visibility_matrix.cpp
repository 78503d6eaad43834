// Who sees what, end to end: one school, a person of every role with one
// tablet each (real tandem-server on loopback, real libcurl, real SQLite
// files). The resource person's tablet records a child, two courses, a
// resource-team meeting and what hangs under them, every string and text
// field carrying a canary of its own. Five rounds move the scope (no consent;
// consent for observation notes; for the resource team; both withdrawn
// today; teacher A removed from the course). After each round every tablet
// syncs, and for every role the canaries in (a) every answer body it received
// in the round and (b) the bytes of its db, -wal and -journal files must be
// exactly what docs/visibility.md's table gives: nothing out of scope, and
// everything in scope (so the test fails both ways). Then: a device setting
// its own role is refused and sees no more; a write to a record beyond the
// view is answered as for an unknown id; the audit trail lists a read for
// every child-linked record a device received, and verifies. Run with the
// default page size and with pages of 3 (filtering across page boundaries).
#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sync_fixture.hpp"
#include "tandem/core/schema.hpp"
#include "test_util.hpp"
#include "visibility_matrix_world.hpp"

namespace tandem::test {
namespace {

using Keys = std::set<std::string>;

// docs/visibility.md's table for this school, round by round: the records
// (keys of MatrixWorld::records) each role's tablet must hold.
Keys expected(const std::string& role, int round) {
  Keys all = {"K", "C1", "S1", "EK", "E0", "C2", "M", "AK", "A0", "AC1", "AM"};
  if (round >= 2) all.insert("CO");
  if (round >= 3) all.insert("CR");
  if (role == "leader" || role == "resource") return all;  // the resource centre: the school
  const Keys meeting = {"M", "A0", "AM"};
  Keys course = {"C1", "S1", "E0", "AC1"};
  if (role == "teacherA") {
    Keys out = meeting;
    if (round <= 4) out.insert(course.begin(), course.end());
    if (round == 2) out.insert({"EK", "K", "CO"});              // observation_notes in force
    if (round == 3) out.insert({"EK", "K", "CO", "AK", "CR"});  // and resource_team
    return out;
  }
  if (role == "external") {
    Keys out = meeting;
    if (round == 3) out.insert({"AK", "K", "CO", "CR"});  // resource_team: the meeting's child item
    return out;
  }
  return {};  // teacher B and the pedagogue take part in nothing; admin: reference data only
}

std::string names(const Keys& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ",") + k;
  return "{" + out + "}";
}

Keys minus(const Keys& a, const Keys& b) {
  Keys out;
  for (const auto& k : a)
    if (!b.count(k)) out.insert(k);
  return out;
}

void check_round(MatrixWorld& w, int round, const std::map<std::string, RoundCapture>& captured) {
  std::string summary;
  for (const auto& role : MatrixWorld::roles()) {
    const Keys want = expected(role, round);
    const Keys before = round == 1 ? Keys{} : expected(role, round - 1);
    const RoundCapture& got = captured.at(role);
    const Keys in_files = w.keys_in_files(role);
    INFO("round " << round << ", " << role << ": files hold " << names(in_files)
                  << ", answers carried " << names(got.in_responses) << ", table says "
                  << names(want));
    // (b) exactly the table in the device's files, canary by canary.
    CHECK(w.canaries_in_files(role) == w.canaries_of(want));
    // (a) no answer carried anything beyond the table; what entered the
    // scope this round came (the author is not sent its own changes back).
    CHECK(minus(got.in_responses, want).empty());
    if (role != "resource") CHECK(minus(minus(want, before), got.in_responses).empty());
    // Records the store holds as records, too.
    CHECK(w.keys_in_store(role) == want);
    if (role == "admin" || role == "teacherB") {
      for (const auto& k : {"K", "C1", "C2", "S1", "EK", "E0"}) CHECK_FALSE(in_files.count(k));
    }
    summary += " " + role + "=" + std::to_string(in_files.size()) + names(in_files);
  }
  std::printf("visibility matrix (pull_limit %zu) round %d:%s\n", w.pull_limit, round,
              summary.c_str());
  std::fflush(stdout);
}

void run_matrix(std::size_t pull_limit) {
  MatrixWorld w(pull_limit);
  w.record_school();

  // Round 1: no consent.
  check_round(w, 1, w.sync_all());

  // A device that sets its own person's role is refused and sees no more.
  {
    REQUIRE(w.tablet("teacherA").store().set(w.person("teacherA"), "role", "leader").ok());
    const auto captured = w.sync_all();
    CHECK(captured.at("teacherA").rejected_codes == std::vector<std::string>{"forbidden"});
    CHECK(captured.at("teacherA").in_responses.empty());
    CHECK(w.canaries_in_files("teacherA") == w.canaries_of(expected("teacherA", 1)));
    CHECK(w.keys_in_store("teacherA") == expected("teacherA", 1));
  }
  // A write beyond the view gets the answer an unknown id gets.
  w.check_write_beyond_view();

  // Round 2: consent for observation notes.
  w.add_consent("CO", "observation_notes");
  check_round(w, 2, w.sync_all());
  // Round 3: consent for the resource team.
  w.add_consent("CR", "resource_team");
  check_round(w, 3, w.sync_all());
  // Round 4: both withdrawn today (in force through yesterday).
  const std::string today = copenhagen_date(SystemClock().now_ms());
  for (const char* c : {"CO", "CR"})
    REQUIRE(w.tablet("resource").store().set(w.id(c), "withdrawn_on", today).ok());
  check_round(w, 4, w.sync_all());
  // Round 5: teacher A leaves course C1.
  REQUIRE(
      w.tablet("resource").store().remove(w.id("C1"), "participants", w.person("teacherA")).ok());
  check_round(w, 5, w.sync_all());

  w.check_audit();
}

}  // namespace

TEST_CASE(
    "visibility matrix: every role's answers and files hold exactly its scope, round by round",
    "[e2e][visibility][matrix]") {
  run_matrix(0);  // the engine's default page size
}

TEST_CASE("visibility matrix: the same with pages of 3 changes (filtering across page boundaries)",
          "[e2e][visibility][matrix]") {
  run_matrix(3);
}

}  // namespace tandem::test
