#include "connection_registry.hpp"

#include <vector>

#include "http_session.hpp"

namespace tandem::server {

bool ConnectionRegistry::try_add(const std::shared_ptr<HttpSession>& session) {
  std::lock_guard lock(mu_);
  if (stopping() || sessions_.size() >= max_) return false;
  sessions_.emplace(session.get(), session);
  return true;
}

void ConnectionRegistry::remove(const HttpSession* session) {
  std::function<void()> drained;
  {
    std::lock_guard lock(mu_);
    if (sessions_.erase(session) == 0) return;
    if (stopping() && sessions_.empty()) drained = std::move(on_drained_);
  }
  if (drained) drained();
}

void ConnectionRegistry::begin_shutdown(std::function<void()> on_drained) {
  std::vector<std::shared_ptr<HttpSession>> live;
  std::function<void()> drained;
  {
    std::lock_guard lock(mu_);
    stopping_.store(true, std::memory_order_release);
    on_drained_ = std::move(on_drained);
    for (auto& [_, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    if (sessions_.empty()) drained = std::move(on_drained_);
  }
  for (auto& s : live) s->on_server_stop();
  live.clear();  // may destroy sessions (remove() takes the lock again)
  if (drained) drained();
}

}  // namespace tandem::server
