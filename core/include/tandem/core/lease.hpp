// The offline lease (issue 15): a tablet that has not reached its server for
// longer than its school's lease locks the data that names a child until it
// syncs again. Writes keep working (nothing a user writes is ever lost);
// reads of records that name a child fail with kLeaseExpired.
//
// The model, on the Store's own clocks:
//   anchor  the server-confirmed time of the last successful sync (or
//           enrollment): the server's time in its answer, or the device's
//           corrected time then if that is later (a clock the offset could
//           not correct yet counts from its own reading, so a fast clock at
//           sync time never locks the tablet at once).
//   now     the HLC's time: the later of the last stamp issued or seen, the
//           skew-corrected wall clock, and the latest time a lease check
//           saw (kept in the file, at most kLeaseSeenStepMs stale). It never
//           goes back, across restarts too: setting the clock back does not
//           give back time already counted (the lease is measured as if the
//           clock had stopped until it passes that reading again).
//   expired <=> lease set && now - anchor > lease.
// A clock that jumps forward while offline (set ahead by hand, or a slow
// clock corrected) counts as time passed: the tablet may lock early, the
// safe direction, and its next sync unlocks it (the anchor moves to the
// server's time and the seen time is reset to the corrected clock).
//
// Records that name a child (SYNC.md, Visibility): the child itself, its
// consents, an entry or agenda item with a `child`, a course listing
// `children`. The lock is applied in one place, the Store's record reads
// (get, list, list_under, canonical_dump), so every host obeys it.
#pragma once

#include <cstdint>

#include "tandem/core/store.hpp"

namespace tandem {

inline constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;
// The school's lease, set by its administration (tandem-server school
// set-lease) and sent in every sync and enrollment answer.
inline constexpr std::int64_t kDefaultLeaseDays = 30;
inline constexpr std::int64_t kMinLeaseDays = 1;
inline constexpr std::int64_t kMaxLeaseDays = 365;
// How stale the seen time kept in the file may be (a write at most this
// often, only while reading).
inline constexpr std::int64_t kLeaseSeenStepMs = 60LL * 60 * 1000;

// Whether `record` names a child (see above).
bool names_child(const Record& record);

}  // namespace tandem
