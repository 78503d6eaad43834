// Joining a school later (issue 16, part 6), as a user does it: a tablet
// used offline (`tandem init --school-name`, or no school at all) enrolls
// with the real CLI at a real server. With --local-records move its records
// become the school's and reach the server and a second tablet; with keep
// they stay on the tablet as a local school and are never sent; without the
// choice, or with a code the database cannot take, enroll is refused before
// the code is used: the same code then enrolls, and no device is left over.
#include <catch2/catch.hpp>
#include <set>

#include "device_cli.hpp"
#include "sync_fixture.hpp"

namespace tandem::test {
namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// `tandem --db DB new ...`: the new record's id.
std::string make(const std::string& db, const std::vector<std::string>& args) {
  std::vector<std::string> full = {"new"};
  full.insert(full.end(), args.begin(), args.end());
  return trimmed(cli_ok(db, full));
}

// `tandem --db DB --json enroll` with `code` and extra arguments (the
// choice); the process result.
ProcessResult enroll_with(const SyncWorld& world, const std::string& db, const std::string& code,
                          const std::string& name, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"--json",      "enroll", "--server", world.base_url(),
                                    "--code",      code,     "--device-name", name};
  args.insert(args.end(), extra.begin(), extra.end());
  return cli(db, args);
}

nlohmann::json json_ok(const ProcessResult& r) {
  INFO("exit " << r.exit_code << ": " << r.err << r.out);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

std::size_t device_count(const SchoolServer& world, const std::string& school) {
  return server_admin_json(world.server->data_dir(), {"device", "list", "--school", school}).size();
}

// 200 records made offline, a mix of kinds: 10 courses, 20 sessions, 150
// entries (notes with text) and 20 actions. Returns their ids.
std::vector<std::string> make_offline_records(const std::string& db) {
  std::vector<std::string> ids;
  std::vector<std::string> sessions;
  for (int c = 0; c < 10; ++c) {
    const std::string course =
        make(db, {"course", "kind=co_teaching", "title=Forløb " + std::to_string(c),
                  "goals=Mål for forløb " + std::to_string(c) + ": læsning og relationer"});
    ids.push_back(course);
    for (int s = 0; s < 2; ++s) {
      sessions.push_back(make(db, {"session", "course=" + course, "approach=station",
                                   "log=Logbog " + std::to_string(c) + "." + std::to_string(s)}));
      ids.push_back(sessions.back());
    }
  }
  for (int e = 0; e < 150; ++e) {
    const std::string session = sessions[static_cast<std::size_t>(e) % sessions.size()];
    const std::string out = cli_ok(db, {"--json", "record", session, "--note",
                                        "Note nr. " + std::to_string(e) + " — æøå, skrevet offline"});
    ids.push_back(nlohmann::json::parse(out).at("id").get<std::string>());
  }
  for (int a = 0; a < 20; ++a) ids.push_back(make(db, {"action", "text=Aftale " + std::to_string(a)}));
  REQUIRE(ids.size() == 200);
  REQUIRE(std::set<std::string>(ids.begin(), ids.end()).size() == 200);
  return ids;
}

// The ids of every record the server's sequence holds.
std::set<std::string> server_records(const SyncWorld& world) {
  std::set<std::string> out;
  for (const auto& row : server_sequence(world)) out.insert(row.at("change").at("record").get<std::string>());
  return out;
}

// A school's server and two tablets' files: `a`, used offline first, and
// `b`, enrolled normally. Keys in a folder of the test's own.
struct Tablets : SyncWorld {
  KeyDir keys;
  TempDir dir;
  std::string a = dir.file("offline.db");
  std::string b = dir.file("second.db");
  // A code for a new resource person of the school.
  std::string new_code() const { return code_for(add_person("Ane", "resource_person")); }
};

}  // namespace

