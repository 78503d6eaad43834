// The CLI over core's domain API (issue 14), real binary on real SQLite
// files: people and courses by name or initials, ambiguity (stable code
// `ambiguous`, both matches listed), local times in and out (09:00
// Copenhagen is 08:00 UTC in winter, 07:00 in summer), `action list
// --overdue/--mine/--person`, and `conflicts` with who and when.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "test_util.hpp"

namespace {

using Json = nlohmann::json;
using tandem::test::CliDb;
using tandem::test::ProcessResult;

Json ok_json(const CliDb& db, const std::vector<std::string>& args) {
  const ProcessResult r = db.run_json(args);
  INFO("args: " << Json(args).dump() << "\nstdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  Json j = Json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

std::string ok_id(const CliDb& db, const std::vector<std::string>& args) {
  return ok_json(db, args).at("id").get<std::string>();
}

// Two teachers called Anne, one Bo; a course with Anne Hansen as tovholder.
struct School {
  CliDb db;
  std::string anne_h, anne_j, bo, course;
  School() {
    ok_json(db, {"init", "--school-name", "Skovgårdsskolen"});
    anne_h = ok_id(
        db, {"person", "create", "--name", "Anne Hansen", "--role", "teacher", "--initials", "AH"});
    anne_j = ok_id(
        db, {"person", "create", "--name", "Anne Jensen", "--role", "teacher", "--initials", "AJ"});
    bo = ok_id(db, {"person", "create", "--name", "Bo Ørsted", "--role", "resource_person"});
    course = ok_id(db, {"course", "create", "--kind", "co_teaching", "--title", "Læseløft 3.a",
                        "--tovholder", "AH"});
  }
};

// Sets a meta key in the file (what enrollment writes), outside the CLI.
void set_meta(const std::string& path, const std::string& key, const std::string& value) {
  tandem::test::TabletSql sql(path);
  CHECK(sql.exec("INSERT OR REPLACE INTO meta(key, value) VALUES('" + key + "', '" + value + "')") == "");
}

}  // namespace

TEST_CASE("people and courses are referred to by name, initials or first name", "[cli][names]") {
  School s;
  CHECK(ok_json(s.db, {"show", s.course}).at("fields").at("tovholder") == s.anne_h);
  CHECK(ok_json(s.db, {"person", "show", "anne jensen"}).at("id") == s.anne_j);
  CHECK(ok_json(s.db, {"person", "show", "Bo"}).at("id") == s.bo);
  CHECK(ok_json(s.db, {"person", "show", "ørsted"}).at("id") == s.bo);  // Danish letters fold
  CHECK(ok_json(s.db, {"course", "show", "Læseløft 3.a"}).at("id") == s.course);
  CHECK(ok_json(s.db, {"person", "show", s.anne_j}).at("id") == s.anne_j);  // the id still works
  // Sets take names too, and `show` names the people.
  ok_json(s.db, {"course", "update", "Læseløft", "--participants", "AJ,Bo"});
  const Json shown = ok_json(s.db, {"show", s.course});
  CHECK(shown.at("fields").at("participants") == Json::array({s.anne_j, s.bo}));
  CHECK(shown.at("names").at(s.anne_h) == "Anne Hansen (AH)");
  const ProcessResult human = s.db.run({"show", s.course});
  REQUIRE(human.exit_code == 0);
  CHECK(human.out.find("tovholder: Anne Hansen (AH) (" + s.anne_h + ")") != std::string::npos);
  // Unknown names fail as not_found.
  const ProcessResult none = s.db.run_json({"person", "show", "Carl"});
  CHECK(none.exit_code == 1);
  CHECK(Json::parse(none.out).at("error").at("code") == "not_found");
}

TEST_CASE("an ambiguous name fails with code ambiguous and lists both matches", "[cli][names]") {
  School s;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"person", "show", "Anne"},
        std::vector<std::string>{"course", "create", "--kind", "observation", "--title", "X",
                                 "--tovholder", "anne"},
        std::vector<std::string>{"action", "list", "--person", "Anne"}}) {
    INFO(Json(args).dump());
    const ProcessResult r = s.db.run_json(args);
    CHECK(r.exit_code == 1);
    const Json j = Json::parse(r.out, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    CHECK(j.at("error").at("code") == "ambiguous");
    const std::string message = j.at("error").at("message");
    CHECK(message.find(s.anne_h) != std::string::npos);
    CHECK(message.find(s.anne_j) != std::string::npos);
  }
  const ProcessResult human = s.db.run({"person", "show", "Anne"});
  CHECK(human.exit_code == 1);
  CHECK(human.err.find("Anne Hansen") != std::string::npos);
  CHECK(human.err.find("Anne Jensen") != std::string::npos);
  CHECK(ok_json(s.db, {"list", "course"}).size() == 1);  // nothing created
}

