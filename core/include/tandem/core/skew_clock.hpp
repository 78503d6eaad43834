// SkewCorrectedClock: the device's wall clock plus the offset to server time
// that the sync engine learned (server_time_ms of every /v1 response).
//
// Why: tablet clocks are often wrong by hours or years. HLC stamps come from
// the wall clock, so a tablet whose clock runs a year ahead would stamp every
// edit a year in the future, and the server would refuse them all
// (clock_skew). With the learned offset persisted in the Store's metadata
// (kMetaClockOffset) and the Store owning its SkewCorrectedClock (every
// Store::open loads the offset; Store::skew_clock()), every host's local
// stamps follow server time instead, whatever process opens the file.
//
// The server's time is a hint, not an order (SYNC.md, Clock): one answer
// cannot move the offset. A new offset is adopted only when two consecutive
// answers agree on it (next_offset). Both may come from one sync() when the
// new offset moves the clock back (the device is ahead: its stamps would be
// refused) or when the device's clock provably reads too early (earlier than
// a stamp it already holds); a later time claimed by a server to a device
// whose clock shows nothing wrong — what one forged answer looks like — must
// be confirmed by a later sync(). Offsets within the engine's tolerance are
// not applied: ordinary drift is harmless and the HLC already orders events.
//
// Stamps already issued are never changed here: the HLC never goes
// backwards. Stamps the server refused are withdrawn by the engine
// (Store::restamp_outbox_after) once the offset is settled.
//
// Thread-safety: not thread-safe (like the Store that reads it).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "tandem/core/hlc.hpp"

namespace tandem {

class Store;

// Store metadata keys (decimal milliseconds, server - local).
inline constexpr std::string_view kMetaClockOffset = "sync.clock_offset_ms";
// An offset one answer measured, waiting for the next answer to agree.
inline constexpr std::string_view kMetaClockCandidate = "sync.clock_offset_candidate_ms";
// The greatest stamp the server accepted from or sent to this device (HLC
// text): the clock never withdraws below it.
inline constexpr std::string_view kMetaServerStamp = "sync.server_stamp";

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

// The correction in force and the candidate waiting for confirmation.
struct OffsetState {
  std::int64_t current = 0;
  std::optional<std::int64_t> candidate;
};

enum class OffsetStep {
  kUnchanged,  // the answer agrees with the correction in force
  kPending,    // a candidate waits for the next answer
  kAdopted,    // two answers agreed: `current` is the new correction
};

// The rule, as a pure function. `measured`: server - device of one answer.
// Offsets within tolerance_ms of zero count as zero; two offsets within
// tolerance_ms of each other agree. `may_adopt_forward`: whether an agreeing
// answer may adopt a correction that moves the clock forward (see above).
OffsetStep next_offset(OffsetState& state, std::int64_t measured, std::int64_t tolerance_ms,
                       bool may_adopt_forward);

// Reads the persisted state (both 0/none when absent or unreadable).
Result<OffsetState> load_offset_state(Store& store);
// Persists `state` and applies state.current to `clock`.
Status save_offset_state(Store& store, SkewCorrectedClock& clock, const OffsetState& state);

// Reads kMetaClockOffset into `clock` (0 when absent or unreadable).
// Store::open calls it for the Store's own clock. A device whose own
// clock has been fixed since (it reads close to the last server stamp, not
// the offset away from it) stops applying the old offset: it is dropped, and
// the next sync measures afresh.
Status load_clock_offset(Store& store, SkewCorrectedClock& clock);

// Estimates server - device from one round trip (device times taken with
// clock.base() just before sending and just after the answer).
std::int64_t measure_offset(std::int64_t server_time_ms, std::int64_t sent_ms, std::int64_t received_ms);

// Feeds one answer to next_offset and persists the result. Returns the step.
Result<OffsetStep> update_clock_offset(Store& store, SkewCorrectedClock& clock, std::int64_t measured,
                                       std::int64_t tolerance_ms, bool may_adopt_forward);

}  // namespace tandem