TEST_CASE("a tablet used offline enrolls with move: its 200 records reach the server and a second tablet",
          "[e2e][enroll][cli]") {
  Tablets world;
  const std::string& a = world.a;
  const std::string& b = world.b;
  cli_ok(a, {"init", "--school-name", "Min egen skole"});
  const std::vector<std::string> ids = make_offline_records(a);

  // The server judges the moved records as any device's writes: a teacher
  // may create them too (they are the teacher's own, so they stay visible).
  const std::string role = GENERATE(as<std::string>{}, "resource_person", "teacher");
  INFO("the offline tablet's person: " << role);
  const auto enrolled = json_ok(enroll_with(world, a, world.code_for(world.add_person("Ane", role)),
                                            "offline", {"--local-records", "move"}));
  CHECK(enrolled.at("default_school") == world.school.id);
  CHECK(enrolled.at("local_records").at("moved") == 200);
  CHECK(enrolled.at("local_records").at("kept") == 0);
  CHECK(enrolled.at("local_records").at("local_schools").empty());
  CHECK(enrolled.at("local_records").at("dropped_schools").size() == 1);
  CHECK(enrolled.at("sync").at("rejected") == 0);
  CHECK(enrolled.at("sync").at("outbox_left") == 0);

  // Every one of them is on the server, in the school.
  const auto on_server = server_records(world);
  for (const auto& id : ids) {
    INFO(id);
    CHECK(on_server.count(id) == 1);
  }
  // A second tablet enrolled normally merges to the same view.
  enroll_cli(world, b, "second");
  const std::string dump_a = cli_ok(a, {"--json", "dump"});
  CHECK(cli_ok(b, {"--json", "dump"}) == dump_a);
  CHECK(dump_a.find("Note nr. 149 — æøå, skrevet offline") != std::string::npos);
  CHECK(dump_a.find("Min egen skole") == std::string::npos);  // the local school record went
  const auto shown = json_ok(cli(b, {"--json", "show", ids.front()}));
  CHECK(shown.at("school") == world.school.id);
  CHECK(shown.at("fields").at("goals") == "Mål for forløb 0: læsning og relationer");
  // New records go to the school too.
  const std::string later = make(a, {"action", "text=Efter tilmelding"});
  cli_ok(a, {"sync"});
  cli_ok(b, {"sync"});
  CHECK(json_ok(cli(b, {"--json", "show", later})).at("school") == world.school.id);
}

TEST_CASE("a tablet used offline enrolls with keep: its records stay local and are never sent",
          "[e2e][enroll][cli]") {
  Tablets world;
  const std::string& a = world.a;
  const std::string& b = world.b;
  cli_ok(a, {"init", "--school-name", "Hjemmeskolen"});
  const std::string course = make(a, {"course", "kind=observation", "title=Privat forløb"});
  const std::string session = make(a, {"session", "course=" + course});
  cli_ok(a, {"record", session, "--note", "kun her"});
  const std::string dump_before = cli_ok(a, {"--json", "dump"});

  const auto enrolled = json_ok(enroll_with(world, a, world.new_code(),
                                            "offline", {"--local-records", "keep"}));
  CHECK(enrolled.at("local_records").at("moved") == 0);
  CHECK(enrolled.at("local_records").at("kept") == 3);
  CHECK(enrolled.at("local_records").at("local_schools").size() == 1);
  CHECK(enrolled.at("sync").at("pushed") == 0);
  CHECK(enrolled.at("default_school") == world.school.id);

  // Nothing lost: every record of before is still there, unchanged.
  const auto shown = json_ok(cli(a, {"--json", "show", course}));
  CHECK(shown.at("fields").at("title") == "Privat forløb");
  CHECK(shown.at("local_school") == true);
  const auto status = json_ok(cli(a, {"--json", "status"}));
  REQUIRE(status.at("local_schools").size() == 1);
  CHECK(status.at("local_schools")[0].at("name") == "Hjemmeskolen");
  CHECK(status.at("local_schools")[0].at("records") == 3);
  CHECK(cli(a, {"status"}).out.find("lokal skole: Hjemmeskolen") != std::string::npos);

  // An edit of a kept record is not sent either; a new record goes to the school.
  cli_ok(a, {"set", course, "title", "Privat forløb, rettet"});
  const std::string shared = make(a, {"action", "text=Til skolen"});
  const auto synced = json_ok(cli(a, {"--json", "sync"}));
  CHECK(synced.at("pushed") == 1);
  CHECK(synced.at("outbox_left") == 0);

  enroll_cli(world, b, "second");
  const auto on_server = server_records(world);
  CHECK(on_server.count(course) == 0);
  CHECK(on_server.count(session) == 0);
  CHECK(on_server.count(shared) == 1);
  CHECK(cli(b, {"show", course}).exit_code != 0);
  CHECK(json_ok(cli(b, {"--json", "show", shared})).at("school") == world.school.id);
  CHECK(json_ok(cli(a, {"--json", "show", course})).at("fields").at("title") == "Privat forløb, rettet");
  CHECK(dump_before.find("kun her") != std::string::npos);
  CHECK(cli_ok(a, {"--json", "dump"}).find("kun her") != std::string::npos);
}

