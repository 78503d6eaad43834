// Shared pieces of the client-sync end-to-end tests (tests/e2e/sync_*.cpp):
// a running tandem-server with one school, tablets that are real SQLite
// files synced by the real SyncEngine over the real libcurl transport, and
// transports that wrap it to lose or repeat requests.
//
// Thread-safety: none; one test thread.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "server_process.hpp"
#include "test_util.hpp"
#include "tandem/sync/curl_transport.hpp"
#include "tandem/sync/engine.hpp"
#include "tandem/sync/enrollment.hpp"
#include "tandem/sync/skew_clock.hpp"

namespace tandem::test {

class Tablet;

// A server with one school ("Skovbakkeskolen") and its first resource
// person, for tablets.
struct SyncWorld : SchoolServer {
  SyncWorld() : SchoolServer("Skovbakkeskolen") {}
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
  // Enrolls `tablet` as a device of the school's resource person.
  void enroll(Tablet& tablet);
};

// One device: a database file, encrypted (keys in test_keys()), opened with
// a skew-corrected clock (over `base_clock` when given, else the system clock).
class Tablet {
 public:
  Tablet(const std::string& path, Clock* base_clock = nullptr);
  Store& store() { return *s_; }
  sync::SkewCorrectedClock& clock() { return s_->skew_clock(); }
  const std::string& path() const { return path_; }
  // Closes and reopens the file (what a restarted app does).
  void reopen();
  void close() {
    s_.reset();
  }

  // Enrolls over a curl transport to `url`, then syncs once (as `tandem
  // enroll` does) so the school is the default school; REQUIREs success.
  void enroll(const std::string& url, const std::string& code);
  // Records `n` actions with texts prefix0, prefix1, ...; REQUIREs success.
  void record_actions(int n, const std::string& prefix);
  // Runs one engine sync over `transport` (default: curl to `url`).
  Result<sync::SyncSummary> sync(sync::Transport& transport, sync::EngineOptions options = fast_options());
  Result<sync::SyncSummary> sync(const std::string& url, sync::EngineOptions options = fast_options());
  // sync() until complete, at most `rounds` times; REQUIREs completion.
  sync::SyncSummary sync_until_complete(sync::Transport& transport, sync::EngineOptions options, int rounds);
  std::string dump();
  std::int64_t outbox_size();

  static sync::EngineOptions fast_options();  // short backoff: tests do not wait seconds

 private:
  std::string path_;
  Clock* base_clock_;
  std::unique_ptr<Store> s_;
};

// A curl transport to `url` (REQUIREs success).
std::unique_ptr<sync::CurlTransport> curl_to(const std::string& url,
                                             std::chrono::milliseconds total_timeout = std::chrono::milliseconds(30000));

// Wraps a transport: `before` may inspect or change the request, then it is
// sent `repeat` times; `after` may replace the outcome (e.g. lose the answer).
class ScriptedTransport final : public sync::Transport {
 public:
  explicit ScriptedTransport(sync::Transport& inner) : inner_(inner) {}
  Result<sync::HttpResponse> send(const sync::HttpRequest& request) override;
  sync::TransportStats stats() const override { return inner_.stats(); }

  int repeat = 1;
  // Called with the attempt number (1-based) and a copy of the request,
  // which it may change before it is sent.
  std::function<void(int, sync::HttpRequest&)> before;
  // Called with the attempt number (1-based) and the real outcome; returns
  // what the engine sees.
  std::function<Result<sync::HttpResponse>(int, Result<sync::HttpResponse>)> after;
  std::vector<std::string> bodies;     // every request body the engine sent
  std::vector<std::string> responses;  // every response body the server gave

 private:
  sync::Transport& inner_;
  int calls_ = 0;
};

// Every change in the school's server sequence, pulled by a device enrolled
// for the purpose (it pushed nothing, so nothing is left out for it).
std::vector<nlohmann::json> server_sequence(const SyncWorld& world);
// REQUIREs: no hlc appears twice in `sequence`; returns the set of hlcs.
std::set<std::string> distinct_hlcs(const std::vector<nlohmann::json>& sequence);
// Every hlc in the store's change log.
std::set<std::string> local_hlcs(Store& store);

}  // namespace tandem::test
