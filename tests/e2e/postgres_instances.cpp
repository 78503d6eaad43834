// Two tandem-server instances on different ports sharing one PostgreSQL
// database (issue 17, Must show): tablets syncing through either at random
// end with identical records; an instance killed with SIGKILL mid-push and
// restarted loses no acknowledged change, duplicates none, and the school's
// sequence stays dense. Seeded; TANDEM_SEED replays a run.
#include <signal.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "postgres_server.hpp"
#include "server_process.hpp"
#include "server_store.hpp"

using tandem::Change;
using namespace tandem::test;  // NOLINT(google-build-using-namespace)
using nlohmann::json;

namespace {

std::uint64_t test_seed() {
  if (const char* s = std::getenv("TANDEM_SEED")) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

// `tandem --db DB ARGS...`, REQUIRing exit 0; its stdout.
std::string tablet(const std::string& db, std::vector<std::string> args) {
  args.insert(args.begin(), {"--db", db});
  const ProcessResult r = run_cli(args);
  INFO("tandem " << args.at(2) << " exited " << r.exit_code << ": " << r.err << r.out);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// Two data folders (each instance's erasure log and record cache) naming
// one fresh database.
struct TwoInstances {
  TempDir a, b;
  std::string url;
  TestSchool school;
  std::unique_ptr<ServerProcess> one, two;

  explicit TwoInstances(PostgresServer& pg) {
    url = pg.create_database();
    set_store_url(a.path(), url);
    set_store_url(b.path(), url);
    school = create_test_school(a.path(), "Skole");
    one = ServerProcess::start(a.path());
    two = ServerProcess::start(b.path());
  }
  ServerProcess& pick(std::mt19937_64& rng) { return rng() % 2 ? *one : *two; }
};

}  // namespace

TEST_CASE("postgresql: three tablets syncing through two instances at random end identical",
          "[postgres][instances]") {
  PostgresServer* pg = postgres_or_skip();
  if (pg == nullptr) return;
  const std::uint64_t seed = test_seed();
  INFO("TANDEM_SEED=" << seed);
  std::mt19937_64 rng(seed);
  TwoInstances world(*pg);
  TempDir tablets;
  std::vector<std::string> dbs;
  for (int i = 0; i < 3; ++i) {
    dbs.push_back(tablets.file("tablet" + std::to_string(i) + ".db"));
    tablet(dbs.back(), {"--json", "enroll", "--server", world.pick(rng).url(""), "--code",
                        enrollment_code(world.a.path(), world.school.person), "--device-name",
                        "tablet " + std::to_string(i)});
  }
  // Rounds of offline work: new courses, and edits of courses others made
  // (concurrent edits of one field included), each tablet syncing through
  // either instance.
  std::vector<std::string> courses;
  for (int round = 0; round < 6; ++round) {
    for (const auto& db : dbs) {
      const json made = json::parse(tablet(db, {"--json", "new", "course", "kind=co_teaching",
                                                "title=Forløb " + std::to_string(round)}));
      courses.push_back(made.at("id").get<std::string>());
      const std::string target = courses[rng() % courses.size()];
      // A course another tablet made may not have reached this one yet.
      const ProcessResult edit =
          run_cli({"--db", db, "set", target, "title", "Titel " + std::to_string(rng() % 1000)});
      (void)edit;
    }
    for (const auto& db : dbs)
      tablet(db, {"--json", "sync", "--quiet", "--server", world.pick(rng).url("")});
  }
  for (int pass = 0; pass < 2; ++pass)
    for (const auto& db : dbs)
      tablet(db, {"--json", "sync", "--quiet", "--server", world.pick(rng).url("")});

  const std::string first = tablet(dbs[0], {"dump"});
  CHECK(first.find("Forløb 5") != std::string::npos);
  for (std::size_t i = 1; i < dbs.size(); ++i) {
    INFO("tablet " << i);
    CHECK(tablet(dbs[i], {"dump"}) == first);
  }
  // The school's sequence as stored: dense, each change once.
  const auto rows = stored_sequence(world.a.path(), world.school.id);
  REQUIRE(rows.size() >= 18 + 2);  // 18 courses (+ edits), the school and its person
  std::set<std::string> hlcs;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CHECK(rows[i].seq == static_cast<std::int64_t>(i) + 1);
    CHECK(hlcs.insert(rows[i].hlc).second);
  }
}

TEST_CASE("postgresql: an instance killed mid-push loses nothing acknowledged, duplicates nothing",
          "[postgres][instances][crash]") {
  PostgresServer* pg = postgres_or_skip();
  if (pg == nullptr) return;
  const std::uint64_t seed = test_seed();
  INFO("TANDEM_SEED=" << seed);
  std::mt19937_64 rng(seed);
  TwoInstances world(*pg);
  const TestDevice device = enroll_test_device(*world.two, world.school.person);
  const TestDevice other = enroll_test_device(*world.one, world.school.person);

  ChangeMaker maker, other_maker;
  std::set<std::string> acknowledged;
  std::int64_t mutation_id = 0, other_mutation = 0;
  std::vector<Change> in_flight;  // sent, answer lost: retried with the same id
  int kills_mid_push = 0;
  HttpClient http;
  for (int iteration = 0; iteration < 12; ++iteration) {
    // Instance one is killed at a random moment while `device` pushes
    // through it; `other` pushes through instance two meanwhile.
    const pid_t pid = world.one->pid();
    const int delay_ms = 20 + static_cast<int>(rng() % 250);
    std::thread killer([pid, delay_ms] {
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      ::kill(pid, SIGKILL);
    });
    for (;;) {
      if (in_flight.empty()) {
        ++mutation_id;
        const int n = 1 + static_cast<int>(rng() % 30);
        for (int i = 0; i < n; ++i) in_flight.push_back(maker.create_course(world.school.id, "c"));
      }
      const HttpResponse r =
          http.post(world.one->url("/v1/sync"), sync_body(mutation_id, in_flight), device.token);
      if (r.status == 0) {
        ++kills_mid_push;
        break;
      }
      INFO("push answered " << r.status << ": " << r.body.substr(0, 300));
      REQUIRE(r.status == 200);
      const json results = r.json().at("push").at("results");  // a copy: r.json() is a temporary
      for (const auto& res : results) {
        REQUIRE(res.at("status") != "rejected");
        acknowledged.insert(res.at("hlc").get<std::string>());
      }
      in_flight.clear();
      // The other tablet, through the other instance.
      const std::vector<Change> mine = {other_maker.create_course(world.school.id, "o")};
      const HttpResponse o =
          http.post(world.two->url("/v1/sync"), sync_body(++other_mutation, mine), other.token);
      REQUIRE(o.status == 200);
      const json theirs = o.json().at("push").at("results");
      for (const auto& res : theirs) acknowledged.insert(res.at("hlc").get<std::string>());
    }
    killer.join();
    world.one->kill_hard();
    world.one = ServerProcess::start(world.a.path());
  }
  // The batch whose answer was lost, retried through the other instance.
  if (!in_flight.empty()) {
    const HttpResponse r =
        http.post(world.two->url("/v1/sync"), sync_body(mutation_id, in_flight), device.token);
    REQUIRE(r.status == 200);
    const json results = r.json().at("push").at("results");
    for (const auto& res : results) acknowledged.insert(res.at("hlc").get<std::string>());
  }
  const TestDevice observer = enroll_test_device(*world.two, world.school.person);
  const auto pulled = pull_all(http, *world.one, observer.token);
  std::map<std::string, int> served;
  for (const auto& p : pulled) ++served[p.at("change").at("hlc").get<std::string>()];
  world.one->terminate();
  world.two->terminate();

  const auto rows = stored_sequence(world.a.path(), world.school.id);
  std::map<std::string, int> stored;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    INFO("row " << i);
    CHECK(rows[i].seq == static_cast<std::int64_t>(i) + 1);  // dense
    ++stored[rows[i].hlc];
  }
  INFO("acknowledged " << acknowledged.size() << ", kills mid-push " << kills_mid_push);
  CHECK(acknowledged.size() > 50);
  CHECK(kills_mid_push > 0);
  for (const auto& hlc : acknowledged) {
    INFO(hlc);
    CHECK(served[hlc] == 1);
    CHECK(stored[hlc] == 1);
  }
  for (const auto& [hlc, n] : served) CHECK(n == 1);
  for (const auto& [hlc, n] : stored) CHECK(n == 1);
  CHECK(pulled.size() == acknowledged.size() + 2);  // + school and person
  std::printf("TANDEM_RELIABILITY postgres_instance_kill acknowledged=%zu kills_mid_push=%d rows=%zu\n",
              acknowledged.size(), kills_mid_push, rows.size());
}

