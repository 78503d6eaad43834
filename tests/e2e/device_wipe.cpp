// A lost tablet (issue 15): `tandem-server device revoke --wipe ID` makes the
// device erase itself at its next contact, through the real CLI, server and
// files: the answer is 401 device_wiped, nothing unsynced reaches the
// server, the database files and the token are gone, and the device list
// shows that the order was delivered. A plain revoke stays as it was.
#include <catch2/catch.hpp>
#include <filesystem>

#include "device_cli.hpp"

namespace tandem::test {
namespace {

namespace fs = std::filesystem;

std::string trimmed_id(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

TEST_CASE("revoke --wipe: the tablet erases itself at its next sync and nothing unsynced arrives",
          "[e2e][device][wipe]") {
  KeyDir keys;
  SyncWorld world;
  TempDir dir;
  const std::string lost = dir.file("lost.db");
  const std::string other = dir.file("other.db");
  enroll_cli(world, lost, "lost");
  enroll_cli(world, other, "other", world.add_person("Bo", "resource_person"));
  REQUIRE(keys.tokens().size() == 2);
  const std::string synced = trimmed_id(cli_ok(lost, {"new", "action", "text=SYNCED-CANARY-7731"}));
  cli_ok(lost, {"sync"});
  cli_ok(lost, {"new", "action", "text=UNSYNCED-CANARY-4410"});

  const std::string id = device_named(world, "lost");
  const auto ordered =
      server_admin_json(world.server->data_dir(), {"device", "revoke", "--wipe", id});
  CHECK(ordered.at("wipe") == true);
  CHECK(device_row(world, id).at("wipe") == "ordered");

  const std::vector<std::string> tokens_before = keys.tokens();
  const ProcessResult wiped = cli(lost, {"--json", "sync"});
  INFO(wiped.err << wiped.out);
  CHECK(wiped.exit_code == 1);
  CHECK(nlohmann::json::parse(wiped.out).at("error").at("code") == "device_wiped");
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    INFO("file " << lost << suffix);
    CHECK_FALSE(fs::exists(lost + suffix));
  }
  CHECK(keys.tokens().size() == 1);  // the lost tablet's token is gone with it

  const auto row = device_row(world, id);
  CHECK(row.at("wipe") == "delivered");
  CHECK(row.at("wipe_delivered_ms").get<std::int64_t>() >=
        row.at("wipe_ordered_ms").get<std::int64_t>());

  // Every later contact with the lost tablet's token is told again (a
  // tablet that failed to erase itself retries); the other token works.
  int told = 0, served = 0;
  for (const std::string& token : tokens_before) {
    const auto r =
        world.http.post(world.server->url("/v1/sync"), R"({"pull":{"cursor":0,"limit":1}})", token);
    if (r.status == 401 && r.error_code() == "device_wiped") ++told;
    if (r.status == 200) ++served;
  }
  CHECK(told == 1);
  CHECK(served == 1);

  // What the lost tablet had synced reached the school; what it had not, did not.
  cli_ok(other, {"sync"});
  const std::string dump = cli_ok(other, {"dump"});
  CHECK(dump.find("SYNCED-CANARY-7731") != std::string::npos);
  CHECK(dump.find("UNSYNCED-CANARY-4410") == std::string::npos);
  CHECK(dump.find(synced) != std::string::npos);
}

TEST_CASE("a plain revoke keeps the tablet's data and a later wipe order still reaches it",
          "[e2e][device][wipe]") {
  KeyDir keys;
  SyncWorld world;
  TempDir dir;
  const std::string db = dir.file("kept.db");
  enroll_cli(world, db, "kept");
  cli_ok(db, {"new", "action", "text=KEPT-CANARY"});
  const std::string id = device_named(world, "kept");
  REQUIRE(server_admin(world.server->data_dir(), {"device", "revoke", id}).exit_code == 0);
  const ProcessResult refused = cli(db, {"sync"});
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains("device revoked or not enrolled"));
  CHECK(fs::exists(db));
  CHECK(cli_ok(db, {"dump"}).find("KEPT-CANARY") != std::string::npos);
  CHECK(device_row(world, id).at("wipe") == "none");

  // A wipe ordered after the revoke still reaches the tablet; in Danish.
  REQUIRE(server_admin(world.server->data_dir(), {"device", "revoke", "--wipe", id}).exit_code ==
          0);
  const ProcessResult wiped = cli(db, {"sync"});
  CHECK(wiped.exit_code == 1);
  CHECK_THAT(wiped.err, Catch::Contains("meldt bortkommet"));
  CHECK_THAT(wiped.err, Catch::Contains("device_wiped"));
  CHECK_FALSE(fs::exists(db));
}

}  // namespace tandem::test
