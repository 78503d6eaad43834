// Shared pieces of the device end-to-end tests (lost tablet, token
// rotation): the real `tandem` CLI on a tablet database, the server's device
// list, and the key folder the CLI keeps its secrets in.
//
// Thread-safety: none; one test thread.
#pragma once

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sync_fixture.hpp"
#include "test_util.hpp"

namespace tandem::test {

// `tandem --db DB ARGS...`
inline ProcessResult cli(const std::string& db, const std::vector<std::string>& args) {
  std::vector<std::string> full = {"--db", db};
  full.insert(full.end(), args.begin(), args.end());
  return run_cli(full);
}

// The same, REQUIRing exit 0; its stdout.
inline std::string cli_ok(const std::string& db, const std::vector<std::string>& args) {
  const ProcessResult r = cli(db, args);
  INFO("tandem " << args.at(0) << " exited " << r.exit_code << ": " << r.err << r.out);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// `tandem --db DB --json enroll` with a fresh code for `person` (default: the
// school's resource person), as device `name`: its JSON answer (device_id,
// the first sync's summary, ...).
inline nlohmann::json enroll_cli(const SyncWorld& world, const std::string& db,
                                 const std::string& name, std::string person = {}) {
  if (person.empty()) person = world.school.person;
  return nlohmann::json::parse(
      cli_ok(db, {"--json", "enroll", "--server", world.base_url(), "--code",
                  world.code_for(person), "--device-name", name}));
}

// The server's device list row of the device `id` (fails the test if none).
inline nlohmann::json device_row(const SchoolServer& world, const std::string& id) {
  for (const auto& d : server_admin_json(world.server->data_dir(),
                                         {"device", "list", "--school", world.school.id})) {
    if (d.at("id") == id) return d;
  }
  FAIL("no device " << id);
  return {};
}

// The id of the device enrolled with --device-name `name`.
inline std::string device_named(const SchoolServer& world, const std::string& name) {
  for (const auto& d : server_admin_json(world.server->data_dir(),
                                         {"device", "list", "--school", world.school.id})) {
    if (d.at("name") == name) return d.at("id").get<std::string>();
  }
  FAIL("no device named " << name);
  return {};
}

// The key folder of this test's tablets: TANDEM_KEY_DIR for the CLI it runs,
// set back to what it was when the test ends.
class KeyDir {
 public:
  KeyDir() {
    if (const char* was = ::getenv("TANDEM_KEY_DIR")) previous_ = was;
    ::setenv("TANDEM_KEY_DIR", path_.c_str(), 1);
  }
  ~KeyDir() {
    if (previous_) {
      ::setenv("TANDEM_KEY_DIR", previous_->c_str(), 1);
    } else {
      ::unsetenv("TANDEM_KEY_DIR");
    }
  }
  KeyDir(const KeyDir&) = delete;
  KeyDir& operator=(const KeyDir&) = delete;

  const std::string& path() const { return path_; }
  // Every device token kept in the folder (entries "tandem-token-<site id>").
  std::vector<std::string> tokens() const {
    namespace fs = std::filesystem;
    std::vector<std::string> out;
    if (!fs::exists(path_)) return out;
    for (const auto& e : fs::directory_iterator(path_)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("tandem-token-", 0) == 0) out.push_back(file_bytes(e.path().string()));
    }
    return out;
  }
  // The one token in the folder (fails the test unless there is exactly one).
  std::string only_token() const {
    const auto all = tokens();
    REQUIRE(all.size() == 1);
    REQUIRE_FALSE(all.front().empty());
    return all.front();
  }

 private:
  TempDir dir_;
  std::string path_ = dir_.file("keys");
  std::optional<std::string> previous_;
};

}  // namespace tandem::test