TEST_CASE("a database with no default school enrolls and its records move", "[e2e][enroll][cli]") {
  Tablets world;
  const std::string& a = world.a;
  const std::string& b = world.b;
  cli_ok(a, {"init"});
  // No default school: a school record made by hand, named per record.
  const std::string home = make(a, {"school", "name=Uden skole"});
  const std::string group = make(a, {"group", "name=4.b", "school=" + home});
  const std::string action = make(a, {"action", "text=Ingen skole endnu", "school=" + home});

  const auto enrolled = json_ok(enroll_with(world, a, world.new_code(),
                                            "bare", {"--local-records", "move"}));
  CHECK(enrolled.at("local_records").at("moved") == 2);
  CHECK(enrolled.at("sync").at("rejected") == 0);
  enroll_cli(world, b, "second");
  CHECK(json_ok(cli(b, {"--json", "show", group})).at("school") == world.school.id);
  CHECK(json_ok(cli(b, {"--json", "show", action})).at("fields").at("text") == "Ingen skole endnu");
  CHECK(cli_ok(a, {"--json", "dump"}) == cli_ok(b, {"--json", "dump"}));
}

TEST_CASE("a refused enroll leaves the code usable and no device on the server", "[e2e][enroll][cli]") {
  Tablets world;
  const std::string& a = world.a;
  cli_ok(a, {"init", "--school-name", "Min egen skole"});
  const std::string course = make(a, {"course", "kind=observation", "title=Lavet offline"});
  const std::string code = world.new_code();
  const std::size_t devices_before = device_count(world, world.school.id);

  // Without the choice: refused, saying what the choices are.
  const ProcessResult refused = enroll_with(world, a, code, "offline");
  CHECK(refused.exit_code != 0);
  CHECK_THAT(refused.out + refused.err, Catch::Contains("--local-records move|keep"));
  CHECK(device_count(world, world.school.id) == devices_before);
  CHECK(json_ok(cli(a, {"--json", "status"})).at("enrolled") == false);
  CHECK(json_ok(cli(a, {"--json", "show", course})).at("fields").at("title") == "Lavet offline");

  // A database enrolled at another school cannot take this school's code:
  // refused locally, after the check, before the code is used.
  const auto other = server_admin_json(world.server->data_dir(), {"school", "create", "--name", "Anden skole"});
  const std::string other_school = other.at("id").get<std::string>();
  const std::string other_person =
      server_admin_json(world.server->data_dir(),
                        {"person", "add", "--school", other_school, "--name", "Bo", "--role", "leader"})
          .at("id")
          .get<std::string>();
  const std::string elsewhere = world.dir.file("elsewhere.db");
  json_ok(enroll_with(world, elsewhere, world.code_for(other_person), "elsewhere"));
  const ProcessResult wrong_school = enroll_with(world, elsewhere, code, "elsewhere again");
  CHECK(wrong_school.exit_code != 0);
  CHECK_THAT(wrong_school.out + wrong_school.err, Catch::Contains("was enrolled at school"));
  CHECK(device_count(world, world.school.id) == devices_before);
  CHECK(device_count(world, other_school) == 1);

  // The same code then enrolls, with the choice.
  const auto enrolled = json_ok(enroll_with(world, a, code, "offline", {"--local-records", "move"}));
  CHECK(enrolled.at("local_records").at("moved") == 1);
  CHECK(device_count(world, world.school.id) == devices_before + 1);
  // And is used now: a second try is refused by the server.
  const ProcessResult again = enroll_with(world, world.dir.file("third.db"), code, "third");
  CHECK(again.exit_code != 0);
  CHECK(device_count(world, world.school.id) == devices_before + 1);
  CHECK(server_records(world).count(course) == 1);  // (enrolls an observer device)
}

}  // namespace tandem::test

