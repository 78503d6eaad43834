// FailureThrottle (throttle.hpp) on its own, with a hand-moved clock: the
// burst, the refill, successes costing nothing, and the memory bound.
#include <catch2/catch.hpp>
#include <string>

#include "tandem/server/limits.hpp"
#include "tandem/server/throttle.hpp"

using tandem::server::FailureThrottle;
using tandem::server::ThrottlePolicy;

TEST_CASE("throttle: a burst of failures, then one per refill", "[server][throttle]") {
  FailureThrottle t(ThrottlePolicy{5, 2, 100});  // 5 at once, then 2/s
  const std::string school_nat = std::string("\x0a\x00\x00\x01", 4);
  std::int64_t now = 1'000'000;
  for (int i = 0; i < 5; ++i) {
    REQUIRE(t.wait_ms(school_nat, now) == 0);
    t.failed(school_nat, now);
  }
  // Empty: half a second until the next token (2/s).
  CHECK(t.wait_ms(school_nat, now) == 500);
  CHECK(t.wait_ms(school_nat, now + 499) > 0);
  CHECK(t.wait_ms(school_nat, now + 500) == 0);
  // Another address is not held up.
  CHECK(t.wait_ms(std::string("\x0a\x00\x00\x02", 4), now) == 0);
  // Failing while refused does not dig deeper than empty.
  t.failed(school_nat, now + 500);
  t.failed(school_nat, now + 500);
  CHECK(t.wait_ms(school_nat, now + 1000) == 0);
  // After a long quiet the whole burst is back, and the bucket forgotten.
  now += 60'000;
  CHECK(t.wait_ms(school_nat, now) == 0);
  CHECK(t.size() == 0);
}

TEST_CASE("throttle: memory stays bounded whatever the number of clients", "[server][throttle]") {
  FailureThrottle t(ThrottlePolicy{3, 1, 64});
  std::int64_t now = 5'000;
  // One persistent guesser, emptied.
  const std::string guesser = "guesser!";
  for (int i = 0; i < 3; ++i) t.failed(guesser, now);
  REQUIRE(t.wait_ms(guesser, now) > 0);
  // 10,000 other addresses fail once each, a millisecond apart.
  for (int i = 0; i < 10000; ++i) {
    t.failed("client" + std::to_string(i), ++now);
    REQUIRE(t.size() <= 64);
  }
  // The stalest went first; the most recent ones are still owed.
  CHECK(t.wait_ms("client9999", now) == 0);  // 2 of 3 left: may try
  t.failed("client9999", now);
  t.failed("client9999", now);
  CHECK(t.wait_ms("client9999", now) > 0);
}

TEST_CASE("throttle: the server's policies let a school enroll and guessers barely try",
          "[server][throttle]") {
  using namespace tandem::server;  // NOLINT(google-build-using-namespace)
  FailureThrottle enroll(
      ThrottlePolicy{kEnrollFailureBurst, kEnrollFailuresPerSecond, kMaxThrottledAddresses});
  const std::string nat = "nat";
  std::int64_t now = 0;
  // A school's staff: 30 tablets, a typo on every third, over ten minutes.
  int typos = 0;
  for (int tablet = 0; tablet < 30; ++tablet) {
    now += 20'000;
    if (tablet % 3 == 0) {
      REQUIRE(enroll.wait_ms(nat, now) == 0);
      enroll.failed(nat, now);
      ++typos;
    }
    CHECK(enroll.wait_ms(nat, now) == 0);  // the valid code is looked at
  }
  CHECK(typos == 10);
  // A guesser at full speed for a minute gets the burst and one a second.
  int looked_at = 0;
  for (int ms = 0; ms < 60'000; ms += 1) {
    if (enroll.wait_ms("guesser", now + ms) == 0) {
      ++looked_at;
      enroll.failed("guesser", now + ms);
    }
  }
  CHECK(looked_at <= kEnrollFailureBurst + 61);
}
