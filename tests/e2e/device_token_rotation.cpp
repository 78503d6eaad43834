// Device token rotation (issue 15, docs/protocol.md "Lost tablet, offline
// lease, device token"), through the real server binary, the real `tandem`
// CLI or sync engine, and raw HTTP: a rotation asked for by the
// administration or due by age goes out in a sync answer; the old token
// works until the device first uses the new one and is refused from then
// on; a lost answer never locks the device out. Also: the token is kept in
// the key store, never in the tablet's database.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "device_cli.hpp"
#include "server_store.hpp"
#include "tandem/server/limits.hpp"
#include "tandem/sync/device_token.hpp"

namespace tandem::test {
namespace {

// A pull-only sync with `token`: its status and the new token it carries
// ("" when none).
struct Contact {
  long status = 0;
  std::string new_token;
};
Contact contact(SchoolServer& world, const std::string& token) {
  const HttpResponse r = world.http.post(world.server->url("/v1/sync"), pull_body(0, 1), token);
  Contact c{r.status, ""};
  if (r.status == 200) {
    const auto j = r.json();
    REQUIRE(j.contains("device"));
    if (j.at("device").contains("token")) c.new_token = j.at("device").at("token");
  } else {
    INFO(r.body);
    CHECK(r.error_code() == "unauthorized");
  }
  return c;
}

// The status of an authenticated request that does not rotate tokens (the
// school's overview): 401 when `token` is refused, else whatever the
// device's person may see.
long school_view_status(SchoolServer& world, const std::string& token) {
  return world.http
      .request("GET", world.server->url("/v1/schools/" + world.school.id + "/overview"), {},
               {"Authorization: Bearer " + token})
      .status;
}

// Whether a course pushed as `device` with `token` is served to another
// device of the school.
bool pushed_and_seen(SchoolServer& world, const std::string& token, std::int64_t mutation_id,
                     const std::string& title) {
  ChangeMaker maker;
  const Change course = maker.create_course(world.school.id, title);
  const HttpResponse r =
      world.http.post(world.server->url("/v1/sync"), sync_body(mutation_id, {course}), token);
  INFO(r.body);
  REQUIRE(r.status == 200);
  CHECK(r.json().at("push").at("results").at(0).at("status") == "accepted");
  const TestDevice reader = world.enroll();
  for (const auto& c : pull_all(world.http, *world.server, reader.token)) {
    if (c.at("change").at("hlc") == course.hlc.str()) return true;
  }
  return false;
}

// Restarts the world's server with its clock shifted by `offset_ms`.
void restart_with_offset(SchoolServer& world, std::int64_t offset_ms) {
  world.server->terminate();
  world.server =
      ServerProcess::start(world.dir.path(), {"--now-offset-ms", std::to_string(offset_ms)});
}

}  // namespace

TEST_CASE("rotate-token: the next tandem sync takes a new token and the old one is refused",
          "[e2e][device][token]") {
  KeyDir keys;
  SyncWorld world;
  TempDir dir;
  const std::string db = dir.file("tablet.db");
  const auto enrolled = enroll_cli(world, db, "tablet");
  const std::string id = enrolled.at("device_id");
  const std::string old_token = keys.only_token();
  // A fresh enrollment's token is not due (it is dated at enrollment): not
  // at the first sync `tandem enroll` runs, nor later.
  CHECK(enrolled.at("sync").at("token_rotations") == 0);
  CHECK(nlohmann::json::parse(cli_ok(db, {"--json", "sync"})).at("token_rotations") == 0);
  const auto before = device_row(world, id);
  CHECK(before.at("rotation") == "none");
  CHECK(before.at("token_ms").get<std::int64_t>() >= before.at("created_ms").get<std::int64_t>());

  // Asked for by the administration in another process, while the running
  // server holds the device in its token cache.
  const auto asked = server_admin_json(world.server->data_dir(), {"device", "rotate-token", id});
  CHECK(asked.at("id") == id);
  CHECK(asked.at("rotation") == "due");
  CHECK(device_row(world, id).at("rotation") == "due");

  cli_ok(db, {"new", "action", "text=AFTER-ROTATION-CANARY-5120"});
  const auto rotated = nlohmann::json::parse(cli_ok(db, {"--json", "sync"}));
  CHECK(rotated.at("token_rotations") == 1);
  CHECK(rotated.at("pushed") == 1);
  const std::string new_token = keys.only_token();
  CHECK(new_token != old_token);
  CHECK(device_row(world, id).at("rotation") == "sent");  // not used yet: both work

  // The device's next request uses the new token: from then on it alone works.
  const auto next = nlohmann::json::parse(cli_ok(db, {"--json", "sync"}));
  CHECK(next.at("token_rotations") == 0);
  const auto after = device_row(world, id);
  CHECK(after.at("rotation") == "none");
  CHECK(after.at("token_ms").get<std::int64_t>() > before.at("token_ms").get<std::int64_t>());
  CHECK(contact(world, old_token).status == 401);
  const Contact with_new = contact(world, new_token);
  CHECK(with_new.status == 200);
  CHECK(with_new.new_token.empty());

  // Data keeps syncing with the new token, both ways.
  const std::string shared = world.add_person("Bo", "resource_person");
  TempDir other_dir;
  const std::string other = other_dir.file("other.db");
  enroll_cli(world, other, "other", shared);
  CHECK(cli_ok(other, {"dump"}).find("AFTER-ROTATION-CANARY-5120") != std::string::npos);
  cli_ok(db, {"new", "action", "text=LATER-CANARY-5121"});
  cli_ok(db, {"sync"});
  cli_ok(other, {"sync"});
  CHECK(cli_ok(other, {"dump"}).find("LATER-CANARY-5121") != std::string::npos);
}

TEST_CASE("rotate-token refuses an unknown or revoked device with stable codes",
          "[e2e][device][token]") {
  SchoolServer world;
  const TestDevice device = world.enroll();
  const ProcessResult unknown =
      server_admin(world.server->data_dir(), {"device", "rotate-token", "dev_00000000deadbeef"});
  CHECK(unknown.exit_code == 1);
  CHECK(nlohmann::json::parse(unknown.out).at("error").at("code") == "not_found");
  REQUIRE(server_admin(world.server->data_dir(), {"device", "revoke", device.id}).exit_code == 0);
  const ProcessResult revoked =
      server_admin(world.server->data_dir(), {"device", "rotate-token", device.id});
  CHECK(revoked.exit_code == 1);
  CHECK(nlohmann::json::parse(revoked.out).at("error").at("code") == "forbidden");
  CHECK(contact(world, device.token).status == 401);
  // The text form says so on stderr.
  const ProcessResult text = run_process(
      server_binary(), store_args(world.server->data_dir(), {"device", "rotate-token", device.id}));
  CHECK(text.exit_code == 1);
  CHECK_THAT(text.err, Catch::Contains("forbidden") && Catch::Contains("revoked"));
}

TEST_CASE("a lost rotation answer: the old token still syncs and gets another new token",
          "[e2e][device][token]") {
  SchoolServer world;
  const TestDevice device = world.enroll();
  REQUIRE(contact(world, device.token).status == 200);  // cached by the server from here on
  server_admin_json(world.server->data_dir(), {"device", "rotate-token", device.id});

  const Contact first = contact(world, device.token);
  REQUIRE(first.status == 200);
  REQUIRE_FALSE(first.new_token.empty());
  CHECK(first.new_token != device.token);
  // That answer is lost: the device syncs on with its old token, and is sent
  // a fresh token (only the hash of the first was kept; it is replaced).
  const Contact second = contact(world, device.token);
  REQUIRE(second.status == 200);
  REQUIRE_FALSE(second.new_token.empty());
  CHECK(second.new_token != first.new_token);
  CHECK(second.new_token != device.token);
  CHECK(contact(world, first.new_token).status == 401);
  CHECK(device_row(world, device.id).at("rotation") == "sent");
  // Other endpoints take both tokens and settle nothing (nor issue tokens):
  // the old one is in the server's token cache from here on.
  CHECK(school_view_status(world, second.new_token) != 401);
  CHECK(school_view_status(world, device.token) != 401);
  CHECK(device_row(world, device.id).at("rotation") == "sent");

  // The device uses the token it got: that one becomes its token, no new
  // one comes with it, and the old one is refused at once.
  const Contact used = contact(world, second.new_token);
  CHECK(used.status == 200);
  CHECK(used.new_token.empty());
  CHECK(contact(world, device.token).status == 401);
  CHECK(device_row(world, device.id).at("rotation") == "none");
  CHECK(pushed_and_seen(world, second.new_token, 1, "pushed with the rotated token"));
}

TEST_CASE("the sync engine keeps the token of the answer it got after losing one",
          "[e2e][device][token]") {
  SyncWorld world;
  TempDir dir;
  Tablet tablet(dir.file("tablet.db"));
  world.enroll(tablet);
  const std::string name = sync::device_token_name(tablet.store());
  auto stored = test_keys().get(name);
  REQUIRE(stored.ok());
  REQUIRE(stored->has_value());
  const std::string old_token = **stored;
  const std::string id =
      server_admin_json(world.server->data_dir(), {"device", "list", "--school", world.school.id})
          .at(0)
          .at("id");
  server_admin_json(world.server->data_dir(), {"device", "rotate-token", id});

  auto curl = curl_to(world.base_url());
  ScriptedTransport lossy(*curl);
  std::vector<std::string> bearers;
  lossy.before = [&bearers](int, sync::HttpRequest& request) {
    bearers.push_back(request.bearer_token);
  };
  // The server answers the first request (with a new token); the answer is lost.
  lossy.after = [](int call, Result<sync::HttpResponse> real) -> Result<sync::HttpResponse> {
    if (call == 1)
      return make_error(ErrorCode::kTimeout, "simulated timeout after the server answered");
    return real;
  };
  tablet.record_actions(1, "rotation-");
  auto r = tablet.sync(lossy);
  REQUIRE(r.ok());
  CHECK(r->token_rotations == 1);
  CHECK(r->retries == 1);
  REQUIRE(lossy.responses.size() == 2);
  REQUIRE(bearers.size() == 2);
  CHECK(bearers[0] == old_token);
  CHECK(bearers[1] == old_token);
  const std::string lost_token = nlohmann::json::parse(lossy.responses[0])["device"]["token"];
  const std::string kept_token = nlohmann::json::parse(lossy.responses[1])["device"]["token"];
  CHECK(lost_token != kept_token);
  auto now_stored = test_keys().get(name);
  REQUIRE(now_stored.ok());
  REQUIRE(now_stored->has_value());
  CHECK(**now_stored == kept_token);

  // The next sync uses it and settles the rotation; the old token is refused.
  bearers.clear();
  auto again = tablet.sync(lossy);
  REQUIRE(again.ok());
  CHECK(again->token_rotations == 0);
  REQUIRE_FALSE(bearers.empty());
  CHECK(bearers.front() == kept_token);
  CHECK(contact(world, old_token).status == 401);
  CHECK(contact(world, lost_token).status == 401);
}

TEST_CASE("a token older than kTokenMaxAgeMs is rotated at the device's next sync",
          "[e2e][device][token]") {
  SchoolServer world;
  const TestDevice device = world.enroll();
  constexpr std::int64_t kHour = 60LL * 60 * 1000;
  // An hour short of the limit (the test takes seconds): not yet.
  restart_with_offset(world, server::kTokenMaxAgeMs - kHour);
  const Contact young = contact(world, device.token);
  CHECK(young.status == 200);
  CHECK(young.new_token.empty());
  CHECK(device_row(world, device.id).at("rotation") == "none");

  // An hour past it: the next answer carries a new token.
  restart_with_offset(world, server::kTokenMaxAgeMs + kHour);
  const Contact old = contact(world, device.token);
  REQUIRE(old.status == 200);
  REQUIRE_FALSE(old.new_token.empty());
  CHECK(device_row(world, device.id).at("rotation") == "sent");
  const Contact used = contact(world, old.new_token);
  CHECK(used.status == 200);
  CHECK(used.new_token.empty());  // dated now: young again
  CHECK(contact(world, device.token).status == 401);
  const auto row = device_row(world, device.id);
  CHECK(row.at("rotation") == "none");
  CHECK(row.at("token_ms").get<std::int64_t>() >=
        row.at("created_ms").get<std::int64_t>() + server::kTokenMaxAgeMs);
}

TEST_CASE("the device token is in the key store, never in the tablet's database",
          "[e2e][device][token]") {
  KeyDir keys;
  SyncWorld world;
  TempDir dir;
  const std::string db = dir.file("tablet.db");
  const auto enrolled = enroll_cli(world, db, "tablet");
  cli_ok(db, {"new", "action", "text=SCAN-WORKS-CANARY-8842"});
  cli_ok(db, {"sync"});
  const auto hits = [&db](const std::string& text) {
    // "--": a token may begin with '-' (base64url), which would read as an option.
    return nlohmann::json::parse(cli_ok(db, {"--json", "debug", "scan", "--", text}))
        .at("hits")
        .get<std::int64_t>();
  };
  CHECK(hits("SCAN-WORKS-CANARY-8842") >= 1);  // the scan sees what the database holds
  const std::string token = keys.only_token();
  CHECK(token.size() >= 43);
  CHECK(hits(token) == 0);
  CHECK(file_bytes(db).find(token) == std::string::npos);

  // A rotated token neither.
  server_admin_json(world.server->data_dir(),
                    {"device", "rotate-token", enrolled.at("device_id").get<std::string>()});
  cli_ok(db, {"sync"});
  cli_ok(db, {"sync"});
  const std::string rotated = keys.only_token();
  CHECK(rotated != token);
  CHECK(hits(rotated) == 0);
  CHECK(contact(world, token).status == 401);
}

}  // namespace tandem::test
