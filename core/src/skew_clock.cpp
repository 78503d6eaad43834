#include "tandem/core/skew_clock.hpp"

#include "tandem/core/store.hpp"

#include <charconv>
#include <string>

namespace tandem {
namespace {

std::int64_t magnitude(std::int64_t v) { return v < 0 ? -v : v; }

// How far behind the last server stamp a fixed clock may read (drift and the
// round trip that stamp came with).
constexpr std::int64_t kClockFixSlackMs = 60'000;

// A decimal number from metadata; nullopt when absent or unreadable.
Result<std::optional<std::int64_t>> meta_number(Store& store, std::string_view key) {
  auto text = store.meta(key);
  if (!text) return std::move(text).error();
  if (!*text || (*text)->empty()) return std::optional<std::int64_t>();
  const std::string& s = **text;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(v);
}

}  // namespace

OffsetStep next_offset(OffsetState& state, std::int64_t measured, std::int64_t tolerance_ms,
                       bool may_adopt_forward) {
  const std::int64_t wanted = magnitude(measured) <= tolerance_ms ? 0 : measured;
  if (magnitude(wanted - state.current) <= tolerance_ms) {
    state.candidate.reset();
    return OffsetStep::kUnchanged;
  }
  if (state.candidate && magnitude(wanted - *state.candidate) <= tolerance_ms) {
    if (wanted > state.current && !may_adopt_forward) return OffsetStep::kPending;
    state.current = wanted;
    state.candidate.reset();
    return OffsetStep::kAdopted;
  }
  state.candidate = wanted;
  return OffsetStep::kPending;
}

Result<OffsetState> load_offset_state(Store& store) {
  OffsetState state;
  auto current = meta_number(store, kMetaClockOffset);
  if (!current) return std::move(current).error();
  state.current = current->value_or(0);
  auto candidate = meta_number(store, kMetaClockCandidate);
  if (!candidate) return std::move(candidate).error();
  state.candidate = *candidate;
  return state;
}

Status save_offset_state(Store& store, SkewCorrectedClock& clock, const OffsetState& state) {
  TANDEM_TRY(store.transaction([&]() -> Status {
    TANDEM_TRY(store.set_meta(kMetaClockOffset, std::to_string(state.current)));
    return store.set_meta(kMetaClockCandidate,
                          state.candidate ? std::to_string(*state.candidate) : std::string());
  }));
  clock.set_offset_ms(state.current);
  return {};
}

Status load_clock_offset(Store& store, SkewCorrectedClock& clock) {
  auto offset = meta_number(store, kMetaClockOffset);
  if (!offset) return std::move(offset).error();
  const std::int64_t learned = offset->value_or(0);
  clock.set_offset_ms(learned);
  if (learned == 0) return {};
  // A device whose clock was fixed since the offset was learned stops
  // applying it: its own clock now reads close to the last server stamp it
  // holds (not behind it, and nearer than half the offset), where the
  // corrected one would be the offset away. The server stamp, not the HLC:
  // the device's own stamps may still carry the wrong clock.
  auto stamp = store.meta(kMetaServerStamp);
  if (!stamp) return std::move(stamp).error();
  if (!*stamp || (*stamp)->empty()) return {};
  auto known = Hlc::parse(**stamp);
  if (!known) return {};
  const std::int64_t raw = clock.base().now_ms();
  const std::int64_t since = raw - known->ms;
  if (since >= -kClockFixSlackMs && since < magnitude(learned) / 2) {
    OffsetState state;  // no correction, no candidate: the next sync measures afresh
    TANDEM_TRY(save_offset_state(store, clock, state));
  }
  return {};
}

std::int64_t measure_offset(std::int64_t server_time_ms, std::int64_t sent_ms,
                            std::int64_t received_ms) {
  // The server stamped its answer somewhere inside the round trip; the middle
  // is the best guess, wrong by at most half the round trip.
  return server_time_ms - (sent_ms + (received_ms - sent_ms) / 2);
}

Result<OffsetStep> update_clock_offset(Store& store, SkewCorrectedClock& clock,
                                       std::int64_t measured, std::int64_t tolerance_ms,
                                       bool may_adopt_forward) {
  auto state = load_offset_state(store);
  if (!state) return std::move(state).error();
  const OffsetState before = *state;
  const OffsetStep step = next_offset(*state, measured, tolerance_ms, may_adopt_forward);
  if (state->current != before.current || state->candidate != before.candidate) {
    TANDEM_TRY(save_offset_state(store, clock, *state));
  } else {
    clock.set_offset_ms(state->current);
  }
  return step;
}

}  // namespace tandem