TEST_CASE("a session entered at 09:00 Copenhagen time is shown as 09:00, winter and summer",
          "[cli][local_time]") {
  School s;
  const std::string winter =
      ok_id(s.db, {"session", "create", "--course", s.course, "--started-at", "2026-11-30 09:00"});
  const std::string summer = ok_id(
      s.db, {"session", "create", "--course", "Læseløft", "--started-at", "2026-06-15 09:00"});
  const Json w = ok_json(s.db, {"show", winter});
  CHECK(w.at("fields").at("started_at") == "2026-11-30T08:00:00Z");  // stored UTC
  CHECK(w.at("local").at("started_at") == "2026-11-30 09:00");
  const Json su = ok_json(s.db, {"show", summer});
  CHECK(su.at("fields").at("started_at") == "2026-06-15T07:00:00Z");
  CHECK(su.at("local").at("started_at") == "2026-06-15 09:00");
  const ProcessResult human = s.db.run({"show", summer});
  CHECK(human.out.find("started_at: 2026-06-15 09:00") != std::string::npos);
  // --tz UTC shows and reads UTC; an explicit offset is taken as given.
  CHECK(s.db.run({"--tz", "UTC", "show", summer}).out.find("started_at: 2026-06-15 07:00") !=
        std::string::npos);
  const std::string utc = ok_id(s.db, {"--tz", "UTC", "session", "create", "--course", s.course,
                                       "--started-at", "2026-06-15 09:00"});
  CHECK(ok_json(s.db, {"show", utc}).at("fields").at("started_at") == "2026-06-15T09:00:00Z");
  const std::string entry = ok_id(
      s.db, {"record", summer, "--note", "Læser", "--at", "2026-06-15 09:05", "--author", "AH"});
  const Json e = ok_json(s.db, {"show", entry});
  CHECK(e.at("fields").at("at") == "2026-06-15T07:05:00Z");
  CHECK(e.at("fields").at("author") == s.anne_h);
  // An unknown zone is a usage error.
  CHECK(s.db.run_json({"--tz", "Mars/Olympus", "show", summer}).exit_code == 2);
}

TEST_CASE("action list --overdue, --mine and --person", "[cli][actions]") {
  School s;
  const std::string late = ok_id(s.db, {"action", "create", "--text", "Ring til PPR", "--tovholder",
                                        "AH", "--due", "2020-01-02"});
  const std::string later = ok_id(
      s.db, {"action", "create", "--text", "Evaluér", "--tovholder", "AH", "--due", "2099-01-01"});
  const std::string theirs = ok_id(
      s.db, {"action", "create", "--text", "Mail", "--tovholder", "AJ", "--due", "2020-01-01"});
  ok_id(s.db, {"action", "create", "--text", "Gjort", "--tovholder", "AH", "--due", "2020-01-01",
               "--done", "ja"});
  const Json overdue = ok_json(s.db, {"action", "list", "--overdue"});
  REQUIRE(overdue.size() == 2);
  CHECK(overdue[0].at("id") == theirs);  // earliest due first
  CHECK(overdue[1].at("id") == late);
  CHECK(overdue[1].at("overdue") == true);
  CHECK(overdue[1].at("tovholder_name") == "Anne Hansen (AH)");
  const Json hers = ok_json(s.db, {"action", "list", "--person", "Anne Hansen"});
  REQUIRE(hers.size() == 2);
  CHECK(hers[0].at("id") == late);
  CHECK(hers[1].at("id") == later);
  CHECK(hers[1].at("overdue") == false);
  // --mine is the device's person (set by enrollment).
  const ProcessResult nobody = s.db.run_json({"action", "list", "--mine"});
  CHECK(nobody.exit_code == 1);
  set_meta(s.db.path(), "sync.person_id", s.anne_j);
  const Json mine = ok_json(s.db, {"action", "list", "--mine", "--overdue"});
  REQUIRE(mine.size() == 1);
  CHECK(mine[0].at("id") == theirs);
  const ProcessResult human = s.db.run({"action", "list", "--overdue"});
  CHECK(human.out.find("OVERSKREDET") != std::string::npos);
}

TEST_CASE("conflicts lists the losing value with the device and local time", "[cli][conflicts]") {
  School a;
  CliDb b;
  const std::string bundle = a.db.dir().file("a.bundle");
  ok_json(a.db, {"changes", "export", "--out", bundle});
  ok_json(b, {"init"});
  ok_json(b, {"changes", "import", bundle});
  ok_json(a.db, {"course", "update", a.course, "--status", "active"});
  ok_json(b, {"course", "update", a.course, "--status", "planned"});
  const std::string from_b = b.dir().file("b.bundle");
  ok_json(b, {"changes", "export", "--out", from_b});
  ok_json(a.db, {"changes", "import", from_b});
  CHECK(ok_json(a.db, {"conflicts"}).size() == 1);
  const Json c = ok_json(a.db, {"conflicts"})[0];
  CHECK(c.at("record") == a.course);
  CHECK(c.at("field") == "status");
  CHECK(c.at("label") == "Læseløft 3.a");
  const std::string site_a = ok_json(a.db, {"init"}).at("site_id");
  const std::string site_b = ok_json(b, {"init"}).at("site_id");
  // The loser is whichever stamp is smaller; its device is named either way.
  CHECK((c.at("site") == site_a || c.at("site") == site_b));
  CHECK(c.at("this_device") == (c.at("site") == site_a));
  // When: the stamp's time, in UTC and as local text of today.
  const std::string at = c.at("at");
  const std::string local = c.at("at_local");
  CHECK(local.size() == 16);
  CHECK(local.substr(0, 4) == at.substr(0, 4));
  const ProcessResult human = a.db.run({"conflicts"});
  CHECK(human.out.find("Læseløft 3.a") != std::string::npos);
  CHECK(human.out.find(local) != std::string::npos);
  // Resolved: gone from the list.
  ok_json(a.db, {"resolve", a.course, "status", "--take", "current"});
  CHECK(ok_json(a.db, {"conflicts"}).empty());
}
