// Interval summaries of one observation: worked examples computed by hand,
// the half-open boundary rules, partial intervals and entries outside the
// session. Uses the shipped COPUS scheme (2-minute intervals).
#include <catch2/catch.hpp>

#include "tandem/core/summary.hpp"
#include "copus_fixture.hpp"
#include "tandem/core/templates.hpp"

using namespace tandem;
using namespace tandem::summary;
using namespace tandem::test;  // copus_fixture.hpp

namespace {

constexpr std::int64_t kSec = 1'000;

Observation lesson(std::optional<std::int64_t> minutes, std::vector<Entry> entries) {
  Observation o;
  o.started_at = kT0;
  if (minutes) o.ended_at = kT0 + *minutes * kMin;
  o.interval_seconds = 120;
  o.entries = std::move(entries);
  return o;
}

IntervalSummary summarize(const Observation& o) {
  auto r = summarize_intervals(o, copus());
  REQUIRE(r.ok());
  return std::move(r).value();
}

std::int64_t intervals_of(const IntervalSummary& s, const char* code) {
  const CodeStat* c = s.find_code(code);
  REQUIRE(c != nullptr);
  return c->intervals;
}

}  // namespace

TEST_CASE("COPUS worked example: 9-minute lesson, 5 intervals, both normalisations",
          "[core][summary]") {
  // 9 min / 2 min = 4.5 -> 5 intervals; the last (8:00-9:00) is partial.
  // Instructor: Lec {0,1,2}, PQ {2,4}, FUp {2,3}.  Students: L {0,1,2,3},
  // WG {3,4}, AnQ {2}. A duplicate tick (Lec in 0) counts once.
  const auto s = summarize(
      lesson(9, {Entry::tick(0, "I-Lec"), Entry::tick(0, "I-Lec"), Entry::tick(1, "I-Lec"),
                 Entry::tick(2, "I-Lec"), Entry::tick(2, "I-PQ"), Entry::tick(4, "I-PQ"),
                 Entry::tick(2, "I-FUp"), Entry::tick(3, "I-FUp"), Entry::tick(0, "S-L"),
                 Entry::tick(1, "S-L"), Entry::tick(2, "S-L"), Entry::tick(3, "S-L"),
                 Entry::tick(3, "S-WG"), Entry::tick(4, "S-WG"), Entry::tick(2, "S-AnQ")}));
  CHECK(s.interval_count == 5);
  CHECK(s.ignored_entries == 0);
  CHECK(s.codes.size() == 25);  // every COPUS code, zeros included

  // Per code: intervals / 5 * 100.
  CHECK(intervals_of(s, "I-Lec") == 3);
  CHECK(s.find_code("I-Lec")->percent_of_intervals == pct(60.0));  // 3/5
  CHECK(s.find_code("I-PQ")->percent_of_intervals == pct(40.0));   // 2/5
  CHECK(s.find_code("S-L")->percent_of_intervals == pct(80.0));    // 4/5
  CHECK(s.find_code("S-AnQ")->percent_of_intervals == pct(20.0));  // 1/5
  CHECK(s.find_code("I-Adm")->percent_of_intervals == pct(0.0));

  // Instructor ticks: Lec 3 + PQ 2 + FUp 2 = 7.
  const auto* presenting = s.find_category("instructor", "Presenting");
  const auto* guiding = s.find_category("instructor", "Guiding");
  REQUIRE(presenting != nullptr);
  REQUIRE(guiding != nullptr);
  CHECK(presenting->percent_of_intervals == pct(60.0));         // (a) {0,1,2} = 3/5
  CHECK(presenting->percent_of_group_ticks == pct(300.0 / 7));  // (b) 3/7 = 42.857..%
  CHECK(guiding->intervals == 3);                               // {2,4} u {2,3} = {2,3,4}
  CHECK(guiding->ticks == 4);
  CHECK(guiding->percent_of_intervals == pct(60.0));         // (a) 3/5
  CHECK(guiding->percent_of_group_ticks == pct(400.0 / 7));  // (b) 4/7 = 57.142..%
  CHECK(s.find_category("instructor", "Administration")->percent_of_group_ticks == pct(0.0));

  // Students ticks: L 4 + WG 2 + AnQ 1 = 7.
  CHECK(s.find_category("students", "Receiving")->percent_of_intervals == pct(80.0));
  CHECK(s.find_category("students", "Receiving")->percent_of_group_ticks == pct(400.0 / 7));
  CHECK(s.find_category("students", "Talking to class")->percent_of_group_ticks == pct(100.0 / 7));
  CHECK(s.find_category("students", "Working")->percent_of_intervals == pct(40.0));
  CHECK(s.find_category("students", "Working")->percent_of_group_ticks == pct(200.0 / 7));

  // (b) sums to 100 per group; (a) may exceed 100 (categories co-occur).
  for (const char* group : {"instructor", "students"}) {
    double b = 0.0;
    double a = 0.0;
    for (const auto& c : s.categories) {
      if (c.group == group) {
        b += c.percent_of_group_ticks;
        a += c.percent_of_intervals;
      }
    }
    CHECK(b == pct(100.0));
    CHECK(a > 100.0);  // instructor 60+60 = 120; students 80+20+40 = 140
  }
}

