// The client sync engine against the real tandem-server over real libcurl,
// with real SQLite files: convergence of concurrent offline edits,
// exactly-once pushes under retries and replays, pagination and resumption,
// clock skew, revoked devices.
#include <catch2/catch.hpp>
#include <random>
#include <set>

#include "sync_fixture.hpp"
#include "test_util.hpp"
#include "tandem/sync/client.hpp"

namespace tandem::test {
namespace {

const char* const kTitles[] = {"Dansk 4.b", "Matematik 6.a", "Trivsel 2.c", "Læsning 3.a", "Engelsk 5.b"};
const char* const kStatuses[] = {"planned", "active", "completed", "evaluated"};
const char* const kAreas[] = {"relations", "classroom_management", "inclusion_plan", "systemic"};

struct Shared {
  std::vector<std::string> courses;
  std::string session;
};

// Creates the records every tablet will edit concurrently.
Shared seed_records(Tablet& t, const std::string& person) {
  Shared s;
  for (int i = 0; i < 3; ++i) {
    auto id = t.store().create("course", Json{{"kind", "co_teaching"}, {"title", kTitles[i]}, {"tovholder", person}});
    REQUIRE(id.ok());
    s.courses.push_back(*id);
  }
  auto session = t.store().create("session", Json{{"course", s.courses[0]}, {"approach", "station"}});
  REQUIRE(session.ok());
  s.session = *session;
  return s;
}

// One random local edit: same records, same fields, from every tablet.
void random_edit(Tablet& t, const Shared& s, std::mt19937_64& rng, const std::string& tag) {
  Store& st = t.store();
  const std::string& course = s.courses[rng() % s.courses.size()];
  Status done;
  switch (rng() % 7) {
    case 0: done = st.set(course, "title", std::string(kTitles[rng() % 5]) + " " + tag); break;
    case 1: done = st.set(course, "status", kStatuses[rng() % 4]); break;
    case 2: done = st.add(course, "focus_areas", kAreas[rng() % 4]); break;
    case 3: done = st.remove(course, "focus_areas", kAreas[rng() % 4]); break;
    case 4: done = st.text_insert(s.session, "log", 0, tag + " skrev. "); break;
    case 5: {
      auto id = st.create("entry", Json{{"session", s.session}, {"type", "note"}, {"text", "note " + tag}});
      done = id ? Status{} : Status(id.error());
      break;
    }
    default: {
      auto id = st.create("action", Json{{"text", "opfølgning " + tag}, {"due", "2026-03-01"}});
      done = id ? Status{} : Status(id.error());
      break;
    }
  }
  INFO("edit failed: " << (done ? "" : done.error().message));
  REQUIRE(done.ok());
}

}  // namespace

TEST_CASE("three tablets editing the same records offline converge whatever the sync order",
          "[e2e][sync][converge]") {
  const std::uint64_t seed = GENERATE(1, 2, 3);
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  SyncWorld world;
  const std::string teacher = world.add_person("Bo Lærer", "resource_person");
  const std::string second = world.add_person("Cecilie Ressource", "resource_person");
  TempDir dir;
  std::vector<std::unique_ptr<Tablet>> tablets;
  const std::string people[] = {world.school.person, teacher, second};
  for (int i = 0; i < 3; ++i) {
    tablets.push_back(std::make_unique<Tablet>(dir.file("tablet" + std::to_string(i) + ".db")));
    tablets.back()->enroll(world.base_url(), world.code_for(people[i]));
    REQUIRE(tablets.back()->sync(world.base_url()).ok());
    REQUIRE(tablets.back()->store().default_school() == world.school.id);
  }
  const Shared shared = seed_records(*tablets[0], world.school.person);
  REQUIRE(tablets[0]->sync(world.base_url())->complete);
  for (auto& t : tablets) REQUIRE(t->sync(world.base_url())->complete);

  // Offline rounds: everyone edits, then a random subset syncs in a random order.
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 3; ++i) {
      for (int k = 0; k < 6; ++k) random_edit(*tablets[i], shared, rng, "t" + std::to_string(i) + "r" + std::to_string(round));
    }
    std::vector<int> order = {0, 1, 2};
    std::shuffle(order.begin(), order.end(), rng);
    const int syncing = 1 + static_cast<int>(rng() % 3);
    for (int j = 0; j < syncing; ++j) {
      auto r = tablets[order[j]]->sync(world.base_url());
      INFO("sync: " << (r ? "" : r.error().message));
      REQUIRE(r.ok());
      CHECK(r->rejected == 0);
    }
  }
  // Everyone syncs twice: after the first pass the server has everything.
  for (int pass = 0; pass < 2; ++pass) {
    for (auto& t : tablets) REQUIRE(t->sync(world.base_url())->complete);
  }
  const std::string reference = tablets[0]->dump();
  CHECK(tablets[1]->dump() == reference);
  CHECK(tablets[2]->dump() == reference);
  for (auto& t : tablets) CHECK(t->outbox_size() == 0);

  // The server's sequence holds every change exactly once.
  const auto on_server = distinct_hlcs(server_sequence(world));
  CHECK(on_server == local_hlcs(tablets[1]->store()));
}

