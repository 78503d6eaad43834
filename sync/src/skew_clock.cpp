#include "tandem/sync/skew_clock.hpp"

#include <charconv>
#include <string>

namespace tandem::sync {

Status load_clock_offset(Store& store, SkewCorrectedClock& clock) {
  auto text = store.meta(kMetaClockOffset);
  if (!text) return std::move(text).error();
  std::int64_t offset = 0;
  if (*text && !(*text)->empty()) {
    const std::string& s = **text;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), offset);
    if (ec != std::errc() || end != s.data() + s.size()) offset = 0;
  }
  clock.set_offset_ms(offset);
  settle_hybrid_clock(store, clock);
  return {};
}

bool settle_hybrid_clock(Store& store, SkewCorrectedClock& clock) {
  HybridClock& hybrid = store.clock();
  const std::int64_t now = clock.now_ms();
  if (hybrid.last().ms > now + hybrid.max_ahead_ms()) {
    hybrid.restore(now, 0);
    return true;
  }
  return false;
}

std::int64_t measure_offset(std::int64_t server_time_ms, std::int64_t sent_ms, std::int64_t received_ms) {
  // The server stamped its answer somewhere inside the round trip; the middle
  // is the best guess, wrong by at most half the round trip.
  return server_time_ms - (sent_ms + (received_ms - sent_ms) / 2);
}

Result<bool> update_clock_offset(Store& store, SkewCorrectedClock& clock, std::int64_t measured,
                                 std::int64_t tolerance_ms) {
  const std::int64_t wanted = (measured > tolerance_ms || measured < -tolerance_ms) ? measured : 0;
  const std::int64_t current = clock.offset_ms();
  const std::int64_t diff = wanted - current;
  if (wanted == current || (wanted != 0 && diff <= tolerance_ms && diff >= -tolerance_ms)) return false;
  TANDEM_TRY(store.set_meta(kMetaClockOffset, std::to_string(wanted)));
  clock.set_offset_ms(wanted);
  settle_hybrid_clock(store, clock);
  return true;
}

Result<SyncedStore> open_synced_store(StoreOptions options) {
  SyncedStore out;
  Clock* base = options.clock;
  if (base == nullptr) {
    out.system_clock = std::make_unique<SystemClock>();
    base = out.system_clock.get();
  }
  out.clock = std::make_unique<SkewCorrectedClock>(*base);
  options.clock = out.clock.get();
  auto store = Store::open(options);
  if (!store) return std::move(store).error();
  out.store = std::move(*store);
  TANDEM_TRY(load_clock_offset(*out.store, *out.clock));
  return out;
}

}  // namespace tandem::sync