TEST_CASE("interval count: a final partial interval counts", "[core][summary]") {
  auto count = [](std::int64_t ms) {
    Observation o = lesson(std::nullopt, {});
    o.ended_at = kT0 + ms;
    return summarize(o).interval_count;
  };
  CHECK(count(9 * kMin) == 5);       // 4.5 -> 5
  CHECK(count(10 * kMin) == 5);      // exactly 5
  CHECK(count(10 * kMin + 1) == 6);  // one ms into a sixth interval
  CHECK(count(1) == 1);
  CHECK(count(0) == 0);

  // A code ticked only in the partial interval 4 of a 9-min lesson: 1/5.
  const auto s = summarize(lesson(9, {Entry::event("I-Adm", kT0 + 8 * kMin + 30 * kSec)}));
  CHECK(s.find_code("I-Adm")->percent_of_intervals == pct(20.0));
}

TEST_CASE("intervals are half-open: boundaries do not spill", "[core][summary]") {
  // Without ended_at the count is the last interval reached + 1, which shows
  // exactly where an entry landed.
  SECTION("duration event ending exactly at 4:00 covers intervals 0-1 only") {
    const auto s = summarize(lesson(std::nullopt, {Entry::span("I-Lec", kT0, kT0 + 4 * kMin)}));
    CHECK(s.interval_count == 2);
    CHECK(intervals_of(s, "I-Lec") == 2);
  }
  SECTION("duration event starting exactly at 4:00 is interval 2") {
    const auto s = summarize(
        lesson(std::nullopt, {Entry::span("I-Lec", kT0 + 4 * kMin, kT0 + 4 * kMin + 30 * kSec)}));
    CHECK(s.interval_count == 3);
    CHECK(intervals_of(s, "I-Lec") == 1);
  }
  SECTION("point events just before and at a boundary") {
    CHECK(summarize(lesson(std::nullopt, {Entry::event("I-PQ", kT0 + 4 * kMin - 1)}))
              .interval_count == 2);
    CHECK(summarize(lesson(std::nullopt, {Entry::event("I-PQ", kT0 + 4 * kMin)})).interval_count ==
          3);
  }
  SECTION("zero-length event counts in the interval containing its start") {
    const auto s =
        summarize(lesson(std::nullopt, {Entry::span("I-PQ", kT0 + 4 * kMin, kT0 + 4 * kMin)}));
    CHECK(s.interval_count == 3);
    CHECK(intervals_of(s, "I-PQ") == 1);
  }
  SECTION("an event across boundaries occupies every interval it overlaps") {
    // [1:00, 5:00) touches 0, 1 and 2; in a 10-minute lesson: 3/5 = 60 %.
    const auto s = summarize(lesson(10, {Entry::span("S-WG", kT0 + kMin, kT0 + 5 * kMin)}));
    CHECK(intervals_of(s, "S-WG") == 3);
    CHECK(s.find_code("S-WG")->percent_of_intervals == pct(60.0));
  }
}

