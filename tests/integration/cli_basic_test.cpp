// The `tandem` CLI end to end (spawned processes): init, the generic record
// commands, JSON shapes, Danish text, the canonical dump and exit codes.
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "cli_runner.hpp"

namespace {

using Json = nlohmann::json;
using tandem::test::CliDb;
using tandem::test::ProcessResult;

// The JSON document a --json command printed (the test fails on anything else).
Json json_of(const ProcessResult& r) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  Json j = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

// Runs a --json command that must succeed and returns its output.
Json ok_json(const CliDb& db, const std::vector<std::string>& args) {
  const ProcessResult r = db.run_json(args);
  INFO("args: " << Json(args).dump() << "\nstdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return json_of(r);
}

std::string init_school(const CliDb& db) {
  const Json j = ok_json(db, {"init", "--school-name", "Skovgårdsskolen"});
  return j.at("school").get<std::string>();
}

}  // namespace

TEST_CASE("init creates the database and prints the site id", "[cli][init]") {
  CliDb db;
  const ProcessResult human = db.run({"init"});
  REQUIRE(human.exit_code == 0);
  const std::string site = human.out.substr(0, human.out.find('\n'));
  CHECK(std::regex_match(site, std::regex("[0-9a-f]{16}")));

  const Json j = ok_json(db, {"init"});  // idempotent: same site, no school yet
  CHECK(j.at("site_id") == site);
  CHECK(j.at("school").is_null());
  CHECK(j.at("schema_version").get<int>() >= 1);

  const Json with_school = ok_json(db, {"init", "--school-name", "Ørestad Skole"});
  const std::string school = with_school.at("school").get<std::string>();
  CHECK(std::regex_match(school, std::regex("school_[0-9a-f]{26}")));
  const Json shown = ok_json(db, {"show", school});
  CHECK(shown.at("fields").at("name") == "Ørestad Skole");

  // A second default school is refused, and nothing is written.
  const long long outbox = db.count_rows("outbox");
  const ProcessResult again = db.run_json({"init", "--school-name", "Anden skole"});
  CHECK(again.exit_code == 1);
  CHECK(json_of(again).at("error").at("code") == "already_exists");
  CHECK(db.count_rows("outbox") == outbox);
}

TEST_CASE("commands other than init need an existing database", "[cli][init]") {
  CliDb db;
  const ProcessResult r = db.run_json({"list", "course"});
  CHECK(r.exit_code == 1);
  CHECK(json_of(r).at("error").at("code") == "not_found");
  CHECK(db.count_rows("outbox") == -1);  // no file was created

  const ProcessResult no_db = tandem::test::run_cli({"--json", "list", "course"});
  CHECK(no_db.exit_code == 2);
  CHECK(json_of(no_db).at("error").at("code") == "invalid_argument");
}

TEST_CASE("generic commands: new, show, set, add, remove, list, delete, purge", "[cli][records]") {
  CliDb db;
  const std::string school = init_school(db);
  const std::string person =
      ok_json(db, {"new", "person", "name=Bo Ærenpris", "role=resource_person"}).at("id");
  CHECK(std::regex_match(person, std::regex("person_[0-9a-f]{26}")));

  const std::string course =
      ok_json(db, {"new", "course", "kind=co_teaching", "title=3.a dansk", "target=group",
                   "focus_areas=relations,reading", "tovholder=" + person})
          .at("id");
  Json shown = ok_json(db, {"show", course});
  CHECK(shown.at("id") == course);
  CHECK(shown.at("kind") == "course");
  CHECK(shown.at("school") == school);
  CHECK(shown.at("fields").at("focus_areas") == Json::array({"reading", "relations"}));
  CHECK(shown.at("fields").at("tovholder") == person);
  CHECK(shown.at("conflicts") == Json::array());

  CHECK(ok_json(db, {"set", course, "status", "active"}) == Json{{"id", course}});
  CHECK(ok_json(db, {"set", course, "start_date", "2026-03-02"}).at("id") == course);
  ok_json(db, {"add", course, "focus_areas", "classroom_management"});
  ok_json(db, {"remove", course, "focus_areas", "reading"});
  ok_json(db, {"set", course, "goals", "Ro i klassen."});
  ok_json(db, {"set", course, "goals", "Mere ro i klassen, også efter frikvarteret."});
  shown = ok_json(db, {"show", course});
  CHECK(shown.at("fields").at("status") == "active");
  CHECK(shown.at("fields").at("start_date") == "2026-03-02");
  CHECK(shown.at("fields").at("focus_areas") == Json::array({"classroom_management", "relations"}));
  CHECK(shown.at("fields").at("goals") == "Mere ro i klassen, også efter frikvarteret.");

  // Replacing a set with `set` adds and removes the difference.
  ok_json(db, {"set", course, "focus_areas", "systemic, relations"});
  CHECK(ok_json(db, {"show", course}).at("fields").at("focus_areas") ==
        Json::array({"relations", "systemic"}));

  const Json listed = ok_json(db, {"list", "course"});
  REQUIRE(listed.is_array());
  REQUIRE(listed.size() == 1);
  CHECK(listed[0] == ok_json(db, {"show", course}));

  CHECK(ok_json(db, {"delete", course}) == Json{{"id", course}, {"deleted", true}});
  CHECK(ok_json(db, {"list", "course"}) == Json::array());
  CHECK(ok_json(db, {"list", "course", "--all"}).size() == 1);
  CHECK(ok_json(db, {"show", course}).at("deleted") == true);

  const ProcessResult after_delete = db.run_json({"set", course, "title", "x"});
  CHECK(after_delete.exit_code == 1);
  CHECK(json_of(after_delete).at("error").at("code") == "deleted");

  CHECK(ok_json(db, {"purge", person}) == Json{{"id", person}, {"purged", true}});
  shown = ok_json(db, {"show", person});
  CHECK(shown.at("purged") == true);
  CHECK_FALSE(shown.contains("fields"));
  const ProcessResult dump = db.run({"dump"});
  CHECK(dump.out.find("Ærenpris") == std::string::npos);  // erased means gone
}

TEST_CASE("new accepts a given id, and human output is readable", "[cli][records]") {
  CliDb db;
  init_school(db);
  const ProcessResult made =
      db.run({"new", "group", "name=3.a", "type=class", "grade=3", "--id", "group_3a"});
  REQUIRE(made.exit_code == 0);
  CHECK(made.out == "group_3a\n");
  CHECK(made.err.empty());
  const ProcessResult shown = db.run({"show", "group_3a"});
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.out.find("group_3a") == 0);
  CHECK(shown.out.find("name: 3.a") != std::string::npos);
  CHECK(shown.out.find("grade: 3") != std::string::npos);
  const ProcessResult listed = db.run({"list", "group"});
  CHECK(listed.out == "group_3a  3.a\n");
  CHECK(ok_json(db, {"show", "group_3a"}).at("fields").at("grade") == 3);

