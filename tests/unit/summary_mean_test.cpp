// Summaries across observations (mean of per-observation percentages, not
// pooled counts), tallies and ratings, and the JSON form.
#include <catch2/catch.hpp>
#include <cmath>
#include <tuple>

#include "tandem/core/summary.hpp"
#include "copus_fixture.hpp"
#include "tandem/core/templates.hpp"

using namespace tandem;
using namespace tandem::summary;
using namespace tandem::test;  // copus_fixture.hpp

namespace {

// A 2-minute-interval lesson with `code` ticked in intervals [from, to).
IntervalSummary ticked(std::int64_t minutes, std::vector<std::tuple<const char*, int, int>> runs) {
  Observation o;
  o.started_at = kT0;
  o.ended_at = kT0 + minutes * kMin;
  o.interval_seconds = 120;
  for (const auto& [code, from, to] : runs) {
    for (int i = from; i < to; ++i) o.entries.push_back(Entry::tick(i, code));
  }
  auto r = summarize_intervals(o, copus());
  REQUIRE(r.ok());
  return std::move(r).value();
}

}  // namespace

TEST_CASE("across observations: mean of percentages, not pooled counts", "[core][summary]") {
  // A: 10 min = 5 intervals, Lec in all 5 -> 100 %.
  // B: 40 min = 20 intervals, Lec in 0..4 (25 %), MG in 5..19 (75 %), L in all (100 %).
  // C: 0 minutes -> no intervals: left out of every mean.
  const std::vector<IntervalSummary> s = {
      ticked(10, {{"I-Lec", 0, 5}}), ticked(40, {{"I-Lec", 0, 5}, {"I-MG", 5, 20}, {"S-L", 0, 20}}),
      ticked(0, {})};
  const MeanSummary m = mean_summary(s);
  CHECK(m.observations == 3);
  CHECK(m.observations_with_intervals == 2);

  // Lec: mean (100 + 25) / 2 = 62.5 %; pooled would be 10/25 = 40 %.
  const double pooled = 100.0 * (5 + 5) / (5 + 20);
  CHECK(m.find_code("I-Lec")->mean_percent_of_intervals == pct(62.5));
  CHECK(pooled == pct(40.0));
  CHECK(m.find_code("I-MG")->mean_percent_of_intervals == pct(37.5));  // (0 + 75) / 2
  CHECK(m.find_code("I-Adm")->mean_percent_of_intervals == pct(0.0));

  // (a): Presenting as Lec, Guiding as MG.
  const auto* presenting = m.find_category("instructor", "Presenting");
  const auto* guiding = m.find_category("instructor", "Guiding");
  REQUIRE(presenting != nullptr);
  REQUIRE(guiding != nullptr);
  CHECK(presenting->mean_percent_of_intervals == pct(62.5));
  CHECK(guiding->mean_percent_of_intervals == pct(37.5));
  // (b): A is all Presenting (100 %); B has 5 + 15 = 20 instructor ticks,
  // Presenting 25 %, Guiding 75 %. Means 62.5 and 37.5 — sum 100.
  CHECK(presenting->mean_percent_of_group_ticks == pct(62.5));
  CHECK(guiding->mean_percent_of_group_ticks == pct(37.5));
  CHECK(presenting->observations_with_group_ticks == 2);

  // Students ticked only in B: (a) averages over both (0 and 100 -> 50 %),
  // (b) only over B, where students had ticks (100 %), so (b) still sums to 100.
  const auto* receiving = m.find_category("students", "Receiving");
  CHECK(receiving->mean_percent_of_intervals == pct(50.0));
  CHECK(receiving->mean_percent_of_group_ticks == pct(100.0));
  CHECK(receiving->observations_with_group_ticks == 1);
  for (const char* group : {"instructor", "students"}) {
    double b = 0.0;
    for (const auto& c : m.categories) {
      if (c.group == group) b += c.mean_percent_of_group_ticks;
    }
    CHECK(b == pct(100.0));
  }
}

TEST_CASE("mean of nothing is zero, not NaN", "[core][summary]") {
  const MeanSummary none = mean_summary({});
  CHECK(none.observations == 0);
  CHECK(none.codes.empty());
  const std::vector<IntervalSummary> empty = {ticked(0, {})};
  const MeanSummary m = mean_summary(empty);
  CHECK(m.observations == 1);
  CHECK(m.observations_with_intervals == 0);
  for (const auto& c : m.categories) {
    CHECK(c.mean_percent_of_intervals == 0.0);
    CHECK(c.mean_percent_of_group_ticks == 0.0);
  }
}

