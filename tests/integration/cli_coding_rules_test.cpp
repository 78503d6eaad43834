// Coding that checks itself, through the CLI (issue 16): in a COPUS session
// unknown codes are refused with the closest ones named, several codes go in
// one command (all or none), ticks stay within the session, nothing ends
// before it starts, and required titles are not blank.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"

namespace {

using Json = nlohmann::json;
using tandem::test::CliDb;
using tandem::test::ProcessResult;

Json run(const CliDb& db, const std::vector<std::string>& args, int exit_code = 0) {
  const ProcessResult r = db.run_json(args);
  INFO("args: " << Json(args).dump() << "\nstdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == exit_code);
  const Json j = Json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

// The error of a refused command (exit 1): {"code","message"}.
Json refused(const CliDb& db, const std::vector<std::string>& args) {
  return run(db, args, 1).at("error");
}

// A COPUS observation of 09:00-09:20 (+01:00): ten 2-minute intervals.
struct Copus {
  CliDb db;
  std::string course, session;
  Copus() {
    run(db, {"init", "--school-name", "Skovgårdsskolen"});
    course = run(db, {"course", "create", "--kind", "observation", "--title", "Fysik 2.x"}).at("id");
    session = run(db, {"session", "create", "--course", course, "--template", "template_copus",
                       "--started_at", "2026-03-02T09:00:00+01:00", "--ended_at",
                       "2026-03-02T09:20:00+01:00"})
                  .at("id");
  }
  std::size_t entries() const { return run(db, {"list", "entry"}).size(); }
  Json record(std::vector<std::string> args, int exit_code = 0) const {
    args.insert(args.begin(), {"record", session});
    return run(db, args, exit_code);
  }
};

}  // namespace

TEST_CASE("record: an unknown code is refused, naming the closest codes", "[cli][record][rules]") {
  Copus o;
  const Json bare = o.record({"--tick", "Lec", "--interval", "0"}, 1).at("error");
  CHECK(bare.at("code") == "invalid_value");
  CHECK(bare.at("message").get<std::string>().find("unknown code 'Lec'") != std::string::npos);
  CHECK(bare.at("message").get<std::string>().find("did you mean I-Lec?") != std::string::npos);
  const Json lower = o.record({"--code", "I-lec"}, 1).at("error");
  CHECK(lower.at("message").get<std::string>().find("did you mean I-Lec?") != std::string::npos);
  const Json two = o.record({"--tally", "AnQ"}, 1).at("error");
  CHECK(two.at("message").get<std::string>().find("did you mean S-AnQ or I-AnQ?") != std::string::npos);
  CHECK(o.entries() == 0);
  // Human output: the code and the suggestion on stderr, exit 1.
  const ProcessResult human = o.db.run({"record", o.session, "--tick", "I-lec", "--interval", "0"});
  CHECK(human.exit_code == 1);
  CHECK(human.err.find("tandem: error (invalid_value)") != std::string::npos);
  CHECK(human.err.find("I-Lec") != std::string::npos);
  CHECK(o.entries() == 0);
  CHECK(o.record({"--tick", "I-Lec", "--interval", "0"}).contains("id"));
  CHECK(o.entries() == 1);
}

TEST_CASE("record: several codes in one command, all saved or none", "[cli][record][rules]") {
  Copus o;
  const Json pair = o.record({"--tick", "I-Lec,S-L", "--interval", "0"});
  REQUIRE(pair.at("ids").size() == 2);
  CHECK(run(o.db, {"entry", "show", pair.at("ids")[0]}).at("fields").at("code") == "I-Lec");
  CHECK(run(o.db, {"entry", "show", pair.at("ids")[1]}).at("fields").at("code") == "S-L");
  CHECK(run(o.db, {"entry", "show", pair.at("ids")[1]}).at("fields").at("interval") == 0);
  const Json repeated =
      o.record({"--tick", "I-Lec", "--tick", "S-L, S-WG", "--tick", "I-MG,", "--interval", "1"});
  CHECK(repeated.at("ids").size() == 4);  // blanks trimmed, the empty item dropped
  CHECK(o.entries() == 6);
  // One unknown code refuses the whole command.
  const Json bad = o.record({"--tick", "I-Lec,S-l,S-WG", "--interval", "2"}, 1).at("error");
  CHECK(bad.at("message").get<std::string>().find("'S-l'") != std::string::npos);
  CHECK(bad.at("message").get<std::string>().find("did you mean S-L?") != std::string::npos);
  CHECK(o.entries() == 6);
  CHECK(o.record({"--tally", "I-PQ,S-SQ"}).at("ids").size() == 2);
  CHECK(o.record({"--code", "I-PQ", "--code", "S-AnQ"}).at("ids").size() == 2);
  CHECK(o.entries() == 10);
  // Human output: one id a line.
  const ProcessResult human = o.db.run({"record", o.session, "--tick", "I-Lec,S-L", "--interval", "3"});
  REQUIRE(human.exit_code == 0);
  CHECK(std::count(human.out.begin(), human.out.end(), '\n') == 2);
  CHECK(human.out.rfind("entry_", 0) == 0);
  // The types still do not mix, and a rating stays one item.
  CHECK(o.record({"--tick", "I-Lec", "--tally", "S-L", "--interval", "0"}, 2).contains("error"));
}

TEST_CASE("record: ticks within the session's intervals", "[cli][record][rules]") {
  Copus o;
  const Json before = o.record({"--tick", "I-Lec", "--interval", "-1"}, 1).at("error");
  CHECK(before.at("code") == "invalid_value");
  CHECK(before.at("message").get<std::string>().find("count from 0") != std::string::npos);
  const Json after = o.record({"--tick", "I-Lec", "--interval", "10"}, 1).at("error");
  CHECK(after.at("message").get<std::string>().find("it has 10 intervals (0-9)") != std::string::npos);
  CHECK(o.record({"--tick", "I-Lec", "--interval", "9"}).contains("id"));
  CHECK(o.entries() == 1);
  // A session that has not ended: any interval from 0.
  const std::string open =
      run(o.db, {"session", "create", "--course", o.course, "--template", "template_copus"}).at("id");
  CHECK(run(o.db, {"record", open, "--tick", "I-Lec", "--interval", "40"}).contains("id"));
  CHECK(refused(o.db, {"record", open, "--tick", "I-Lec", "--interval", "-1"}).at("code") ==
        "invalid_value");
}

TEST_CASE("free coding: a session without a template takes any code", "[cli][record][rules]") {
  Copus o;
  const std::string free = run(o.db, {"session", "create", "--course", o.course}).at("id");
  CHECK(run(o.db, {"record", free, "--tick", "egen-kode,Lec", "--interval", "0"}).at("ids").size() == 2);
  CHECK(run(o.db, {"record", free, "--rating", "R-hvad-som-helst", "--value", "2"}).contains("id"));
}

TEST_CASE("nothing ends before it starts: sessions, courses, timed entries", "[cli][rules]") {
  Copus o;
  const Json session = refused(o.db, {"session", "create", "--course", o.course, "--started_at",
                                      "2026-03-02 10:00", "--ended_at", "2026-03-02 09:00"});
  CHECK(session.at("code") == "invalid_value");
  CHECK(session.at("message").get<std::string>().find("before started_at") != std::string::npos);
  // An update of one end is checked against the other as saved.
  CHECK(refused(o.db, {"session", "update", o.session, "--ended_at", "2026-03-02 08:59"}).at("code") ==
        "invalid_value");
  CHECK(refused(o.db, {"session", "update", o.session, "--started_at", "2026-03-02 09:21"}).at("code") ==
        "invalid_value");
  // Both ends in one update: the new pair is what counts.
  run(o.db, {"session", "update", o.session, "--started_at", "2026-03-02 13:00", "--ended_at",
             "2026-03-02 13:45"});
  const Json shown = run(o.db, {"session", "show", o.session}).at("fields");
  CHECK(shown.at("started_at") == "2026-03-02T12:00:00Z");
  CHECK(shown.at("ended_at") == "2026-03-02T12:45:00Z");

  CHECK(refused(o.db, {"course", "create", "--kind", "guidance", "--title", "Vejledning",
                       "--start_date", "2026-03-02", "--end_date", "2026-03-01"})
            .at("code") == "invalid_value");
  run(o.db, {"course", "update", o.course, "--start_date", "2026-03-01"});
  CHECK(refused(o.db, {"course", "update", o.course, "--end_date", "2026-02-28"}).at("code") ==
        "invalid_value");
  run(o.db, {"course", "update", o.course, "--end_date", "2026-03-01"});  // one day

  const Json span = o.record({"--code", "S-WG", "--at", "2026-03-02 13:10", "--end", "2026-03-02 13:05"}, 1)
                        .at("error");
  CHECK(span.at("code") == "invalid_value");
  CHECK(span.at("message").get<std::string>().find("end") != std::string::npos);
  CHECK(o.entries() == 0);
  CHECK(o.record({"--code", "S-WG", "--at", "2026-03-02 13:05", "--end", "2026-03-02 13:10"}).contains("id"));
}

TEST_CASE("required titles are not blank", "[cli][rules]") {
  Copus o;
  const Json blank = refused(o.db, {"course", "create", "--kind", "guidance", "--title", "   "});
  CHECK(blank.at("code") == "missing_field");
  CHECK(blank.at("message").get<std::string>().find("'title' cannot be empty") != std::string::npos);
  CHECK(refused(o.db, {"course", "update", o.course, "--title", " \t"}).at("code") == "missing_field");
  CHECK(refused(o.db, {"person", "create", "--name", " ", "--role", "teacher"}).at("code") ==
        "missing_field");
  CHECK(run(o.db, {"course", "show", o.course}).at("fields").at("title") == "Fysik 2.x");
}