  const ProcessResult taken = db.run_json({"new", "group", "name=x", "--id", "group_3a"});
  CHECK(taken.exit_code == 1);
  CHECK(json_of(taken).at("error").at("code") == "already_exists");
}

TEST_CASE("Danish and other UTF-8 text round-trips", "[cli][utf8]") {
  CliDb db;
  init_school(db);
  const std::string title = "Æblegrød på Ærø — øvelse i å, ÆØÅ æøå, 😀 «citat»";
  const std::string goals = "Linje 1: Ønsker\nLinje 2: Ålborg\tTab";
  const std::string id =
      ok_json(db, {"new", "course", "kind=observation", "title=" + title, "goals=" + goals})
          .at("id");
  const Json shown = ok_json(db, {"show", id});
  CHECK(shown.at("fields").at("title") == title);
  CHECK(shown.at("fields").at("goals") == goals);
  // The human form prints the bytes as they are (no \u escapes).
  const ProcessResult human = db.run({"show", id});
  CHECK(human.out.find(title) != std::string::npos);
  const ProcessResult dump = db.run({"dump"});
  CHECK(dump.out.find(title) != std::string::npos);
  // Through the per-kind command and an edit in the middle of the text.
  ok_json(db, {"course", "update", id, "--goals", "Linje 1: Ønsker om ro\nLinje 2: Ålborg\tTab"});
  CHECK(ok_json(db, {"course", "show", id}).at("fields").at("goals") ==
        "Linje 1: Ønsker om ro\nLinje 2: Ålborg\tTab");
}

