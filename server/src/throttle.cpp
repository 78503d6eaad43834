#include "tandem/server/throttle.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace tandem::server {

FailureThrottle::FailureThrottle(ThrottlePolicy policy) : policy_(policy) {
  buckets_.reserve(std::min<std::size_t>(policy_.max_clients, 1024));
}

double FailureThrottle::refilled(const Bucket& b, std::int64_t now_ms) const {
  const double elapsed_s =
      static_cast<double>(std::max<std::int64_t>(0, now_ms - b.updated_ms)) / 1000.0;
  return std::min(policy_.burst, b.tokens + elapsed_s * policy_.per_second);
}

std::int64_t FailureThrottle::wait_ms(std::string_view client, std::int64_t now_ms) {
  // Every authenticated request asks: no lock while nobody has failed.
  if (held_.load(std::memory_order_acquire) == 0) return 0;
  std::lock_guard lock(mu_);
  const auto it = buckets_.find(std::string(client));
  if (it == buckets_.end()) return 0;
  const double tokens = refilled(it->second, now_ms);
  if (tokens >= policy_.burst) {  // as good as forgotten: forget it
    buckets_.erase(it);
    held_.store(buckets_.size(), std::memory_order_release);
    return 0;
  }
  if (tokens >= 1) return 0;
  return std::max<std::int64_t>(
      1, static_cast<std::int64_t>(std::ceil((1 - tokens) / policy_.per_second * 1000.0)));
}

void FailureThrottle::failed(std::string_view client, std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  std::string key(client);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= policy_.max_clients) evict_locked(now_ms);
    it = buckets_.emplace(std::move(key), Bucket{policy_.burst, now_ms}).first;
    held_.store(buckets_.size(), std::memory_order_release);
  }
  Bucket& b = it->second;
  b.tokens = std::max(0.0, refilled(b, now_ms) - 1);
  b.updated_ms = now_ms;
}

std::size_t FailureThrottle::size() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

void FailureThrottle::evict_locked(std::int64_t now_ms) {
  // Forget an eighth at once, so that a stream of new clients pays the scan
  // once per many of them. Refilled buckets first: they say nothing a
  // missing one would not.
  const std::size_t drop = std::max<std::size_t>(1, buckets_.size() / 8);
  std::size_t dropped = 0;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    if (refilled(it->second, now_ms) >= policy_.burst) {
      it = buckets_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  held_.store(buckets_.size(), std::memory_order_release);
  if (dropped >= drop || buckets_.empty()) return;
  // Then the stalest.
  std::vector<std::int64_t> ages;
  ages.reserve(buckets_.size());
  for (const auto& [_, b] : buckets_) ages.push_back(b.updated_ms);
  const std::size_t more = std::min(drop - dropped, ages.size());
  std::nth_element(ages.begin(), ages.begin() + static_cast<std::ptrdiff_t>(more - 1), ages.end());
  const std::int64_t cutoff = ages[more - 1];
  for (auto it = buckets_.begin(); it != buckets_.end() && dropped < drop;) {
    if (it->second.updated_ms <= cutoff) {
      it = buckets_.erase(it);
      ++dropped;
    } else {
      ++it;
    }
  }
  held_.store(buckets_.size(), std::memory_order_release);
}

}  // namespace tandem::server