TEST_CASE("a code in only one observation counts as 0 % in the others", "[core][summary]") {
  // Unknown code "X-Phone" appears only in the second of two 4-min lessons.
  const std::vector<IntervalSummary> s = {ticked(4, {{"S-L", 0, 2}}),
                                          ticked(4, {{"X-Phone", 0, 1}})};
  const MeanSummary m = mean_summary(s);
  CHECK(m.find_code("X-Phone")->mean_percent_of_intervals == pct(25.0));  // (0 + 50) / 2
  CHECK(m.find_code("S-L")->mean_percent_of_intervals == pct(50.0));      // (100 + 0) / 2
}

TEST_CASE("tallies sum per code, ratings give count, mean, min, max", "[core][summary]") {
  const TemplateDef* kl = find_builtin_template(kTemplateKlasseledelse);
  REQUIRE(kl != nullptr);
  const auto scheme = parse_coding_scheme(kl->definition).value();
  const auto items = parse_rating_items(kl->definition).value();
  std::vector<std::string> code_order;
  for (const auto& c : scheme.codes) code_order.push_back(c.code);
  std::vector<std::string> item_order;
  for (const auto& i : items) item_order.push_back(i.item);

  const std::vector<TallyEntry> tallies = {{"T-Praise", 1},   {"T-Praise", 1},
                                           {"T-Praise", 1},   {"T-Correct", 1},
                                           {"T-Correct", -1},  // undone tap
                                           {"Z-Own", 2},      {"", 1}};
  const std::vector<RatingEntry> ratings = {{"R-Structure", 4}, {"R-Structure", 5},
                                            {"R-Structure", 3}, {"R-Relations", 2},
                                            {"R-Own", 1},       {"R-Relations", std::nan("")}};
  const auto s = summarize_tallies_and_ratings(tallies, ratings, code_order, item_order);
  CHECK(s.ignored_entries == 2);  // empty code, NaN rating

  REQUIRE(s.tallies.size() == code_order.size() + 1);
  CHECK(s.tallies.front().code == code_order.front());  // template order, zeros included
  CHECK(s.tallies.front().total == 0);
  CHECK(s.tallies.back().code == "Z-Own");  // not in the template: after, sorted
  CHECK(s.tallies.back().total == 2);
  for (const auto& t : s.tallies) {
    if (t.code == "T-Praise") CHECK(t.total == 3);
    if (t.code == "T-Correct") CHECK(t.total == 0);
  }

  REQUIRE(s.ratings.size() == item_order.size() + 1);
  CHECK(s.ratings.back().item == "R-Own");
  for (const auto& r : s.ratings) {
    if (r.item == "R-Structure") {
      CHECK(r.count == 3);
      CHECK(r.mean == pct(4.0));  // (4 + 5 + 3) / 3
      CHECK(r.min == 3.0);
      CHECK(r.max == 5.0);
    } else if (r.item == "R-Relations") {
      CHECK(r.count == 1);
      CHECK(r.mean == pct(2.0));
    } else if (r.item == "R-Transitions") {
      CHECK(r.count == 0);
      CHECK(r.mean == 0.0);  // no ratings: zero, not NaN
    }
  }
}

TEST_CASE("summaries serialise unrounded percentages", "[core][summary]") {
  // 6 min = 3 intervals; Lec in 1 of 3 -> 33.333...%; kept unrounded.
  const auto s = ticked(6, {{"I-Lec", 0, 1}});
  const Json j = s.to_json();
  CHECK(j["interval_count"] == 3);
  CHECK(j["interval_seconds"] == 120);
  CHECK(j["codes"].size() == 25);
  const Json& lec = j["codes"][13];  // instructor codes follow the 13 student codes
  CHECK(lec["code"] == "I-Lec");
  CHECK(lec["percent_of_intervals"].get<double>() == pct(100.0 / 3));
  const Json& presenting = j["categories"][0];
  CHECK(presenting["name"] == "Presenting");
  CHECK(presenting.contains("percent_of_intervals"));
  CHECK(presenting["percent_of_group_ticks"].get<double>() == pct(100.0));

  const std::vector<IntervalSummary> one = {s};
  const Json mj = mean_summary(one).to_json();
  CHECK(mj["observations"] == 1);
  CHECK(mj["categories"][0]["mean_percent_of_group_ticks"].get<double>() == pct(100.0));

  const std::vector<TallyEntry> t = {{"T-Praise", 2}};
  const Json tj = summarize_tallies_and_ratings(t, {}).to_json();
  CHECK(tj["tallies"][0] == Json({{"code", "T-Praise"}, {"total", 2}}));
  CHECK(tj["ratings"].empty());
}
