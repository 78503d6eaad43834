// SkewCorrectedClock: the device's wall clock plus the offset to server time
// that the sync engine learned (server_time_ms of every /v1 response).
//
// Why: tablet clocks are often wrong by hours or years. HLC stamps come from
// the wall clock, so a tablet whose clock runs a year ahead would stamp every
// edit a year in the future, and the server would refuse them all
// (clock_skew). With the learned offset persisted in the Store's metadata
// (kMetaClockOffset) and every process opening the Store through
// open_synced_store(), local stamps follow server time instead.
//
// Offsets within the tolerance of the engine (EngineOptions) are not applied:
// ordinary drift is harmless and the HLC already orders events.
//
// Thread-safety: not thread-safe (like the Store that reads it).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "tandem/core/hlc.hpp"
#include "tandem/core/store.hpp"

namespace tandem::sync {

// Store metadata key holding the offset (decimal milliseconds, server - local).
inline constexpr std::string_view kMetaClockOffset = "sync.clock_offset_ms";

class SkewCorrectedClock final : public Clock {
 public:
  // REQUIRES: base outlives this clock.
  explicit SkewCorrectedClock(Clock& base, std::int64_t offset_ms = 0) : base_(base), offset_ms_(offset_ms) {}
  std::int64_t now_ms() override { return base_.now_ms() + offset_ms_; }
  std::int64_t offset_ms() const { return offset_ms_; }
  void set_offset_ms(std::int64_t offset_ms) { offset_ms_ = offset_ms; }
  // The uncorrected device clock (used to measure the offset).
  Clock& base() { return base_; }

 private:
  Clock& base_;
  std::int64_t offset_ms_;
};

// Reads kMetaClockOffset into `clock` (0 when absent or unreadable), then
// settles the store's hybrid clock (settle_hybrid_clock). Call right after
// Store::open with a store opened on `clock`.
Status load_clock_offset(Store& store, SkewCorrectedClock& clock);

// When the store's hybrid clock has run more than its max_ahead_ms ahead of
// the corrected clock (stamps issued while the wall clock was far ahead), it
// is moved back to the corrected time, so that new local changes carry stamps
// the server accepts instead of continuing from the bad ones. Returns whether
// it moved. Nothing is persisted here: the next local write saves the clock,
// and every open repeats the check until then.
bool settle_hybrid_clock(Store& store, SkewCorrectedClock& clock);

// Estimates server - device from one round trip (device times taken with
// clock.base() just before sending and just after the answer).
std::int64_t measure_offset(std::int64_t server_time_ms, std::int64_t sent_ms, std::int64_t received_ms);

// Adopts `measured` as the correction when it differs from the one in force
// by more than tolerance_ms (offsets within tolerance_ms of zero become 0),
// persists it in kMetaClockOffset and settles the hybrid clock. Returns
// whether the correction changed.
Result<bool> update_clock_offset(Store& store, SkewCorrectedClock& clock, std::int64_t measured,
                                 std::int64_t tolerance_ms);

// A Store opened with a skew-corrected clock; members are destroyed store
// first, so the clocks outlive it. Move-only.
struct SyncedStore {
  std::unique_ptr<SystemClock> system_clock;  // set when no base clock was given
  std::unique_ptr<SkewCorrectedClock> clock;
  std::unique_ptr<Store> store;
};

// Opens options.path with a SkewCorrectedClock over options.clock (nullptr:
// the system clock) and loads the persisted offset. Errors: those of
// Store::open. What every process of a host should use to open its Store
// (the CLI's CliContext, the app), so all local stamps use the same clock.
Result<SyncedStore> open_synced_store(StoreOptions options);

}  // namespace tandem::sync
