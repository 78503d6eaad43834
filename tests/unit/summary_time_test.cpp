// Share of time (summarize_time) and the COPUS GW measure and timelines,
// on worked examples computed by hand (summary.hpp: "Time model", "Derived
// measures", the timelines). Minutes from a lesson start; 10 observed minutes.
#include <catch2/catch.hpp>

#include "tandem/core/gorp_import.hpp"
#include "tandem/core/summary.hpp"
#include "copus_fixture.hpp"
#include "tandem/core/templates.hpp"

using namespace tandem;
using namespace tandem::summary;
using namespace tandem::test;  // copus_fixture.hpp

namespace {

Entry span(const char* code, std::int64_t from_min, std::int64_t to_min) {
  return Entry::span(code, kT0 + from_min * kMin, kT0 + to_min * kMin);
}

// The worked example:
//   I-Lec [0,4) and [3,6) overlap: counted once, [0,6) = 6 min; a point at 8.
//   S-L [2,5); S-CG [1,3); S-WG [2,4); S-OG [7,8); I-PQ [9,12) clipped to 10.
//   S-L [-2,-1) is outside; S-SQ [5,4) ends before it starts: both ignored.
Observation worked_example() {
  Observation o;
  o.started_at = kT0;
  o.ended_at = kT0 + 10 * kMin;
  o.entries = {span("I-Lec", 0, 4), span("I-Lec", 3, 6), Entry::event("I-Lec", kT0 + 8 * kMin),
               span("S-L", 2, 5),   span("S-CG", 1, 3),  span("S-WG", 2, 4),
               span("S-OG", 7, 8),  span("I-PQ", 9, 12), span("S-L", -2, -1),
               span("S-SQ", 5, 4)};
  return o;
}

}  // namespace

TEST_CASE("share of time: a code's overlapping entries count once, codes overlap each other",
          "[core][summary][time]") {
  auto r = summarize_time(worked_example(), copus());
  REQUIRE(r.ok());
  const TimeSummary& t = *r;
  CHECK(t.observed_ms == 10 * kMin);
  CHECK(t.ignored_entries == 2);
  CHECK(t.clipped_entries == 1);
  CHECK(t.find_code("I-Lec")->ms == 6 * kMin);  // not 7: the overlap [3,4) once
  CHECK(t.find_code("I-Lec")->percent_of_time == pct(60.0));
  CHECK(t.find_code("I-Lec")->entries == 3);  // the point event counts, takes no time
  CHECK(t.find_code("S-L")->percent_of_time == pct(30.0));
  CHECK(t.find_code("S-L")->entries == 1);
  CHECK(t.find_code("S-CG")->percent_of_time == pct(20.0));
  CHECK(t.find_code("S-WG")->percent_of_time == pct(20.0));
  CHECK(t.find_code("S-OG")->percent_of_time == pct(10.0));
  CHECK(t.find_code("I-PQ")->percent_of_time == pct(10.0));  // clipped at the end
  CHECK(t.find_code("S-SQ")->ms == 0);
  double sum = 0;
  for (const TimeStat& c : t.codes) sum += c.percent_of_time;
  CHECK(sum == pct(150.0));  // codes co-occur

  // Groups: the union of their codes. Instructor [0,6)+[9,10); students [1,5)+[7,8).
  CHECK(t.find_group("instructor")->percent_of_time == pct(70.0));
  CHECK(t.find_group("students")->percent_of_time == pct(50.0));
  // COPUS categories: the union of their codes.
  CHECK(t.find_category("instructor", "Presenting")->percent_of_time == pct(60.0));
  CHECK(t.find_category("instructor", "Guiding")->percent_of_time == pct(10.0));
  CHECK(t.find_category("students", "Receiving")->percent_of_time == pct(30.0));
  CHECK(t.find_category("students", "Working")->percent_of_time == pct(40.0));
  // GW = S-CG u S-WG u S-OG = [1,4) + [7,8) = 4 minutes (the sum would be 5).
  REQUIRE(t.find_derived("GW") != nullptr);
  CHECK(t.find_derived("GW")->ms == 4 * kMin);
  CHECK(t.find_derived("GW")->percent_of_time == pct(40.0));
}

TEST_CASE("time timeline: segments cut at every start and end, gaps included",
          "[core][summary][time]") {
  const TimeSummary t = summarize_time(worked_example(), copus()).value();
  using V = std::vector<std::string>;
  const std::vector<std::tuple<std::int64_t, std::int64_t, V>> expected = {
      {0, 1, {"I-Lec"}},
      {1, 2, {"S-CG", "I-Lec"}},
      {2, 3, {"S-L", "S-CG", "S-WG", "I-Lec"}},
      {3, 4, {"S-L", "S-WG", "I-Lec"}},
      {4, 5, {"S-L", "I-Lec"}},
      {5, 6, {"I-Lec"}},
      {6, 7, {}},
      {7, 8, {"S-OG"}},
      {8, 9, {}},
      {9, 10, {"I-PQ"}}};
  REQUIRE(t.timeline.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("segment " << i);
    CHECK(t.timeline[i].from_ms == std::get<0>(expected[i]) * kMin);
    CHECK(t.timeline[i].to_ms == std::get<1>(expected[i]) * kMin);
    CHECK(t.timeline[i].codes == std::get<2>(expected[i]));
  }
  // Adjacent segments with the same codes are joined: [0,2) and [2,5) of one code.
  Observation o;
  o.started_at = kT0;
  o.entries = {span("S-L", 0, 2), span("S-L", 2, 5)};
  const TimeSummary joined = summarize_time(o, copus()).value();
  CHECK(joined.observed_ms == 5 * kMin);  // no ended_at: the latest end
  REQUIRE(joined.timeline.size() == 1);
  CHECK(joined.timeline[0].to_ms == 5 * kMin);
  CHECK(joined.to_json()["timeline"][0]["codes"] == Json({"S-L"}));
}

