// Local time: what a person reads on a clock in the host's time zone. Tandem
// stores UTC (stamps, `at`, `started_at`) and shows and reads local time.
//
// A TimeZone gives the offset from UTC (local = utc + offset). Two zones ship:
// UTC and Europe/Copenhagen (CET +1 h; CEST +2 h from the last Sunday of
// March to the last Sunday of October, switching at 01:00 UTC: the EU rule
// since 1996, also used for earlier years). Hosts with a zone database may
// implement their own.
//
// Wall-clock times at a switch (Europe/Copenhagen):
//  - spring gap: 02:00-02:59 on the last Sunday of March never happens. Such a
//    time is read with the offset before the switch (CET): 02:30 is 01:30 UTC,
//    shown as 03:30. (java.time's rule: moved forward by the gap.)
//  - autumn overlap: 02:00-02:59 on the last Sunday of October happens twice.
//    Such a time is read as the first of the two (CEST): 02:30 is 00:30 UTC.
//    The second one is entered with an explicit offset ("...T02:30+01:00").
//
// Thread-safety: zones are immutable; the shipped ones are stateless statics.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tandem/core/error.hpp"

namespace tandem {

class TimeZone {
 public:
  virtual ~TimeZone();
  // "UTC", "Europe/Copenhagen".
  virtual std::string_view name() const = 0;
  // Offset (ms) in force at the instant `utc_ms`.
  virtual std::int64_t offset_ms_at_utc(std::int64_t utc_ms) const = 0;
  // Offset (ms) to read the wall-clock time `local_ms` (a local date and time
  // counted like Unix ms, as if it were UTC) with: utc = local - offset.
  // Gaps and overlaps as described above.
  virtual std::int64_t offset_ms_at_local(std::int64_t local_ms) const = 0;
};

const TimeZone& copenhagen_zone();
const TimeZone& utc_zone();
// The shipped zone called `name` ("UTC", "Europe/Copenhagen"), or nullptr.
const TimeZone* find_zone(std::string_view name);

// "YYYY-MM-DD HH:MM" in `zone` (seconds are dropped, not rounded).
std::string format_local(std::int64_t utc_ms, const TimeZone& zone);
// "YYYY-MM-DD", the calendar date in `zone` at the instant.
std::string local_date(std::int64_t utc_ms, const TimeZone& zone);
// Unix ms of a time typed by a person: "YYYY-MM-DD HH:MM[:SS]" or
// "YYYY-MM-DDTHH:MM[:SS]" is wall-clock time in `zone`; with "Z" or an offset
// ("+01:00") it is taken as given. Errors: kInvalidDate.
Result<std::int64_t> parse_local(std::string_view text, const TimeZone& zone);

}  // namespace tandem