namespace tandem::test {

TEST_CASE("an enrollment code check consumes nothing and is throttled like an enrollment",
          "[e2e][enroll][server][throttle]") {
  SchoolServer world("Skovbakkeskolen");
  HttpClient http;
  const std::string url = world.server->url("/v1/enroll");
  const std::string code = world.code_for(world.school.person);
  const std::string check = nlohmann::json{{"code", code}, {"check", true}}.dump();
  for (int i = 0; i < 2; ++i) {  // asked twice: still there
    const HttpResponse r = http.post(url, check);
    INFO(r.body);
    REQUIRE(r.status == 200);
    const auto j = r.json();
    CHECK(j.at("school").at("id") == world.school.id);
    CHECK(j.at("person").at("id") == world.school.person);
    CHECK_FALSE(j.contains("token"));
  }
  CHECK(server_admin_json(world.server->data_dir(), {"device", "list", "--school", world.school.id})
            .empty());
  const HttpResponse redeemed = http.post(url, nlohmann::json{{"code", code}}.dump());
  REQUIRE(redeemed.status == 200);
  const HttpResponse used = http.post(url, check);
  CHECK(used.status == 401);
  CHECK(used.error_code() == "unauthorized");
  CHECK(http.post(url, nlohmann::json{{"code", code}, {"check", "yes"}}.dump()).status == 400);

  // Refused checks count as failed enrollments: the burst, then 429.
  int refused = 0;
  long last = 0;
  for (int i = 0; i < 40 && last != 429; ++i) {
    last = http.post(url, nlohmann::json{{"code", "AAAA-BBBB-CCCC"}, {"check", true}}.dump()).status;
    if (last == 401) ++refused;
  }
  CHECK(last == 429);
  CHECK(refused <= 30);
  // ...and redeeming from that address waits too.
  CHECK(http.post(url, nlohmann::json{{"code", world.code_for(world.school.person)}}.dump()).status == 429);
}

}  // namespace tandem::test

namespace tandem::test {

TEST_CASE("with a server older than the code check, offline records are refused before the code is used",
          "[e2e][enroll]") {
  SyncWorld world;
  TempDir dir;
  auto curl = curl_to(world.base_url());
  // An older server refuses the member it does not know.
  ScriptedTransport old_server(*curl);
  old_server.before = [](int, sync::HttpRequest& request) {
    if (request.body.find("\"check\":true") != std::string::npos)
      request.body = R"({"code":"K7QM-2HXD-9RTA","check":true,"from_the_future":1})";
  };
  sync::EnrollOptions o;
  o.server_url = world.base_url();
  o.code = world.code_for(world.school.person);
  o.local_records = Store::LocalRecords::kMove;

  Tablet offline(dir.file("offline.db"));
  auto school = offline.store().create("school", Json{{"name", "Min egen skole"}});
  REQUIRE(school.ok());
  REQUIRE(offline.store().set_default_school(*school).ok());
  REQUIRE(offline.store().create("action", Json{{"text", "lavet offline"}}).ok());
  auto refused = sync::enroll_device(offline.store(), old_server, offline.clock(), o);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == ErrorCode::kUnsupportedVersion);
  CHECK(server_admin_json(world.server->data_dir(), {"device", "list", "--school", world.school.id})
            .empty());

  // A database with nothing of its own enrolls as before, with the same
  // code; a school made here holding nothing else goes.
  Tablet fresh(dir.file("fresh.db"));
  auto empty = fresh.store().create("school", Json{{"name", "Tom skole"}});
  REQUIRE(empty.ok());
  REQUIRE(fresh.store().set_default_school(*empty).ok());
  auto enrolled = sync::enroll_device(fresh.store(), old_server, fresh.clock(), o);
  INFO((enrolled ? "" : enrolled.error().message));
  REQUIRE(enrolled.ok());
  CHECK(enrolled->school.id == world.school.id);
  CHECK(fresh.store().default_school() == world.school.id);
  CHECK(fresh.store().get(*empty).error().code == ErrorCode::kNotFound);
}

}  // namespace tandem::test