TEST_CASE("dump is canonical and byte-stable", "[cli][dump]") {
  CliDb db;
  init_school(db);
  ok_json(db, {"new", "course", "kind=guidance", "title=Vejledning", "focus_areas=relations"});
  ok_json(db, {"new", "meeting", "date=2026-03-05", "title=Ressourceteam marts"});
  const ProcessResult a = db.run_json({"dump"});
  const ProcessResult b = db.run_json({"dump"});
  const ProcessResult c = db.run({"dump"});
  REQUIRE(a.exit_code == 0);
  CHECK(a.out == b.out);
  CHECK(a.out == c.out);  // the dump is JSON in both modes, printed exactly
  const Json parsed = json_of(a);
  REQUIRE(parsed.is_array());
  std::map<std::string, int> kinds;
  for (const Json& r : parsed) ++kinds[r.at("kind").get<std::string>()];
  CHECK(kinds["school"] == 1);
  CHECK(kinds["course"] == 1);
  CHECK(kinds["meeting"] == 1);
  // Sorted by id, so two replicas with the same records print the same bytes.
  for (std::size_t i = 1; i < parsed.size(); ++i)
    CHECK(parsed[i - 1].at("id") < parsed[i].at("id"));
}

TEST_CASE("exit codes and usage errors", "[cli][usage]") {
  CliDb db;
  init_school(db);
  const ProcessResult help = db.run({"--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("course") != std::string::npos);

  const std::vector<std::vector<std::string>> usage_errors = {
      {},                                                    // no command
      {"frobnicate"},                                        // unknown command
      {"show"},                                              // missing id
      {"set", "x", "title"},                                 // missing value
      {"course"},                                            // missing verb
      {"course", "create", "--nosuch", "1"},                 // unknown option
      {"new", "course", "title"},                            // not FIELD=VALUE
      {"course", "update", "course_x"},                      // nothing to update
      {"course", "create", "--title", "a", "--title", "b"},  // scalar twice
  };
  for (const auto& args : usage_errors) {
    INFO("args: " << Json(args).dump());
    const ProcessResult human = db.run(args);
    CHECK(human.exit_code == 2);
    CHECK(human.out.empty());
    CHECK_FALSE(human.err.empty());
    const ProcessResult j = db.run_json(args);
    CHECK(j.exit_code == 2);
    CHECK(j.err.empty());
    CHECK(json_of(j).at("error").at("code") == "invalid_argument");
  }
  // --json may come after the command too.
  const ProcessResult late = tandem::test::run_cli({"--db", db.path(), "list", "course", "--json"});
  CHECK(late.exit_code == 0);
  CHECK(json_of(late) == Json::array());
  // A store error in human mode goes to stderr with its code.
  const ProcessResult missing = db.run({"show", "course_missing"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.out.empty());
  CHECK(missing.err.find("not_found") != std::string::npos);
}

TEST_CASE("TANDEM_DB names the database when --db is absent", "[cli][usage]") {
  CliDb db;
  tandem::test::RunOptions env;
  env.env = {"TANDEM_DB=" + db.path()};
  const ProcessResult r = tandem::test::run_cli({"--json", "init"}, env);
  CHECK(r.exit_code == 0);
  CHECK(json_of(r).at("db") == db.path());
}
