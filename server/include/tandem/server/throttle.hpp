// FailureThrottle: how many failed attempts (wrong enrollment codes, unknown
// tokens) a client may still make before it must wait. One token bucket per
// client: `burst` failures, refilled at `per_second`; a failure takes one, a
// success takes none, and an empty bucket means "answer 429, look nothing
// up". The client is named by a short opaque key (the HTTP layer uses the
// address bytes, an IPv6 address cut to its /64).
//
// Memory is bounded: at most `max_clients` buckets. When full, buckets that
// have refilled (as good as forgotten) go first, then the stalest.
//
// Thread-safety: all methods are safe from any thread (one mutex; the
// state is a few hundred KiB at most, and the lock is held for a map look-up).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tandem::server {

struct ThrottlePolicy {
  double burst = 1;       // failures allowed at once (>= 1)
  double per_second = 1;  // failures allowed per second after that (> 0)
  std::size_t max_clients = 1;
};

class FailureThrottle {
 public:
  explicit FailureThrottle(ThrottlePolicy policy);

  // 0 when `client` may make an attempt at `now_ms`; else the milliseconds
  // until it may (> 0).
  std::int64_t wait_ms(std::string_view client, std::int64_t now_ms);
  // Records a failed attempt of `client` at `now_ms`.
  void failed(std::string_view client, std::int64_t now_ms);

  // Buckets held (for tests of the memory bound).
  std::size_t size() const;

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t updated_ms = 0;
  };
  // Tokens of `b` at `now_ms` (refilled, at most burst).
  double refilled(const Bucket& b, std::int64_t now_ms) const;
  // Makes room for one more bucket. REQUIRES: mu_ held.
  void evict_locked(std::int64_t now_ms);

  const ThrottlePolicy policy_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  std::atomic<std::size_t> held_{0};  // buckets_.size(), read without the lock
};

}  // namespace tandem::server
