// Hybrid logical clock (HLC) stamps and the clock that issues them.
//
// A stamp is (physical ms, counter, site id), totally ordered in that order.
// Its text form is fixed width so that string order equals stamp order:
//   "0192a3b4c5d6-000001-0123456789abcdef"
//    12 hex ms     6 hex counter  16 hex site
// Thread-safety: HybridClock is not thread-safe; the Store serialises use.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "tandem/core/error.hpp"

namespace tandem {

struct Hlc {
  std::int64_t ms = 0;
  std::uint32_t counter = 0;
  std::string site;  // 16 lowercase hex chars

  std::string str() const;
  static Result<Hlc> parse(std::string_view text);
  friend bool operator==(const Hlc&, const Hlc&) = default;
  friend auto operator<=>(const Hlc& a, const Hlc& b) {
    if (auto c = a.ms <=> b.ms; c != 0) return c;
    if (auto c = a.counter <=> b.counter; c != 0) return c;
    return a.site <=> b.site;
  }
};

// The host's wall clock, injected (tests use a manual one).
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now_ms() = 0;  // Unix epoch milliseconds
};

// std::chrono::system_clock.
class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() override;
};

// The HLC never goes backwards: tick() is always greater than every stamp
// issued or observed before, whatever the wall clock says (a tablet reset to
// 1970 goes on counting from its last stamp). The only way down is
// restore(), which the Store uses when it reopens a file and when it
// withdraws stamps the server refused (Store::restamp_outbox_after).
class HybridClock {
 public:
  // max_ahead_ms: how far a received stamp may be ahead of local time.
  HybridClock(Clock& wall, std::string site, std::int64_t max_ahead_ms = 5 * 60 * 1000);

  // A new stamp for a local event, greater than every stamp seen so far.
  Hlc tick();
  // Advance past a received stamp. kClockSkew when it is more than
  // max_ahead_ms ahead of local time (the later of the wall clock and the
  // last stamp: a clock reset to 1970 still takes today's stamps); the clock
  // is then unchanged.
  Status observe(const Hlc& remote);
  // Advance past a stamp another party already checked against its own
  // clock (the server's): no max_ahead_ms bound.
  void observe_checked(const Hlc& remote);
  // Whether observe() would accept it (no state change).
  Status check(const Hlc& remote) const;

  const std::string& site() const { return site_; }
  Hlc last() const { return Hlc{last_ms_, last_counter_, site_}; }
  // Sets the last stamp (the next tick() is greater). Moving it down is the
  // caller's responsibility: no stamp it issued above may be issued again.
  void restore(std::int64_t ms, std::uint32_t counter) { last_ms_ = ms; last_counter_ = counter; }
  std::int64_t max_ahead_ms() const { return max_ahead_ms_; }
  void set_max_ahead_ms(std::int64_t v) { max_ahead_ms_ = v; }

 private:
  Clock& wall_;
  std::string site_;
  std::int64_t max_ahead_ms_;
  std::int64_t last_ms_ = 0;
  std::uint32_t last_counter_ = 0;
};

}  // namespace tandem
