// The skew-corrected clock lives in core now (the Store owns it:
// tandem/core/skew_clock.hpp); these names stay for the sync engine's users.
#pragma once

#include "tandem/core/skew_clock.hpp"

namespace tandem::sync {

using tandem::kMetaClockCandidate;
using tandem::kMetaClockOffset;
using tandem::kMetaServerStamp;
using tandem::load_clock_offset;
using tandem::load_offset_state;
using tandem::measure_offset;
using tandem::next_offset;
using tandem::OffsetState;
using tandem::OffsetStep;
using tandem::save_offset_state;
using tandem::SkewCorrectedClock;
using tandem::update_clock_offset;

}  // namespace tandem::sync
