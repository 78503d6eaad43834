// The offline lease through the real CLI, server and files, with the
// tablet's wall clock moved by faketime (issue 15): a tablet that has not
// reached its server for longer than its school's lease locks the records
// that name a child (lease_expired) while everything else, and writing, goes
// on; setting the clock back does not unlock it; a sync unlocks it; a clock
// that is fast when the tablet syncs does not trigger it.
#include <catch2/catch.hpp>

#include "server_process.hpp"
#include "test_util.hpp"

namespace tandem::test {
namespace {

// `tandem --db DB --json ARGS...` at the wall-clock offset `at` ("" = now).
constexpr auto tandem_at = run_cli_json_at;

nlohmann::json ok(const ProcessResult& r) {
  INFO("exit " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

std::string error_code(const ProcessResult& r) {
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  return j.is_object() && j.contains("error") ? j.at("error").at("code").get<std::string>() : "(none)";
}

// A school whose lease is 7 days, on a running server.
struct LeaseWorld {
  SchoolServer world{"Skovbakkeskolen"};
  TempDir dir;
  std::string url = "http://127.0.0.1:" + std::to_string(world.server->port());
  LeaseWorld() {
    REQUIRE(server_admin(world.dir.path(), {"school", "set-lease", "--school", world.school.id, "--days", "7"})
                .exit_code == 0);
  }
  // Enrolls a tablet at `db` for the school's resource person, at `at`.
  void enroll(const std::string& at, const std::string& db) {
    ok(tandem_at(at, db, {"enroll", "--server", url, "--code", world.code_for(world.school.person), "--quiet"}));
  }
};

}  // namespace

TEST_CASE("offline lease: past it the tablet locks a child's records, a clock set back keeps them locked, a "
          "sync unlocks",
          "[e2e][lease][clock]") {
  LeaseWorld lw;
  auto& world = lw.world;
  const std::string& url = lw.url;
  const std::string db = lw.dir.file("tablet.db");
  lw.enroll("", db);
  const std::string child = ok(tandem_at("", db, {"child", "create", "--pseudonym", "Anton"})).at("id");
  const std::string action = ok(tandem_at("", db, {"action", "create", "--text", "ring til skolen"})).at("id");
  ok(tandem_at("", db, {"sync", "--quiet"}));
  const auto fresh = ok(tandem_at("", db, {"status"}));
  CHECK(fresh.at("lease").at("days") == 7);
  CHECK(fresh.at("lease").at("expired") == false);

  // Six days offline: nothing locked.
  CHECK(tandem_at("+6d", db, {"show", child}).exit_code == 0);
  // Eight days offline: the child is locked, the rest is not, writing goes on.
  const ProcessResult locked = tandem_at("+8d", db, {"show", child});
  CHECK(locked.exit_code == 1);
  CHECK(error_code(locked) == "lease_expired");
  CHECK(tandem_at("+8d", db, {"show", action}).exit_code == 0);
  const std::string later = ok(tandem_at("+8d", db, {"action", "create", "--text", "skrevet offline"})).at("id");
  const auto status = ok(tandem_at("+8d", db, {"status"}));
  CHECK(status.at("lease").at("expired") == true);
  CHECK(status.at("outbox") == 1);
  // Setting the clock back (to the real time) does not give the time back.
  CHECK(error_code(tandem_at("", db, {"show", child})) == "lease_expired");
  CHECK(error_code(tandem_at("+1d", db, {"show", child})) == "lease_expired");

  // A sync (here with the clock still 8 days fast) unlocks, and what was
  // written offline reaches the server.
  const auto synced = ok(tandem_at("+8d", db, {"sync", "--quiet"}));
  CHECK(synced.at("outbox_left") == 0);
  CHECK(ok(tandem_at("+8d", db, {"show", child})).at("fields").at("pseudonym") == "Anton");
  CHECK(ok(tandem_at("+8d", db, {"status"})).at("lease").at("expired") == false);
  // The clock put right afterwards: still unlocked.
  CHECK(ok(tandem_at("", db, {"show", child})).at("fields").at("pseudonym") == "Anton");
  const std::string other = lw.dir.file("other.db");
  ok(tandem_at("", other,
               {"enroll", "--server", url, "--code",
                world.code_for(world.add_person("Bo", "resource_person")), "--quiet"}));
  CHECK(ok(tandem_at("", other, {"show", later})).at("fields").at("text") == "skrevet offline");
}

TEST_CASE("offline lease: a tablet whose clock is weeks fast when it syncs is not locked by it",
          "[e2e][lease][clock]") {
  LeaseWorld lw;
  const std::string db = lw.dir.file("fast.db");
  lw.enroll("+20d", db);
  const std::string child = ok(tandem_at("+20d", db, {"child", "create", "--pseudonym", "Bertram"})).at("id");
  ok(tandem_at("+20d", db, {"sync", "--quiet"}));
  CHECK(tandem_at("+20d", db, {"show", child}).exit_code == 0);
  CHECK(tandem_at("+25d", db, {"show", child}).exit_code == 0);  // 5 days on
  CHECK(error_code(tandem_at("+28d", db, {"show", child})) == "lease_expired");  // 8 days on
}

// The server keeps each school's lease in memory (every sync reads it): a
// change by the administration, another process, reaches the next sync.
TEST_CASE("offline lease: a lease changed while the server runs reaches the next sync",
          "[e2e][lease]") {
  LeaseWorld lw;
  const std::string db = lw.dir.file("tablet.db");
  lw.enroll("", db);
  ok(tandem_at("", db, {"sync", "--quiet"}));
  CHECK(ok(tandem_at("", db, {"status"})).at("lease").at("days") == 7);
  for (const int days : {10, 3}) {
    REQUIRE(server_admin(lw.world.dir.path(), {"school", "set-lease", "--school", lw.world.school.id,
                                               "--days", std::to_string(days)})
                .exit_code == 0);
    ok(tandem_at("", db, {"sync", "--quiet"}));
    CHECK(ok(tandem_at("", db, {"status"})).at("lease").at("days") == days);
  }
}

}  // namespace tandem::test
