// `tandem enroll` / `tandem sync` as a user runs them: real CLI processes,
// real server, real files. Three tablets converge to byte-identical dumps; a
// sync killed with SIGKILL resumes with nothing lost or duplicated; a
// revoked tablet is told so and keeps its data.
#include <signal.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "sync_fixture.hpp"

namespace tandem::test {
namespace {

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Runs the CLI on `db`; REQUIREs exit 0; returns stdout.
std::string cli_ok(const std::string& db, const std::vector<std::string>& args) {
  std::vector<std::string> full = {"--db", db};
  full.insert(full.end(), args.begin(), args.end());
  const ProcessResult r = run_cli(full);
  INFO("tandem " << args.at(0) << " exited " << r.exit_code << ": " << r.err << r.out);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

std::string cli_enroll(const SyncWorld& world, const std::string& db, const std::string& code) {
  const auto out = nlohmann::json::parse(
      cli_ok(db, {"--json", "enroll", "--server", world.base_url(), "--code", code, "--device-name", db}));
  REQUIRE(out.at("default_school") == world.school.id);
  return out.at("device_id").get<std::string>();
}

nlohmann::json cli_sync(const std::string& db) { return nlohmann::json::parse(cli_ok(db, {"--json", "sync"})); }

}  // namespace

TEST_CASE("three tablets enroll with the CLI, record offline, sync in any order, dump identically",
          "[e2e][sync][cli]") {
  SyncWorld world;
  TempDir dir;
  const std::string a = dir.file("a.db");
  const std::string b = dir.file("b.db");
  const std::string c = dir.file("c.db");
  const std::string teacher = world.add_person("Bo Lærer", "resource_person");
  cli_enroll(world, a, world.code_for(world.school.person));
  cli_enroll(world, b, world.code_for(teacher));
  cli_enroll(world, c, world.code_for(world.add_person("Cecilie", "resource_person")));

  const std::string course =
      trimmed(cli_ok(a, {"new", "course", "kind=co_teaching", "title=Dansk 4.b", "tovholder=" + world.school.person}));
  cli_sync(a);
  cli_sync(b);
  cli_sync(c);

  // Offline: the same fields of the same record on all three, plus new records.
  cli_ok(a, {"set", course, "title", "Dansk 4.b — læsning"});
  cli_ok(b, {"set", course, "title", "Dansk 4.b (co-teaching)"});
  cli_ok(b, {"set", course, "status", "active"});
  cli_ok(c, {"set", course, "status", "planned"});
  cli_ok(a, {"add", course, "focus_areas", "relations"});
  cli_ok(c, {"add", course, "focus_areas", "classroom_management"});
  cli_ok(b, {"remove", course, "focus_areas", "relations"});
  cli_ok(c, {"new", "action", "text=Lav læseplan", "tovholder=" + teacher, "due=2026-02-01"});
  cli_ok(a, {"new", "session", "course=" + course, "approach=station"});

  for (const auto& db : {c, a, b, c, b, a}) cli_sync(db);
  const std::string dump_a = cli_ok(a, {"--json", "dump"});
  CHECK(cli_ok(b, {"--json", "dump"}) == dump_a);
  CHECK(cli_ok(c, {"--json", "dump"}) == dump_a);
  CHECK(dump_a.find("Lav læseplan") != std::string::npos);

  // Revoked: exit 1, a clear message, the local edit still there.
  auto devices = server_admin_json(world.server->data_dir(), {"device", "list", "--school", world.school.id});
  std::string c_device;
  for (const auto& d : devices) {
    if (d.at("name") == c) c_device = d.at("id").get<std::string>();
  }
  REQUIRE_FALSE(c_device.empty());
  REQUIRE(server_admin(world.server->data_dir(), {"device", "revoke", c_device}).exit_code == 0);
  cli_ok(c, {"set", course, "title", "skrevet efter tilbagekaldelse"});
  const ProcessResult revoked = run_cli({"--db", c, "sync"});
  CHECK(revoked.exit_code == 1);
  CHECK_THAT(revoked.err, Catch::Contains("device revoked or not enrolled"));
  CHECK(cli_ok(c, {"--json", "show", course}).find("skrevet efter tilbagekaldelse") != std::string::npos);
}

TEST_CASE("a sync killed with SIGKILL resumes and converges, nothing lost or duplicated",
          "[e2e][sync][cli][kill]") {
  SyncWorld world;
  TempDir dir;
  const std::string a = dir.file("a.db");
  const std::string b = dir.file("b.db");
  cli_enroll(world, a, world.code_for(world.school.person));
  cli_enroll(world, b, world.code_for(world.add_person("Bo", "resource_person")));
  {
    Tablet t(a);
    REQUIRE(t.store()
                .transaction([&]() -> Status {
                  for (int i = 0; i < 400; ++i) {
                    auto id = t.store().create("action", Json{{"text", "aftale " + std::to_string(i)}});
                    if (!id) return id.error();
                    TANDEM_TRY(t.store().set(*id, "due", "2026-05-01"));
                    TANDEM_TRY(t.store().set(*id, "done", i % 2 == 0));
                  }
                  return {};
                })
                .ok());
    REQUIRE(t.outbox_size() == 1200);
  }

  // Kill the sync at different depths: after 1, 3 and 6 progress lines.
  for (int lines : {1, 3, 6}) {
    std::string error;
    const std::string cli = TANDEM_CLI_PATH;
    auto child = ChildProcess::start(cli, {"--db", a, "sync", "--batch", "20", "--page", "50"},
                                     RunOptions{}, &error);
    REQUIRE(child);
    auto count_lines = [&] { return std::count(child->err().begin(), child->err().end(), '\n'); };
    while (count_lines() < lines && child->pump(std::chrono::milliseconds(50))) {
    }
    child->kill(SIGKILL);
    const ProcessResult killed = child->wait();
    INFO("killed after " << lines << " lines: " << killed.err);
    CHECK(killed.term_signal == SIGKILL);
  }
  const auto done = cli_sync(a);
  CHECK(done.at("complete") == true);
  CHECK(done.at("outbox_left") == 0);
  cli_sync(b);
  CHECK(cli_ok(a, {"dump"}) == cli_ok(b, {"dump"}));

  Tablet ta(a);
  const auto on_server = distinct_hlcs(server_sequence(world));  // REQUIREs no duplicates
  const auto mine = local_hlcs(ta.store());
  CHECK(on_server == mine);
  CHECK(mine.size() >= 1200);
}

}  // namespace tandem::test
