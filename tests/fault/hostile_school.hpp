// A hostile "school server" for the bounded-client suites: a HostileServer
// that answers /v1/enroll and the first sync as a real server would (so the
// real `tandem enroll` makes a device of a database), then answers every
// later /v1/sync with the test's script. The device is a real database file
// driven by the real `tandem` CLI (real engine, real libcurl).
//
// Thread-safety: the script runs on the server's connection threads; the
// recorded requests are read by the test under the object's lock (bodies()).
#pragma once

#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_runner.hpp"
#include "hostile_server.hpp"

namespace tandem::test {

// 2^53, written out here on purpose: the suites must not take the bound from
// the code they test.
inline constexpr std::int64_t kTwoTo53 = 9'007'199'254'740'992;
inline constexpr std::int64_t kInt64Max = 9'223'372'036'854'775'807;
inline constexpr std::int64_t kTenYearsMs = 10LL * 365 * 24 * 3600 * 1000;

std::int64_t wall_ms();

// What a device holds that an answer must not change when refused.
struct LocalState {
  std::string dump;                 // canonical dump of every record
  std::vector<std::string> outbox;  // hlcs waiting to be pushed
  std::string cursor;
  std::string clock_offset;
  std::string mutation_id;
  std::size_t rejected = 0;  // the rejected-change log
  bool operator==(const LocalState&) const = default;
  // Equal but for the mutation id, which a device commits before the first
  // send of a batch (exactly-once), whatever the answer.
  bool same_data(LocalState other) const {
    other.mutation_id = mutation_id;
    return other == *this;
  }
};

class HostileSchool {
 public:
  // n: 1 for the first sync after enrollment, 2 for the next, ...;
  // request: the sync request's JSON body.
  using Script = std::function<void(int n, const nlohmann::json& request, HostileWire& wire)>;

  static constexpr const char* kSchool = "school_5e5e5e5e5e5e5e5e";

  explicit HostileSchool(Script script);
  std::string url() const { return server_.url(); }
  HostileServer& server() { return server_; }
  // Bodies of every /v1/sync request after the first (the scripted ones).
  std::vector<nlohmann::json> bodies();
  // Answers /v1/enroll with this device id from now on (default "dev_hostile_1").
  void set_device_id(const std::string& id);

  // `tandem --db DB --json enroll --server URL --code ...`; REQUIREs exit 0.
  void enroll(const std::string& db);
  // enroll(), then one action recorded on the device; returns its state.
  LocalState enroll_with_action(const std::string& db, const std::string& text);

 private:
  void handle(const HostileRequest& request, HostileWire& wire);

  Script script_;
  std::mutex mu_;  // guards the members below
  std::string device_id_ = "dev_hostile_1";
  int syncs_ = 0;
  std::vector<nlohmann::json> bodies_;
  HostileServer server_;  // last: its threads use the members above
};

// The answer a well-behaved server gives to `request` when it accepts every
// pushed change (seq from 100) and has nothing to send (cursor + 10); the
// cases change one number of it.
nlohmann::json good_answer(const nlohmann::json& request);

// A 409 `already_exists` answer naming `last` as the device's last mutation id.
std::string http_stale(std::int64_t last);

// A change of the school record, as another device would have made it.
nlohmann::json school_change(std::int64_t ms, const std::string& name);

LocalState local_state(const std::string& db);
// Records one action on the device (in process, as the app would).
void record_action(const std::string& db, const std::string& text);

// `tandem --db DB --json sync --quiet ARGS...`
ProcessResult cli_sync(const std::string& db, const std::vector<std::string>& args);
// The stable error code of a failed `--json` command ("" when none).
std::string cli_error_code(const ProcessResult& r);

// Prints the suite's TANDEM_RELIABILITY line (see the README's reliability
// table): `command` reproduces it with the test's name.
void print_reliability(const std::string& fault, std::size_t cases, const std::string& result,
                       const std::string& test_name);

}  // namespace tandem::test