TEST_CASE("postgresql: what one instance or the administration commits reaches every instance's next request",
          "[postgres][instances]") {
  PostgresServer* pg = postgres_or_skip();
  if (pg == nullptr) return;
  TwoInstances world(*pg);
  const TestDevice device = enroll_test_device(*world.one, world.school.person);
  HttpClient http;
  ChangeMaker maker;
  // A push through one instance is pulled through the other at once.
  const Change course = maker.create_course(world.school.id, "Forløb");
  const HttpResponse pushed =
      http.post(world.one->url("/v1/sync"), sync_body(1, {course}), device.token);
  REQUIRE(pushed.status == 200);
  const TestDevice reader = enroll_test_device(*world.two, world.school.person);
  bool seen = false;
  for (const auto& p : pull_all(http, *world.two, reader.token))
    if (p.at("change").at("record") == course.record) seen = true;
  CHECK(seen);
  // Both instances answer the device; after a revocation by the
  // administration neither does, from the next request on.
  for (ServerProcess* s : {world.one.get(), world.two.get()})
    CHECK(http.post(s->url("/v1/sync"), pull_body(0), device.token).status == 200);
  server_admin_json(world.a.path(), {"device", "revoke", device.id});
  for (ServerProcess* s : {world.one.get(), world.two.get()}) {
    const HttpResponse r = http.post(s->url("/v1/sync"), pull_body(0), device.token);
    CHECK(r.status == 401);
  }
  // A person added by the administration (another process) enrolls through
  // a running instance at once: its record cache catches up on the school.
  const std::string newcomer = server_admin_json(world.b.path(), {"person", "add", "--school", world.school.id,
                                                                 "--name", "Ny", "--role", "teacher"})
                                   .at("id")
                                   .get<std::string>();
  const TestDevice fresh = enroll_test_device(*world.one, newcomer);
  CHECK(fresh.person == newcomer);
  CHECK(http.post(world.one->url("/v1/sync"), pull_body(0), fresh.token).status == 200);
}
