// Danish dates from UTC instants (consents are in force by Danish date).
#include <catch2/catch.hpp>

#include "tandem/core/schema.hpp"

TEST_CASE("copenhagen_date: CET, CEST and the switches at 01:00 UTC", "[schema][date]") {
  auto at = [](const char* iso) { return tandem::parse_datetime_ms(iso).value(); };
  CHECK(tandem::copenhagen_date(at("2026-11-30T22:59:59Z")) == "2026-11-30");
  CHECK(tandem::copenhagen_date(at("2026-11-30T23:00:00Z")) == "2026-12-01");  // CET
  CHECK(tandem::copenhagen_date(at("2026-06-30T21:59:59Z")) == "2026-06-30");
  CHECK(tandem::copenhagen_date(at("2026-06-30T22:00:00Z")) == "2026-07-01");  // CEST
  // Summer time starts on the last Sunday of March (2026-03-29) at 01:00 UTC
  // and ends on the last Sunday of October (2026-10-25) at 01:00 UTC.
  CHECK(tandem::copenhagen_date(at("2026-03-28T22:30:00Z")) == "2026-03-28");  // CET: 23:30
  CHECK(tandem::copenhagen_date(at("2026-03-29T22:30:00Z")) == "2026-03-30");  // CEST: 00:30
  CHECK(tandem::copenhagen_date(at("2026-10-24T22:30:00Z")) == "2026-10-25");  // CEST: 00:30
  CHECK(tandem::copenhagen_date(at("2026-10-25T22:30:00Z")) == "2026-10-25");  // CET: 23:30
  CHECK(tandem::copenhagen_date(at("2024-02-29T23:00:00Z")) == "2024-03-01");
  CHECK(tandem::copenhagen_date(0) == "1970-01-01");
}
