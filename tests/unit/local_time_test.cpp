// Local time in and out (local_time.hpp): Europe/Copenhagen's offsets, the
// wall-clock times at the DST switches, and the text forms people type.
#include "tandem/core/local_time.hpp"

#include <catch2/catch.hpp>

#include "tandem/core/schema.hpp"

using namespace tandem;

namespace {
std::int64_t utc(const char* iso) { return parse_datetime_ms(iso).value(); }
std::int64_t cph(const char* text) { return parse_local(text, copenhagen_zone()).value(); }
}  // namespace

TEST_CASE("09:00 in Copenhagen is 08:00 UTC in winter and 07:00 UTC in summer",
          "[core][local_time]") {
  CHECK(cph("2026-11-30 09:00") == utc("2026-11-30T08:00:00Z"));
  CHECK(cph("2026-06-15 09:00") == utc("2026-06-15T07:00:00Z"));
  CHECK(cph("2026-06-15T09:00:30") == utc("2026-06-15T07:00:30Z"));
  CHECK(format_local(utc("2026-11-30T08:00:00Z"), copenhagen_zone()) == "2026-11-30 09:00");
  CHECK(format_local(utc("2026-06-15T07:00:00Z"), copenhagen_zone()) == "2026-06-15 09:00");
  CHECK(format_local(utc("2026-06-15T07:00:00Z"), utc_zone()) == "2026-06-15 07:00");
  CHECK(parse_local("2026-06-15 09:00", utc_zone()).value() == utc("2026-06-15T09:00:00Z"));
}

TEST_CASE("an explicit offset or Z is taken as given, whatever the zone", "[core][local_time]") {
  CHECK(cph("2026-06-15T09:00:00Z") == utc("2026-06-15T09:00:00Z"));
  CHECK(cph("2026-06-15T09:00+01:00") == utc("2026-06-15T08:00:00Z"));
  CHECK(cph("2026-06-15T09:00-02:30") == utc("2026-06-15T11:30:00Z"));
}

TEST_CASE("the offsets switch at 01:00 UTC on the last Sundays of March and October",
          "[core][local_time]") {
  const TimeZone& z = copenhagen_zone();
  constexpr std::int64_t h = 3600000;
  CHECK(z.offset_ms_at_utc(utc("2026-03-29T00:59:59Z")) == h);
  CHECK(z.offset_ms_at_utc(utc("2026-03-29T01:00:00Z")) == 2 * h);
  CHECK(z.offset_ms_at_utc(utc("2026-10-25T00:59:59Z")) == 2 * h);
  CHECK(z.offset_ms_at_utc(utc("2026-10-25T01:00:00Z")) == h);
  // Another year, other Sundays (2027-03-28, 2027-10-31).
  CHECK(z.offset_ms_at_utc(utc("2027-03-28T01:00:00Z")) == 2 * h);
  CHECK(z.offset_ms_at_utc(utc("2027-10-30T12:00:00Z")) == 2 * h);
  CHECK(z.offset_ms_at_utc(utc("2027-10-31T01:00:00Z")) == h);
  CHECK(format_local(utc("2026-03-29T00:59:00Z"), z) == "2026-03-29 01:59");
  CHECK(format_local(utc("2026-03-29T01:00:00Z"), z) == "2026-03-29 03:00");
  CHECK(format_local(utc("2026-10-25T00:30:00Z"), z) == "2026-10-25 02:30");
  CHECK(format_local(utc("2026-10-25T01:30:00Z"), z) == "2026-10-25 02:30");
}

TEST_CASE("a time in the spring gap is read with winter time (02:30 is shown as 03:30)",
          "[core][local_time]") {
  const std::int64_t t = cph("2026-03-29 02:30");
  CHECK(t == utc("2026-03-29T01:30:00Z"));
  CHECK(format_local(t, copenhagen_zone()) == "2026-03-29 03:30");
  // Either side of the gap reads as expected.
  CHECK(cph("2026-03-29 01:59") == utc("2026-03-29T00:59:00Z"));
  CHECK(cph("2026-03-29 03:00") == utc("2026-03-29T01:00:00Z"));
}

TEST_CASE("a time in the autumn's repeated hour is read as the first one (summer time)",
          "[core][local_time]") {
  const std::int64_t t = cph("2026-10-25 02:30");
  CHECK(t == utc("2026-10-25T00:30:00Z"));
  CHECK(format_local(t, copenhagen_zone()) == "2026-10-25 02:30");
  // The second 02:30 is reached with an explicit offset.
  CHECK(cph("2026-10-25T02:30+01:00") == utc("2026-10-25T01:30:00Z"));
  CHECK(cph("2026-10-25 03:00") == utc("2026-10-25T02:00:00Z"));
  CHECK(cph("2026-10-25 01:59") == utc("2026-10-24T23:59:00Z"));
}

TEST_CASE("local text that is not a date and time is refused with invalid_date",
          "[core][local_time]") {
  for (const char* bad : {"", "09:00", "2026-02-30 09:00", "2026-11-30 24:00", "2026-11-30 9:00",
                          "2026-11-30 09:00 CET", "i morgen"}) {
    INFO(bad);
    auto r = parse_local(bad, copenhagen_zone());
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kInvalidDate);
  }
  CHECK(find_zone("Europe/Copenhagen") == &copenhagen_zone());
  CHECK(find_zone("UTC") == &utc_zone());
  CHECK(find_zone("Europe/Berlin") == nullptr);
  CHECK(local_date(utc("2026-06-30T22:00:00Z"), copenhagen_zone()) == "2026-07-01");
}
