#include "tandem/core/hlc.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace tandem {
namespace {
bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}
std::uint64_t parse_hex(std::string_view s) {
  std::uint64_t v = 0;
  for (char c : s) v = v * 16 + static_cast<std::uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  return v;
}
constexpr std::int64_t kMaxMs = 0xffffffffffffLL;  // 12 hex digits
constexpr std::uint32_t kMaxCounter = 0xffffff;    // 6 hex digits
}  // namespace

std::string Hlc::str() const {
  // Hot path (every change is logged by its stamp): hex by hand, no printf.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(20 + site.size(), '-');
  auto put = [&](std::size_t at, std::uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i, v >>= 4) out[at + static_cast<std::size_t>(i)] = kHex[v & 0xF];
  };
  put(0, static_cast<std::uint64_t>(ms) & 0xFFFFFFFFFFFFULL, 12);
  put(13, counter & 0xFFFFFFU, 6);
  out.replace(20, site.size(), site);
  return out;
}

Result<Hlc> Hlc::parse(std::string_view text) {
  // 12 + 1 + 6 + 1 + 16
  if (text.size() != 36 || text[12] != '-' || text[19] != '-' || !is_hex(text.substr(0, 12)) ||
      !is_hex(text.substr(13, 6)) || !is_hex(text.substr(20))) {
    return make_error(ErrorCode::kInvalidArgument, "malformed HLC stamp");
  }
  Hlc h;
  h.ms = static_cast<std::int64_t>(parse_hex(text.substr(0, 12)));
  h.counter = static_cast<std::uint32_t>(parse_hex(text.substr(13, 6)));
  h.site = std::string(text.substr(20));
  return h;
}

std::int64_t SystemClock::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

HybridClock::HybridClock(Clock& wall, std::string site, std::int64_t max_ahead_ms)
    : wall_(wall), site_(std::move(site)), max_ahead_ms_(max_ahead_ms) {}

Hlc HybridClock::tick() {
  const std::int64_t now = std::clamp<std::int64_t>(wall_.now_ms(), 0, kMaxMs);
  if (now > last_ms_) {
    last_ms_ = now;
    last_counter_ = 0;
  } else if (last_counter_ < kMaxCounter) {
    ++last_counter_;
  } else {
    // Counter exhausted within one millisecond: borrow the next millisecond.
    ++last_ms_;
    last_counter_ = 0;
  }
  return Hlc{last_ms_, last_counter_, site_};
}

Status HybridClock::check(const Hlc& remote) const {
  const std::int64_t local = std::max(wall_.now_ms(), last_ms_);
  if (remote.ms > local + max_ahead_ms_) {
    return make_error(ErrorCode::kClockSkew,
                      "change stamped " + std::to_string((remote.ms - local) / 1000) +
                          " s ahead of this device's clock");
  }
  return {};
}

Status HybridClock::observe(const Hlc& remote) {
  TANDEM_TRY(check(remote));
  observe_checked(remote);
  return {};
}

void HybridClock::observe_checked(const Hlc& remote) {
  if (remote.ms > last_ms_) {
    last_ms_ = remote.ms;
    last_counter_ = remote.counter;
  } else if (remote.ms == last_ms_ && remote.counter > last_counter_) {
    last_counter_ = remote.counter;
  }
}

}  // namespace tandem