TEST_CASE("a push the transport delivers 10 times takes effect once", "[e2e][sync][replay]") {
  SyncWorld world;
  TempDir dir;
  Tablet a(dir.file("a.db"));
  Tablet b(dir.file("b.db"));
  world.enroll(a);
  b.enroll(world.base_url(), world.code_for(world.add_person("Bo", "resource_person")));
  for (int i = 0; i < 40; ++i) {
    REQUIRE(a.store().create("action", Json{{"text", "aftale " + std::to_string(i)}}).ok());
  }
  auto curl = curl_to(world.base_url());
  ScriptedTransport tenfold(*curl);
  tenfold.repeat = 10;
  sync::EngineOptions o = Tablet::fast_options();
  o.push_batch = 15;  // three batches, each delivered ten times
  auto r = a.sync(tenfold, o);
  REQUIRE(r.ok());
  CHECK(r->accepted == 40);
  CHECK(r->duplicates == 0);
  CHECK(r->rejected == 0);
  CHECK(a.outbox_size() == 0);
  // Every repeat after the first was answered from the server's record.
  int replayed = 0;
  for (const auto& body : tenfold.responses) {
    const auto j = nlohmann::json::parse(body);
    if (j.contains("push") && j["push"].value("replayed", false)) ++replayed;
  }
  CHECK(replayed == 3 * 9);

  REQUIRE(b.sync(world.base_url())->complete);
  REQUIRE(a.sync(world.base_url())->complete);
  CHECK(a.dump() == b.dump());
  const auto on_server = distinct_hlcs(server_sequence(world));
  CHECK(on_server == local_hlcs(a.store()));
}

TEST_CASE("an answer lost to a timeout is retried with the same mutation id and batch",
          "[e2e][sync][retry]") {
  SyncWorld world;
  TempDir dir;
  Tablet a(dir.file("a.db"));
  world.enroll(a);
  a.record_actions(10, "a");

  auto curl = curl_to(world.base_url());
  ScriptedTransport lossy(*curl);
  // The server gets and applies the first two attempts; their answers are lost.
  lossy.after = [](int call, Result<sync::HttpResponse> real) -> Result<sync::HttpResponse> {
    if (call <= 2) return make_error(ErrorCode::kTimeout, "simulated timeout after the server answered");
    return real;
  };
  auto r = a.sync(lossy);
  REQUIRE(r.ok());
  CHECK(r->retries == 2);
  CHECK(r->accepted == 10);  // the replayed stored answer: accepted, not duplicate
  REQUIRE(lossy.bodies.size() >= 3);
  CHECK(lossy.bodies[0] == lossy.bodies[1]);
  CHECK(lossy.bodies[1] == lossy.bodies[2]);
  const auto first = nlohmann::json::parse(lossy.bodies[0]);
  CHECK(first["push"]["mutation_id"] == 1);
  const auto third = nlohmann::json::parse(lossy.responses[2]);
  CHECK(third["push"]["replayed"] == true);
  CHECK(a.outbox_size() == 0);
}

