#include "connection_registry.hpp"

#include <algorithm>
#include <vector>

#include "tandem/server/limits.hpp"

namespace tandem::server {

ConnectionRegistry::ConnectionRegistry(std::size_t max_connections)
    : max_(std::max<std::size_t>(1, max_connections)),
      // A batch is a small share of the limit: with few connections, one
      // newcomer does not close every idle one.
      batch_(std::clamp<std::size_t>(max_ / 64, 1, kReapBatch)) {
  sessions_.reserve(max_ + batch_ + kMaxOverflowConnections);
}

bool ConnectionRegistry::has_room_locked() const {
  const std::size_t served = sessions_.size() - overflow_;
  // Sessions being reaped still hold their socket for a moment: they count
  // against the hard bound (limit + one batch), not against the limit.
  return served - reaping_ < max_ && served < max_ + batch_;
}

ConnectionRegistry::Admission ConnectionRegistry::admit(
    const std::shared_ptr<Connection>& session,
    std::shared_ptr<const ConnectionActivity> activity) {
  std::vector<std::shared_ptr<Connection>> victims;
  Admission admission = Admission::kRefuse;
  {
    std::lock_guard lock(mu_);
    if (stopping()) return Admission::kRefuse;
    if (!has_room_locked()) pick_victims_locked(victims);
    if (has_room_locked()) {
      admission = Admission::kServe;
    } else if (overflow_ < kMaxOverflowConnections) {
      admission = Admission::kOverflow;
      ++overflow_;
    }
    if (admission != Admission::kRefuse) {
      sessions_.emplace(session.get(), Entry{session, std::move(activity),
                                             admission == Admission::kOverflow, false});
    }
  }
  for (auto& v : victims) v->reap();
  return admission;
}

void ConnectionRegistry::pick_victims_locked(std::vector<std::shared_ptr<Connection>>& out) {
  struct Candidate {
    ConnectionActivity::Clock::rep expiry;
    Entry* entry;
  };
  std::vector<Candidate> candidates;
  for (auto& [_, e] : sessions_) {
    if (e.overflow || e.reaping || !e.activity->reapable()) continue;
    candidates.push_back({e.activity->expiry(), &e});
  }
  // Nearest its own timeout first.
  const auto order = [](const Candidate& a, const Candidate& b) { return a.expiry < b.expiry; };
  const std::size_t n = std::min(batch_, candidates.size());
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(n),
                    candidates.end(), order);
  for (std::size_t i = 0; i < n; ++i) {
    auto s = candidates[i].entry->session.lock();
    if (!s) continue;  // being destroyed: its slot frees itself
    candidates[i].entry->reaping = true;
    ++reaping_;
    out.push_back(std::move(s));
  }
}

void ConnectionRegistry::remove(const Connection* session) {
  std::function<void()> drained;
  {
    std::lock_guard lock(mu_);
    const auto it = sessions_.find(session);
    if (it == sessions_.end()) return;
    if (it->second.overflow) --overflow_;
    if (it->second.reaping) --reaping_;
    sessions_.erase(it);
    if (stopping() && sessions_.empty()) drained = std::move(on_drained_);
  }
  if (drained) drained();
}

void ConnectionRegistry::reap_declined(const Connection* session) {
  std::lock_guard lock(mu_);
  const auto it = sessions_.find(session);
  if (it == sessions_.end() || !it->second.reaping) return;
  it->second.reaping = false;
  --reaping_;
}

void ConnectionRegistry::begin_shutdown(std::function<void()> on_drained) {
  std::vector<std::shared_ptr<Connection>> live;
  std::function<void()> drained;
  {
    std::lock_guard lock(mu_);
    stopping_.store(true, std::memory_order_release);
    on_drained_ = std::move(on_drained);
    for (auto& [_, e] : sessions_) {
      if (auto s = e.session.lock()) live.push_back(std::move(s));
    }
    if (sessions_.empty()) drained = std::move(on_drained_);
  }
  for (auto& s : live) s->on_server_stop();
  live.clear();  // may destroy sessions (remove() takes the lock again)
  if (drained) drained();
}

}  // namespace tandem::server
