// The clock suite (issue 11): tablets whose clocks are wrong — 1970, a day
// behind, a day ahead, ten years ahead, running at half and double speed —
// record offline with the real `tandem` CLI under libfaketime (Debian's
// faketime) and sync with the real server. Shown: 0 changes lost, no save or
// sync refused, replicas byte-identical, and where edits were causal (each
// made after syncing the previous one) the last one wins, as true clocks
// would give.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <map>

#include "server_process.hpp"
#include "test_util.hpp"

namespace tandem::test {
namespace {

constexpr const char* kFaketime = "/usr/bin/faketime";

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Runs the CLI on `db` under a faketime spec ("" = the true clock); REQUIREs
// exit 0 (no save and no sync may be refused); returns stdout.
std::string cli_at(const std::string& spec, const std::string& db,
                   const std::vector<std::string>& args) {
  std::vector<std::string> full;
  RunOptions options;
  options.timeout = std::chrono::milliseconds(120'000);
  std::string program = TANDEM_CLI_PATH;
  if (!spec.empty()) {
    program = kFaketime;
    full = {"-f", spec, TANDEM_CLI_PATH};
    // libcurl's timeouts use the monotonic clock: keep it true. ASan builds
    // need the preload order check off.
    options.env = {"FAKETIME_DONT_FAKE_MONOTONIC=1",
                   "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0"};
  }
  full.insert(full.end(), {"--db", db});
  full.insert(full.end(), args.begin(), args.end());
  const ProcessResult r = run_process(program, full, options);
  INFO("[" << (spec.empty() ? "true clock" : spec) << "] tandem " << args.at(0) << " exited "
           << r.exit_code << ": " << r.err << r.out);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

nlohmann::json sync_at(const std::string& spec, const std::string& db) {
  auto j = nlohmann::json::parse(cli_at(spec, db, {"--json", "sync"}));
  INFO(j.dump());
  CHECK(j.at("rejected") == 0);  // nothing refused for good
  CHECK(j.at("outbox_left") == 0);
  return j;
}

struct World {
  World() {
    REQUIRE(access(kFaketime, X_OK) == 0);  // scripts/deps.sh installs faketime
  }
  SchoolServer server{"Skovbakkeskolen"};
  TempDir dir;
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server.server->port()); }
  // Enrolls a new tablet of a new person under `spec`; returns its db path.
  std::string tablet(const std::string& name, const std::string& spec,
                     std::string* person = nullptr) {
    const std::string who = server.add_person(name, "resource_person");
    if (person) *person = who;
    const std::string db = dir.file(name + ".db");
    cli_at(spec, db,
           {"--json", "enroll", "--server", url(), "--code", server.code_for(who), "--device-name",
            name});
    return db;
  }
};

// A course with goals, a session and three reflections, recorded offline.
// Returns the ids made.
std::vector<std::string> record_course(const std::string& spec, const std::string& db,
                                       const std::string& title, const std::string& author) {
  std::vector<std::string> ids;
  const std::string course = trimmed(cli_at(spec, db,
                                            {"new", "course", "kind=co_teaching", "title=" + title,
                                             "goals=Alle elever læser 20 minutter"}));
  ids.push_back(course);
  cli_at(spec, db, {"set", course, "status", "active"});
  const std::string session =
      trimmed(cli_at(spec, db, {"new", "session", "course=" + course, "approach=station"}));
  ids.push_back(session);
  for (int i = 0; i < 3; ++i) {
    ids.push_back(trimmed(cli_at(spec, db,
                                 {"new", "reflection", "session=" + session, "author=" + author,
                                  "text=Refleksion " + std::to_string(i + 1) + " om " + title})));
  }
  return ids;
}

void reliability(const std::string& fault, int cases, const std::string& result) {
  std::printf("TANDEM_RELIABILITY %s\n",
              nlohmann::json{{"fault", fault},
                             {"cases", cases},
                             {"result", result},
                             {"command", "build/ci/tests/tandem_fault_tests '[clock]'"}}
                  .dump()
                  .c_str());
  std::fflush(stdout);
}

}  // namespace

TEST_CASE(
    "clock suite: tablets a day and ten years fast record offline and lose nothing",
    "[fault][clock]") {
  World w;
  struct Fast {
    std::string name, spec, db, person;
    std::vector<std::string> ids;
  };
  std::vector<Fast> tablets = {
      {"plus1d", "+1d", "", "", {}},            // enrolled right, then a day fast
      {"plus10y", "+3650d", "", "", {}},        // enrolled right, then ten years fast
      {"minus1d", "-1d", "", "", {}},           // a day behind
      {"half", "+0 x0.5", "", "", {}},          // running at half speed
      {"double", "+0 x2", "", "", {}},          // running at double speed
      {"plus10y_always", "+3650d", "", "", {}}  // ten years fast from the start
  };
  for (auto& t : tablets) {
    const std::string enroll_spec = t.name == "plus10y_always" ? t.spec : "";
    t.db = w.tablet(t.name, enroll_spec, &t.person);
  }
  std::string reader_person;
  const std::string reader = w.tablet("reader", "", &reader_person);

  for (auto& t : tablets) t.ids = record_course(t.spec, t.db, "Forløb " + t.name, t.person);
  int restamped = 0;
  for (auto& t : tablets) {
    const auto s = sync_at(t.spec, t.db);
    restamped += s.at("restamped").get<int>();
    if (t.spec.rfind("+3650d", 0) == 0 || t.spec == "+1d") CHECK(s.at("clock_wrong") == true);
  }
  sync_at("", reader);
  for (auto& t : tablets) sync_at(t.spec, t.db);

  const std::string reference = cli_at("", reader, {"--json", "dump"});
  int records = 0;
  for (const auto& t : tablets) {
    INFO(t.name);
    CHECK(cli_at("", t.db, {"--json", "dump"}) == reference);
    for (const auto& id : t.ids) {
      const auto shown = nlohmann::json::parse(cli_at("", reader, {"--json", "show", id}));
      CHECK(shown.dump().find(id) != std::string::npos);
      ++records;
    }
    const auto course = nlohmann::json::parse(cli_at("", reader, {"--json", "show", t.ids[0]}));
    INFO(course.dump());
    CHECK(course.dump().find("Forløb " + t.name) != std::string::npos);
    CHECK(course.dump().find("co_teaching") != std::string::npos);
    CHECK(course.dump().find("Alle elever læser") != std::string::npos);
  }
  CHECK(restamped >= 2 * 7);  // both fast-after-enrolment tablets re-stamped their work
  reliability("wrong tablet clocks (faketime: +1 day, +10 years, -1 day, x0.5, x2)", records,
              std::to_string(records) + " records from 6 tablets, 0 lost, " +
                  std::to_string(restamped) +
                  " refused stamps re-stamped and resent, 7 replicas byte-identical");
}

TEST_CASE(
    "clock suite: a tablet reset to 1970 alternates edits with true-clock edits, the last wins",
    "[fault][clock]") {
  World w;
  std::string zp;
  const std::string z = w.tablet("reset", "", &zp);
  const std::string r = w.tablet("right", "");
  const std::string course =
      trimmed(cli_at("", z, {"new", "course", "kind=observation", "title=start"}));
  sync_at("", z);
  sync_at("", r);
  const std::string epoch = "@1970-01-02 08:00:00";
  int saves = 0;
  for (int i = 0; i < 12; ++i) {
    // Causal order: each edit is made after syncing the one before.
    cli_at(epoch, z, {"set", course, "title", "1970 nr. " + std::to_string(i)});
    ++saves;
    sync_at(epoch, z);
    sync_at("", r);
    cli_at("", r, {"set", course, "title", "rigtig tid nr. " + std::to_string(i)});
    sync_at("", r);
    sync_at(epoch, z);
  }
  // Offline on the reset tablet: 12 saves in a row with the clock at 1970
  // and true alternately (separate processes; the last status is a
  // true-clock one), then a last title at 1970.
  for (int i = 0; i < 12; ++i) {
    cli_at(i % 2 == 0 ? epoch : "", z,
           {"set", course, "status", i % 2 == 0 ? "planned" : "active"});
    ++saves;
  }
  cli_at(epoch, z, {"set", course, "title", "sidst, skrevet i 1970"});
  ++saves;
  sync_at(epoch, z);
  sync_at("", r);
  for (const auto& db : {z, r}) {
    const auto shown = nlohmann::json::parse(cli_at("", db, {"--json", "show", course}));
    INFO(shown.dump());
    CHECK(shown.dump().find("sidst, skrevet i 1970") != std::string::npos);
    CHECK(shown.dump().find("\"active\"") != std::string::npos);
  }
  CHECK(cli_at("", z, {"--json", "dump"}) == cli_at("", r, {"--json", "dump"}));
  reliability("tablet clock reset to 1970 between true-clock edits", saves,
              std::to_string(saves) + " saves, 0 refused; the last edit wins on both replicas");
}

}  // namespace tandem::test