TEST_CASE("a crash between sending and processing the answer resends the same batch after restart",
          "[e2e][sync][crash]") {
  SyncWorld world;
  TempDir dir;
  Tablet a(dir.file("a.db"));
  world.enroll(a);
  a.record_actions(25, "a");

  std::string sent_body;
  {
    auto curl = curl_to(world.base_url());
    ScriptedTransport dies(*curl);
    dies.after = [](int, Result<sync::HttpResponse>) -> Result<sync::HttpResponse> {
      return make_error(ErrorCode::kNetwork, "connection lost");
    };
    sync::EngineOptions o = Tablet::fast_options();
    o.retry.max_attempts = 1;
    o.push_batch = 10;
    auto r = a.sync(dies, o);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kNetwork);
    sent_body = dies.bodies.at(0);
  }
  a.reopen();  // the app restarts
  CHECK(a.outbox_size() == 25);  // nothing dropped without an answer

  auto curl = curl_to(world.base_url());
  ScriptedTransport watch(*curl);
  sync::EngineOptions o = Tablet::fast_options();
  o.push_batch = 10;
  auto r = a.sync(watch, o);
  REQUIRE(r.ok());
  CHECK(r->complete);
  CHECK(r->accepted == 25);
  REQUIRE_FALSE(watch.bodies.empty());
  const auto before = nlohmann::json::parse(sent_body);
  const auto after = nlohmann::json::parse(watch.bodies[0]);
  CHECK(after["push"] == before["push"]);  // same id, same changes
  CHECK(nlohmann::json::parse(watch.responses[0])["push"]["replayed"] == true);
  CHECK(nlohmann::json::parse(watch.bodies[1])["push"]["mutation_id"] == 2);
}

TEST_CASE("thousands of changes page through and a stopped sync resumes at its cursor",
          "[e2e][sync][pagination]") {
  SyncWorld world;
  TempDir dir;
  Tablet a(dir.file("a.db"));
  Tablet b(dir.file("b.db"));
  world.enroll(a);
  b.enroll(world.base_url(), world.code_for(world.add_person("Bo", "resource_person")));
  REQUIRE(a.store()
              .transaction([&]() -> Status {
                for (int i = 0; i < 600; ++i) {
                  auto id = a.store().create("course", Json{{"kind", "observation"}, {"title", "forløb " + std::to_string(i)}});
                  if (!id) return id.error();
                  for (int k = 0; k < 4; ++k) TANDEM_TRY(a.store().set(*id, "title", "forløb " + std::to_string(i) + "." + std::to_string(k)));
                }
                return {};
              })
              .ok());
  REQUIRE(a.outbox_size() == 3000);
  sync::EngineOptions push = Tablet::fast_options();
  push.pull = false;
  push.push_batch = 400;
  auto pushed = a.sync(world.base_url(), push);
  REQUIRE(pushed.ok());
  CHECK(pushed->accepted == 3000);
  CHECK(pushed->requests == 8);

  sync::EngineOptions pull = Tablet::fast_options();
  pull.pull_limit = 250;
  pull.max_requests = 5;
  auto part = b.sync(world.base_url(), pull);
  REQUIRE(part.ok());
  CHECK_FALSE(part->complete);
  CHECK(part->pulled == 5 * 250);
  const std::int64_t cursor = part->cursor;
  b.reopen();
  pull.max_requests = 0;
  auto rest = b.sync(world.base_url(), pull);
  REQUIRE(rest.ok());
  CHECK(rest->complete);
  CHECK(part->pulled + rest->pulled >= 3000);
  CHECK(rest->requests >= 3000 / 250 - 5);
  CHECK(rest->cursor > cursor);
  REQUIRE(a.sync(world.base_url())->complete);
  CHECK(a.dump() == b.dump());
}