TEST_CASE("share of time per GORP Category and Group (the parts of the codes)",
          "[core][summary][time][gorp]") {
  // Events as a GORP import names them; the template built from them makes
  // the Category the scheme group and the Group its category.
  auto rows = gorp::parse_file(
      "Event,Time Start,Time End\n"
      "Instructor-Presenting-Lecturing,9:00:00 AM,9:06:00 AM\n"
      "Instructor-Presenting-Writing on board,9:04:00 AM,9:08:00 AM\n"
      "Instructor-Guiding-Posing question,9:08:00 AM,9:09:00 AM\n"
      "Student-Receiving-Listening,9:00:00 AM,9:05:00 AM\n"
      "Student-Working-Group work,9:05:00 AM,9:10:00 AM\n");
  REQUIRE(rows.ok());
  const CodingScheme scheme = parse_coding_scheme(gorp::template_definition(*rows, "x").value()).value();
  Observation o;
  o.started_at = kT0;
  o.ended_at = kT0 + 10 * kMin;
  o.entries = {span("Instructor-Presenting-Lecturing", 0, 6), span("Instructor-Presenting-Writing on board", 4, 8),
               span("Instructor-Guiding-Posing question", 8, 9), span("Student-Receiving-Listening", 0, 5),
               span("Student-Working-Group work", 5, 10)};
  const TimeSummary t = summarize_time(o, scheme).value();
  CHECK(t.find_code("Instructor-Presenting-Lecturing")->percent_of_time == pct(60.0));
  CHECK(t.find_code("Instructor-Presenting-Writing on board")->percent_of_time == pct(40.0));
  // Category Instructor: [0,9) = 90 %; Student: [0,10) = 100 %.
  CHECK(t.find_group("Instructor")->percent_of_time == pct(90.0));
  CHECK(t.find_group("Student")->percent_of_time == pct(100.0));
  // Group Presenting of Instructor: [0,6) u [4,8) = [0,8) = 80 % (not 100).
  CHECK(t.find_category("Instructor", "Presenting")->percent_of_time == pct(80.0));
  CHECK(t.find_category("Instructor", "Guiding")->percent_of_time == pct(10.0));
  CHECK(t.find_category("Student", "Working")->percent_of_time == pct(50.0));
  CHECK(t.derived.empty());  // no COPUS group-work codes: no GW
}

TEST_CASE("COPUS GW over intervals: intervals with any of S-CG, S-WG, S-OG, and the timeline",
          "[core][summary][copus]") {
  // 10 minutes = 5 intervals of 2 minutes. Interval 1 has two GW codes: once.
  Observation o;
  o.started_at = kT0;
  o.ended_at = kT0 + 10 * kMin;
  o.interval_seconds = 120;
  o.entries = {Entry::tick(0, "S-CG"), Entry::tick(1, "S-WG"), Entry::tick(1, "S-OG"),
               Entry::tick(2, "S-L"),  Entry::tick(3, "S-CG"), Entry::tick(3, "I-Lec")};
  const IntervalSummary s = summarize_intervals(o, copus()).value();
  REQUIRE(s.find_derived("GW") != nullptr);
  CHECK(s.find_derived("GW")->intervals == 3);
  CHECK(s.find_derived("GW")->percent_of_intervals == pct(60.0));
  using V = std::vector<std::string>;
  CHECK(s.timeline == std::vector<V>{{"S-CG"}, {"S-WG", "S-OG"}, {"S-L"}, {"S-CG", "I-Lec"}, {}});
  const Json j = s.to_json();
  CHECK(j["derived"][0]["name"] == "GW");
  CHECK(j["derived"][0]["percent_of_intervals"] == 60.0);
  CHECK(j["timeline"][1] == Json({{"interval", 1}, {"codes", {"S-WG", "S-OG"}}}));
  CHECK(j["timeline_truncated"] == false);
  // A scheme without the COPUS group-work codes has no GW.
  const CodingScheme mine = parse_coding_scheme(Json::parse(R"({"codes":[{"code":"A"}]})")).value();
  CHECK(summarize_intervals(o, mine).value().derived.empty());
}

TEST_CASE("timelines stay bounded", "[core][summary][copus]") {
  Observation o;
  o.started_at = kT0;
  o.interval_seconds = 1;
  o.ended_at = kT0 + (kMaxTimelineIntervals + 1) * 1000;
  o.entries = {Entry::tick(0, "S-L")};
  const IntervalSummary s = summarize_intervals(o, copus()).value();
  CHECK(s.timeline_truncated);
  CHECK(s.timeline.empty());
  CHECK(s.find_code("S-L")->intervals == 1);  // the rest of the summary is whole
}
