// FaultProxy: a small TCP proxy on loopback that sits between a client and
// tandem-server and breaks connections on purpose, reproducibly (seeded).
//
// For each accepted connection it draws, from its own seeded generator, at
// most one fault:
//   - cut the request:  forward a random prefix of what the client sends
//     (1..cut_bytes_max bytes), then close both sides — the server never
//     sees a complete request;
//   - cut the response: forward the request whole, then only a random prefix
//     of the server's answer (1..cut_bytes_max bytes), then close — the
//     server HAS processed the request, the client never learns the result;
//   - delay: hold the server's answer for `delay` before forwarding it (a
//     client with a shorter timeout gives up: outcome unknown again).
// Connections drawn clean are forwarded untouched. `max_faults` bounds the
// total, so a test can say "the first N connections may break".
//
//   tandem::test::FaultProxy proxy(server->port(), {.seed = 7, .cut_response = 0.5});
//   CurlOptions o; o.base_url = proxy.url();
//
// Thread-safety: the proxy runs one thread of its own (a poll loop); the
// public methods may be called from the test's thread at any time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace tandem::test {

struct FaultPlan {
  std::uint64_t seed = 1;
  double cut_request = 0.0;                // probability per connection
  double cut_response = 0.0;               // probability per connection
  double delay = 0.0;                      // probability per connection
  std::int64_t cut_bytes_max = 64 * 1024;  // cuts happen within this many bytes
  std::int64_t cut_at = -1;  // >= 0: a cut happens after exactly this many bytes (0: none pass)
  std::chrono::milliseconds delay_for{0};
  std::int64_t max_faults = -1;  // -1: unlimited
};

struct FaultStats {
  std::int64_t connections = 0;
  std::int64_t cut_requests = 0;
  std::int64_t cut_responses = 0;
  std::int64_t delays = 0;
  std::int64_t bytes_up = 0;    // client -> server, forwarded
  std::int64_t bytes_down = 0;  // server -> client, forwarded
  std::int64_t faults() const { return cut_requests + cut_responses + delays; }
};

class FaultProxy {
 public:
  // Listens on 127.0.0.1 (a free port) and forwards to 127.0.0.1:upstream_port.
  // Fails the current Catch2 test when it cannot listen.
  FaultProxy(int upstream_port, FaultPlan plan);
  ~FaultProxy();  // stops the thread, closes every connection
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  FaultStats stats() const;
  // Replaces the plan for connections accepted from now on (keeps the seed's
  // generator unless the new plan's seed differs).
  void set_plan(const FaultPlan& plan);
  // Forwards connections accepted from now on to another port (a restarted
  // server): clients keep one address across restarts. While nothing
  // listens there, a new connection is reset at once.
  void set_upstream_port(int port);

 private:
  struct Impl;
  void run();
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace tandem::test