TEST_CASE("entries outside the session are ignored, spans clipped", "[core][summary]") {
  // 10-minute lesson: intervals 0..4, session [kT0, kT0+10min).
  const auto s = summarize(
      lesson(10, {Entry::event("I-Lec", kT0 - 1),                          // before start: ignored
                  Entry::event("I-Lec", kT0 + 10 * kMin),                  // at ended_at: ignored
                  Entry::tick(5, "I-Lec"),                                 // index past the end
                  Entry::tick(-1, "I-Lec"),                                // negative index
                  Entry::span("I-Lec", kT0 + 3 * kMin, kT0 + 2 * kMin),    // end before at
                  Entry::span("I-Lec", kT0 + 11 * kMin, kT0 + 12 * kMin),  // wholly after the end
                  Entry::tick(0, ""),                                      // no code
                  Entry::span("S-L", kT0 - kMin, kT0 + kMin),              // clipped to interval 0
                  Entry::span("S-W", kT0 + 9 * kMin, kT0 + 15 * kMin)}));  // clipped to interval 4
  CHECK(s.ignored_entries == 7);
  CHECK(s.clipped_entries == 2);
  CHECK(s.interval_count == 5);
  CHECK(intervals_of(s, "I-Lec") == 0);
  CHECK(intervals_of(s, "S-L") == 1);
  CHECK(intervals_of(s, "S-W") == 1);
  CHECK(s.find_code("S-W")->percent_of_intervals == pct(20.0));
}

TEST_CASE("duration-coded and interval-coded input give the same summary", "[core][summary]") {
  // A GORP-style export of a 9-minute lesson and the same lesson ticked by hand.
  const auto spans = summarize(
      lesson(9, {Entry::span("I-Lec", kT0, kT0 + 5 * kMin),               // 0,1,2
                 Entry::event("I-PQ", kT0 + 6 * kMin + 30 * kSec),        // 3
                 Entry::span("S-L", kT0, kT0 + 6 * kMin),                 // 0,1,2 (6:00 excl.)
                 Entry::span("S-WG", kT0 + 6 * kMin, kT0 + 9 * kMin),     // 3,4
                 Entry::span("I-MG", kT0 + 7 * kMin, kT0 + 7 * kMin)}));  // 3 (zero length)
  const auto ticks =
      summarize(lesson(9, {Entry::tick(0, "I-Lec"), Entry::tick(1, "I-Lec"),
                           Entry::tick(2, "I-Lec"), Entry::tick(3, "I-PQ"), Entry::tick(0, "S-L"),
                           Entry::tick(1, "S-L"), Entry::tick(2, "S-L"), Entry::tick(3, "S-WG"),
                           Entry::tick(4, "S-WG"), Entry::tick(3, "I-MG")}));
  CHECK(spans.to_json() == ticks.to_json());
  CHECK(spans.find_category("instructor", "Guiding")->percent_of_intervals == pct(20.0));  // {3}
}

TEST_CASE("empty observations divide by nothing", "[core][summary]") {
  for (const auto& o : {lesson(0, {}), lesson(std::nullopt, {})}) {
    const auto s = summarize(o);
    CHECK(s.interval_count == 0);
    for (const auto& c : s.codes) CHECK(c.percent_of_intervals == 0.0);
    for (const auto& c : s.categories) {
      CHECK(c.percent_of_intervals == 0.0);
      CHECK(c.percent_of_group_ticks == 0.0);
    }
  }
  // Intervals but no ticks: (b) is 0, not NaN.
  const auto s = summarize(lesson(4, {}));
  CHECK(s.interval_count == 2);
  CHECK(s.find_category("students", "Receiving")->percent_of_group_ticks == 0.0);
}

TEST_CASE("codes the scheme does not know are listed but uncategorised", "[core][summary]") {
  const auto s = summarize(lesson(4, {Entry::tick(0, "X-Phone"), Entry::tick(0, "S-L")}));
  REQUIRE(s.codes.size() == 26);
  CHECK(s.codes.back().code == "X-Phone");
  CHECK(s.codes.back().group.empty());
  CHECK(s.codes.back().percent_of_intervals == pct(50.0));
  // Not a student tick: Receiving is still 100 % of the student ticks.
  CHECK(s.find_category("students", "Receiving")->percent_of_group_ticks == pct(100.0));
}

TEST_CASE("invalid sessions are errors", "[core][summary]") {
  Observation o = lesson(10, {});
  o.interval_seconds = 0;
  CHECK(summarize_intervals(o, copus()).error().code == ErrorCode::kInvalidValue);
  o = lesson(10, {});
  o.ended_at = kT0 - 1;
  CHECK(summarize_intervals(o, copus()).error().code == ErrorCode::kInvalidValue);
  o = lesson(2 * 24 * 60, {});  // two days of 1-second intervals
  o.interval_seconds = 1;
  CHECK(summarize_intervals(o, copus()).error().code == ErrorCode::kTooLong);
  o = lesson(std::nullopt, {Entry::tick(kMaxIntervals, "S-L")});  // open session, bogus index
  CHECK(summarize_intervals(o, copus()).error().code == ErrorCode::kTooLong);
}
