// Tools of the abuse suite (tests/fault/abuse_*.cpp): a flood of raw
// connections held open from this process, a tablet's syncs over real
// libcurl timed one by one, the server's resident memory, the process's
// file limit, and the reliability line each case prints.
//
// Everything talks to 127.0.0.1 only. Thread-safety: a ConnectionFlood runs
// its own thread; its counters may be read from any thread. The rest is for
// one test thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <thread>

#include "server_process.hpp"

namespace tandem::test {

// Raises this process's soft RLIMIT_NOFILE toward `wanted` (at most the hard
// limit) and returns the soft limit in force.
std::size_t raise_file_limit(std::size_t wanted);

// VmRSS of `pid` in KiB (from /proc/PID/status); -1 if unreadable.
long resident_kib(pid_t pid);

// Prints one line on stdout:
//   TANDEM_RELIABILITY {"fault":..,"cases":..,"result":..,"command":..}
// `command` reproduces the case (a test name of this suite).
void print_reliability(const std::string& fault, long cases, const std::string& result,
                       const std::string& test_name);

// Connections that take a server slot and give it nothing useful, held by a
// thread of their own (poll, non-blocking sockets).
class ConnectionFlood {
 public:
  enum class Mode {
    kIdle,       // one GET /healthz, read its answer, then silence (kept alive)
    kSilent,     // connect and say nothing
    kSlowloris,  // a request's headers, one more line every `trickle`
  };
  struct Options {
    int port = 0;
    std::size_t connections = 1030;
    Mode mode = Mode::kIdle;
    bool reconnect = false;  // open a new connection for each one the server closes
    std::chrono::milliseconds trickle{1000};
  };

  explicit ConnectionFlood(Options options);
  ~ConnectionFlood();  // stops the thread, closes every socket
  ConnectionFlood(const ConnectionFlood&) = delete;
  ConnectionFlood& operator=(const ConnectionFlood&) = delete;

  // Waits until every slot has been opened once (and, for kIdle, answered),
  // at most `timeout`; true if it got there.
  bool wait_established(std::chrono::milliseconds timeout) const;

  std::size_t opened() const { return opened_.load(); }
  std::size_t open_now() const { return open_now_.load(); }
  std::size_t closed_by_server() const { return closed_by_server_.load(); }

 private:
  void run();

  Options options_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> opened_{0};
  std::atomic<std::size_t> established_{0};
  std::atomic<std::size_t> open_now_{0};
  std::atomic<std::size_t> closed_by_server_{0};
  std::thread thread_;
};

// One tablet's syncs: each opens a new connection (a tablet syncs every few
// minutes, long after its last one closed), pushes one new course and pulls.
struct SyncTally {
  int attempts = 0;
  int ok = 0;                 // answered 200 within the bound
  double worst_ms = 0;        // slowest answered sync
  std::string first_failure;  // status and error of the first one that failed
};
SyncTally timed_syncs(const ServerProcess& server, const TestDevice& device, int count,
                      std::chrono::milliseconds within, std::chrono::milliseconds gap);

// Status of GET /healthz on a new connection, within `within` (0: none).
long healthz_status(const ServerProcess& server, std::chrono::milliseconds within);

}  // namespace tandem::test
