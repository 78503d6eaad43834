// ConnectionRegistry: the open HTTP sessions, for the connection limit and
// for draining at shutdown.
//
// Thread-safety: all methods are safe from any thread. The on_drained
// callback runs on whichever thread closed the last session (or the thread
// calling begin_shutdown() if none are open): it must only post work.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace tandem::server {

class HttpSession;

class ConnectionRegistry {
 public:
  explicit ConnectionRegistry(std::size_t max_connections) : max_(max_connections) {}

  // Registers a session; false when the limit is reached or shutting down.
  bool try_add(const std::shared_ptr<HttpSession>& session);
  // Called by a session's destructor.
  void remove(const HttpSession* session);

  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  // Marks the server as stopping, asks every session to finish (idle ones
  // close at once, busy ones after their response), and calls on_drained
  // once no session remains.
  void begin_shutdown(std::function<void()> on_drained);

 private:
  const std::size_t max_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::unordered_map<const HttpSession*, std::weak_ptr<HttpSession>> sessions_;
  std::function<void()> on_drained_;
};

}  // namespace tandem::server
