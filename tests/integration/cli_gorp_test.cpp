// `tandem import gorp`, `tandem export gorp` and the share of time in
// `tandem summary` through the real binary: the scripts' contract
// ({"session", "entries", ...}; per code {"code", "percent_of_time"}), a bad
// file refused with its line numbers and nothing saved, and the round trip.
#include <catch2/catch.hpp>

#include <fstream>

#include "cli_json.hpp"
#include "cli_runner.hpp"

namespace {

using Json = nlohmann::json;
using tandem::test::cli_ok_json;
using tandem::test::CliDb;
using tandem::test::TempDir;

void write(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
}

// 09:00-09:10 local: Lecturing [0,6) and [4,8) overlap (8 min = 80 %), group
// work [5,10) (50 %), a comment.
const char* const kFile =
    "Event,Time Start,Time End\r"
    "Instructor-Presenting-Lecturing,9:00:00 AM,9:06:00 AM\r"
    "Instructor-Presenting-Lecturing,9:04:00 AM,9:08:00 AM\r"
    "Student-Comments-Uro ved vinduet,9:05:00 AM,9:05:00 AM\r"
    "Student-Working-Group work,9:05:00 AM,9:10:00 AM";

Json code_of(const Json& summary, const std::string& code) {
  for (const Json& c : summary.at("time").at("codes")) {
    if (c.at("code") == code) return c;
  }
  FAIL("no code " << code);
  return {};
}

}  // namespace

TEST_CASE("CLI: import gorp, summary with share of time, export and import again",
          "[cli][gorp]") {
  CliDb db;
  TempDir dir;
  cli_ok_json(db, {"init", "--school-name", "Skovgårdsskolen"});
  write(dir.file("lesson.csv"), kFile);
  const Json imported =
      cli_ok_json(db, {"import", "gorp", dir.file("lesson.csv"), "--date", "2026-03-02"});
  CHECK(imported.at("entries") == 4);  // comments included
  CHECK(imported.at("notes") == 1);
  CHECK(imported.at("started_at") == "2026-03-02T08:00:00Z");  // Copenhagen, CET
  CHECK(imported.at("ended_at") == "2026-03-02T08:10:00Z");
  const std::string session = imported.at("session");

  const Json summary = cli_ok_json(db, {"summary", session});
  CHECK(code_of(summary, "Instructor-Presenting-Lecturing").at("percent_of_time") == Approx(80.0));
  CHECK(code_of(summary, "Student-Working-Group work").at("percent_of_time") == Approx(50.0));
  CHECK(summary.at("notes") == 1);
  const auto human = db.run({"summary", session});
  CHECK(human.exit_code == 0);
  CHECK(human.out.find("andel af tiden") != std::string::npos);

  const auto exported = db.run({"export", "gorp", session});
  REQUIRE(exported.exit_code == 0);
  CHECK(exported.out.rfind("Event,Time Start,Time End\r\n", 0) == 0);
  CHECK(exported.out.find("Instructor-Presenting-Lecturing,9:04:00 AM,9:08:00 AM\r\n") != std::string::npos);
  const Json to_file = cli_ok_json(db, {"export", "gorp", session, "--out", dir.file("again.csv")});
  CHECK(to_file.at("rows") == 4);

  const Json again = cli_ok_json(db, {"import", "gorp", dir.file("again.csv"), "--date", "2026-03-02",
                                      "--course", imported.at("course")});
  CHECK(again.at("entries") == 4);
  CHECK(again.at("course") == imported.at("course"));
  Json s1 = summary, s2 = cli_ok_json(db, {"summary", again.at("session")});
  s1.erase("session");
  s2.erase("session");
  CHECK(s1 == s2);
}

TEST_CASE("CLI: a GORP file with a bad time is refused with its line, nothing saved",
          "[cli][gorp]") {
  CliDb db;
  TempDir dir;
  cli_ok_json(db, {"init", "--school-name", "Skovgårdsskolen"});
  write(dir.file("bad.csv"),
        "Event,Time Start,Time End\nI-P-Lec,9:00:00 AM,9:01:00 AM\nI-P-Lec,25:00:00 AM,9:02:00 AM\n");
  const long long changes = db.count_rows("outbox");
  const auto r = db.run_json({"import", "gorp", dir.file("bad.csv")});
  CHECK(r.exit_code == 1);
  const Json err = Json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(err.is_discarded());
  CHECK(err.at("error").at("code") == "invalid_value");
  CHECK(err.at("error").at("message").get<std::string>().find("line 3") != std::string::npos);
  CHECK(db.count_rows("outbox") == changes);
  // A missing file and a bad header.
  CHECK(db.run_json({"import", "gorp", dir.file("nope.csv")}).exit_code == 1);
  write(dir.file("head.csv"), "Event;Start;End\n");
  CHECK(db.run_json({"import", "gorp", dir.file("head.csv")}).out.find("line 1") != std::string::npos);
}
