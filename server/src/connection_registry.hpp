// ConnectionRegistry: the open HTTP sessions, for the connection limit, for
// making room at the limit, and for draining at shutdown.
//
// At the limit a new connection makes room rather than being turned away:
// the registry closes (reaps) connections that are idle (between requests)
// or still reading a request, the one nearest its own timeout first — the
// one the server would close soonest anyway: the oldest idle, the slowest
// reader (a slowloris connection trickling its headers is near its header
// timeout long before a kept-alive tablet nears the idle timeout). A batch
// of max_connections/64 (1..kReapBatch) per scan. Sessions being handled or
// answered are never reaped. Only when nothing can be reaped does a new connection
// become an overflow connection (read for /healthz, otherwise 503 busy), and
// past kMaxOverflowConnections it is refused outright.
//
// The registry learns what each session is doing from a ConnectionActivity
// the session updates without a lock (two relaxed stores per phase change),
// so the per-request cost is nil; the scan happens only at the limit.
//
// Thread-safety: all methods are safe from any thread. The on_drained
// callback runs on whichever thread closed the last session (or the thread
// calling begin_shutdown() if none are open): it must only post work.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace tandem::server {

// What the registry needs of a connection (an HttpSession, plain or TLS).
class Connection {
 public:
  virtual ~Connection() = default;
  // Closes the connection if it is still idle or reading (a TLS handshake
  // counts as reading); else tells the registry it stays (reap_declined).
  virtual void reap() = 0;
  // Shutdown: close now if idle, else after the current response.
  virtual void on_server_stop() = 0;
};

// What a session is doing, readable from any thread: whether it may be
// reaped (idle, or reading a request) and when its own timer would close it.
class ConnectionActivity {
 public:
  using Clock = std::chrono::steady_clock;

  // Idle or reading, closed by its timer at `expiry` unless it moves on.
  void waiting(Clock::time_point expiry) noexcept {
    expiry_.store(expiry.time_since_epoch().count(), std::memory_order_relaxed);
  }
  // Handling a request or writing its answer (or closed): never reaped.
  void busy() noexcept { expiry_.store(kBusy, std::memory_order_relaxed); }

  bool reapable() const noexcept { return expiry() != kBusy; }
  Clock::rep expiry() const noexcept { return expiry_.load(std::memory_order_relaxed); }

 private:
  static constexpr Clock::rep kBusy = -1;
  std::atomic<Clock::rep> expiry_{kBusy};
};

class ConnectionRegistry {
 public:
  // `max_connections` served at once (at least 1).
  explicit ConnectionRegistry(std::size_t max_connections);

  enum class Admission {
    kServe,     // registered: serve it
    kOverflow,  // registered as an overflow connection: /healthz only
    kRefuse,    // not registered: close it (shutting down, or far over the limit)
  };
  // Registers a new session, reaping others if at the limit.
  Admission admit(const std::shared_ptr<Connection>& session,
                  std::shared_ptr<const ConnectionActivity> activity);
  // Called by a session's destructor.
  void remove(const Connection* session);
  // Called by a session asked to close (HttpSession::reap) that had started
  // handling a request meanwhile: it stays, and no longer counts as going.
  void reap_declined(const Connection* session);

  std::size_t max_connections() const { return max_; }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  // Marks the server as stopping, asks every session to finish (idle ones
  // close at once, busy ones after their response), and calls on_drained
  // once no session remains.
  void begin_shutdown(std::function<void()> on_drained);

 private:
  struct Entry {
    std::weak_ptr<Connection> session;
    std::shared_ptr<const ConnectionActivity> activity;
    bool overflow = false;
    bool reaping = false;
  };
  // Whether one more session may be served now. REQUIRES: mu_ held.
  bool has_room_locked() const;
  // Picks up to batch_ sessions to close and marks them. REQUIRES: mu_.
  void pick_victims_locked(std::vector<std::shared_ptr<Connection>>& out);

  const std::size_t max_;
  const std::size_t batch_;  // sessions reaped per scan
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::unordered_map<const Connection*, Entry> sessions_;
  std::size_t overflow_ = 0;  // entries with overflow set
  std::size_t reaping_ = 0;   // entries with reaping set
  std::function<void()> on_drained_;
};

}  // namespace tandem::server
