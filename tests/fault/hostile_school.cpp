#include "hostile_school.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>

#include "fault_env.hpp"
#include "tandem/sync/engine.hpp"
#include "test_util.hpp"
#include "tandem/sync/skew_clock.hpp"

namespace tandem::test {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

nlohmann::json school_change(std::int64_t ms, const std::string& name) {
  Change c;
  c.hlc = Hlc{ms, 0, "5e5e5e5e5e5e5e5e"};
  c.record = HostileSchool::kSchool;
  c.kind = "school";
  c.school = HostileSchool::kSchool;
  c.op = Op::kCreate;
  c.value = nlohmann::json{{"name", name}};
  return c.to_json();
}

HostileSchool::HostileSchool(Script script)
    : script_(std::move(script)),
      server_([this](const HostileRequest& r, HostileWire& w) { handle(r, w); }) {}

std::vector<nlohmann::json> HostileSchool::bodies() {
  std::lock_guard lock(mu_);
  return bodies_;
}

void HostileSchool::set_device_id(const std::string& id) {
  std::lock_guard lock(mu_);
  device_id_ = id;
}

void HostileSchool::handle(const HostileRequest& request, HostileWire& wire) {
  if (request.path == "/v1/enroll") {
    std::string device;
    {
      std::lock_guard lock(mu_);
      device = device_id_;
    }
    nlohmann::json answer{
        {"school", {{"id", kSchool}, {"name", "Fjendtlig skole"}}},
        {"person",
         {{"id", "person_5e5e5e5e5e5e5e5e"}, {"name", "Mette"}, {"role", "resource_person"}}},
        {"server_time_ms", wall_ms()}};
    // A check ("check": true) only says whom the code is for.
    const auto asked = nlohmann::json::parse(request.body, nullptr, false);
    if (!asked.is_object() || asked.value("check", false) != true) {
      answer["device_id"] = device;
      answer["token"] = "hostile-token-" + device;
    }
    wire.send(http_answer(200, answer.dump()));
    return;
  }
  const auto body = nlohmann::json::parse(request.body, nullptr, false);
  int n = 0;
  {
    std::lock_guard lock(mu_);
    n = syncs_++;
    if (n > 0) bodies_.push_back(body);
  }
  if (n == 0) {
    // The sync `tandem enroll` makes: the school arrives, the cursor is 5.
    const nlohmann::json page{
        {"server_time_ms", wall_ms()},
        {"pull",
         {{"changes",
           {{{"seq", 4}, {"change", school_change(wall_ms() - 60'000, "Fjendtlig skole")}}}},
          {"cursor", 5},
          {"more", false}}}};
    wire.send(http_answer(200, page.dump()));
    return;
  }
  script_(n, body, wire);
}

void HostileSchool::enroll(const std::string& db) {
  const ProcessResult r = run_cli(
      {"--db", db, "--json", "enroll", "--server", url(), "--code", "K7QM-2HXD-9RTA", "--quiet"});
  INFO("tandem enroll exited " << r.exit_code << ": " << r.err << r.out);
  REQUIRE(r.exit_code == 0);
}

LocalState HostileSchool::enroll_with_action(const std::string& db, const std::string& text) {
  enroll(db);
  record_action(db, text);
  return local_state(db);
}

std::string http_stale(std::int64_t last) {
  const nlohmann::json stale{{"error",
                              {{"code", "already_exists"},
                               {"message", "push.mutation_id is below this device's last one"},
                               {"last_mutation_id", last}}},
                             {"server_time_ms", wall_ms()}};
  return http_answer(409, stale.dump());
}

nlohmann::json good_answer(const nlohmann::json& request) {
  nlohmann::json answer{{"server_time_ms", wall_ms()}};
  if (request.contains("push")) {
    nlohmann::json results = nlohmann::json::array();
    std::int64_t seq = 100;
    for (const auto& c : request["push"]["changes"]) {
      results.push_back({{"hlc", c["hlc"]}, {"status", "accepted"}, {"seq", seq++}});
    }
    answer["push"] = {{"mutation_id", request["push"]["mutation_id"]}, {"results", results}};
  }
  if (request.contains("pull")) {
    answer["pull"] = {{"changes", nlohmann::json::array()},
                      {"cursor", request["pull"]["cursor"].get<std::int64_t>() + 10},
                      {"more", false}};
  }
  return answer;
}

namespace {

std::string meta_or_empty(Store& store, std::string_view key) {
  auto v = store.meta(key);
  REQUIRE(v.ok());
  return *v ? **v : std::string();
}

std::unique_ptr<Store> open_device(const std::string& db) {
  StoreOptions o;
  o.path = db;
  o.encryption = Encryption::kOff;  // made by the CLI: encrypted, keys in test_keys()
  auto opened = Store::open(o, encrypted_host());
  INFO("open " << db << ": " << (opened ? "" : opened.error().message));
  REQUIRE(opened.ok());
  return std::move(*opened);
}

}  // namespace

LocalState local_state(const std::string& db) {
  std::unique_ptr<Store> s = open_device(db);
  Store& store = *s;
  LocalState out;
  auto dump = store.canonical_dump();
  REQUIRE(dump.ok());
  out.dump = *dump;
  auto outbox = store.outbox(100000);
  REQUIRE(outbox.ok());
  for (const auto& lc : *outbox) out.outbox.push_back(lc.change.id());
  out.cursor = meta_or_empty(store, sync::kMetaCursor);
  out.clock_offset = meta_or_empty(store, sync::kMetaClockOffset);
  out.mutation_id = meta_or_empty(store, sync::kMetaMutationId);
  auto rejected = sync::SyncEngine::rejected(store);
  REQUIRE(rejected.ok());
  out.rejected = rejected->size();
  return out;
}

void record_action(const std::string& db, const std::string& text) {
  std::unique_ptr<Store> s = open_device(db);
  auto id = s->create("action", nlohmann::json{{"text", text}});
  INFO("record: " << (id ? "" : id.error().message));
  REQUIRE(id.ok());
}

ProcessResult cli_sync(const std::string& db, const std::vector<std::string>& args) {
  std::vector<std::string> full = {"--db", db, "--json", "sync", "--quiet"};
  full.insert(full.end(), args.begin(), args.end());
  return run_cli(full);
}

std::string cli_error_code(const ProcessResult& r) {
  const auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return "";
  return j["error"].value("code", "");
}

void print_reliability(const std::string& fault, std::size_t cases, const std::string& result,
                       const std::string& test_name) {
  reliability_line(fault, static_cast<std::int64_t>(cases), result, suite_command(test_name, false));
}

}  // namespace tandem::test