TEST_CASE("a teacher's tablet pages through a mixed school: its courses only, resumable, idempotent",
          "[e2e][sync][pagination][visibility]") {
  SyncWorld world;
  TempDir dir;
  Tablet a(dir.file("a.db"));
  Tablet c(dir.file("c.db"));
  world.enroll(a);
  const std::string teacher = world.add_person("Dorte Lærer", "teacher");
  c.enroll(world.base_url(), world.code_for(teacher));
  REQUIRE(a.sync(world.base_url())->complete);  // a learns of her
  std::set<std::string> hers;
  REQUIRE(a.store()
              .transaction([&]() -> Status {
                for (int i = 0; i < 300; ++i) {
                  Json fields{{"kind", "observation"}, {"title", "forløb " + std::to_string(i)}};
                  if (i % 10 == 3) fields["participants"] = Json::array({teacher});
                  auto id = a.store().create("course", fields);
                  if (!id) return id.error();
                  if (i % 10 == 3) hers.insert(*id);
                  for (int k = 0; k < 3; ++k)
                    TANDEM_TRY(a.store().set(*id, "title", "forløb " + std::to_string(i) + "." + std::to_string(k)));
                }
                return {};
              })
              .ok());
  REQUIRE(a.sync(world.base_url())->complete);

  sync::EngineOptions pull = Tablet::fast_options();
  pull.pull_limit = 7;
  pull.max_requests = 3;
  auto part = c.sync(world.base_url(), pull);
  REQUIRE(part.ok());
  CHECK_FALSE(part->complete);
  c.reopen();
  pull.max_requests = 0;
  auto rest = c.sync(world.base_url(), pull);
  REQUIRE(rest.ok());
  CHECK(rest->complete);
  // Hers with their last titles; none of the others, in any form.
  auto courses = c.store().list("course");
  REQUIRE(courses.ok());
  std::set<std::string> held;
  for (const auto& r : *courses) {
    held.insert(r.id);
    auto mine = a.store().get(r.id);
    REQUIRE(mine.ok());
    CHECK(r.fields["title"] == mine->fields["title"]);
  }
  CHECK(held == hers);
  CHECK(part->pulled + rest->pulled == static_cast<std::int64_t>(hers.size()) * 4);
  // Again: nothing new, nothing lost.
  auto again = c.sync(world.base_url(), pull);
  REQUIRE(again.ok());
  CHECK(again->pulled == 0);
  CHECK(c.store().list("course")->size() == hers.size());
}

TEST_CASE("a tablet whose clock is hours behind still pulls, and stamps follow server time",
          "[e2e][sync][clock]") {
  SyncWorld world;
  TempDir dir;
  constexpr std::int64_t kHours = 3LL * 3600 * 1000;
  ManualClock tablet_clock(SystemClock().now_ms() - kHours);
  Tablet a(dir.file("a.db"), &tablet_clock);
  Tablet b(dir.file("b.db"));
  b.enroll(world.base_url(), world.code_for(world.add_person("Bo", "resource_person")));
  auto made = b.store().create("action", Json{{"text", "fra b"}});
  REQUIRE(made.ok());
  REQUIRE(b.sync(world.base_url())->complete);

  world.enroll(a);
  CHECK(a.clock().offset_ms() > kHours - 60'000);
  auto r = a.sync(world.base_url());
  REQUIRE(r.ok());
  CHECK(r->complete);
  CHECK(a.store().get(*made).ok());
  auto mine = a.store().create("action", Json{{"text", "fra a"}});
  REQUIRE(mine.ok());
  const std::int64_t stamped = a.store().clock().last().ms;
  CHECK(std::llabs(stamped - SystemClock().now_ms()) < 60'000);
}

TEST_CASE("a revoked device gets a clear error and keeps its local data", "[e2e][sync][revoked]") {
  SyncWorld world;
  TempDir dir;
  Tablet a(dir.file("a.db"));
  world.enroll(a);
  REQUIRE(a.sync(world.base_url())->complete);
  auto kept = a.store().create("action", Json{{"text", "ikke synkroniseret endnu"}});
  REQUIRE(kept.ok());
  auto device = a.store().meta(sync::kMetaDeviceId);
  REQUIRE(server_admin(world.server->data_dir(), {"device", "revoke", **device}).exit_code == 0);
  auto r = a.sync(world.base_url());
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kUnauthorized);
  CHECK_THAT(r.error().message, Catch::Contains("device revoked or not enrolled"));
  CHECK(a.outbox_size() == 1);
  CHECK(a.store().get(*kept).ok());
}

}  // namespace tandem::test
