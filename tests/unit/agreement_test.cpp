// Agreement between two observations (agreement.hpp): hand-computed 2x2
// counts, Jaccard, kappa and percent agreement; alignment at each
// observation's first event; interval coding; codes matched by text across
// templates; undefined values; limits. The worked example is the one in
// docs/agreement.md.
#include "tandem/core/agreement.hpp"

#include <catch2/catch.hpp>

#include "tandem/core/entries.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/core/templates.hpp"
#include "test_util.hpp"

using namespace tandem;
using agreement::Coding;
using agreement::Counts;
using summary::Entry;

namespace {

constexpr std::int64_t kTen = 1'772'445'600'000;  // 2026-03-02T10:00:00Z
constexpr std::int64_t kSec = 1000;

// docs/agreement.md: observer A watches at 10:00, observer B at 14:00.
Coding example_first(std::int64_t t0 = kTen) {
  Coding c;
  c.template_codes = {"Lec", "PQ", "W"};
  c.entries = {Entry::span("Lec", t0, t0 + 9 * kSec), Entry::span("PQ", t0, t0 + 2 * kSec)};
  return c;
}
Coding example_second(std::int64_t t0 = kTen + 4 * 3600 * kSec) {
  Coding c;
  c.template_codes = {"Lec", "PQ", "SQ"};
  c.entries = {Entry::event("PQ", t0), Entry::span("Lec", t0 + 1 * kSec, t0 + 10 * kSec),
               Entry::span("SQ", t0 + 9 * kSec, t0 + 10 * kSec)};
  return c;
}

agreement::Agreement compared(const Coding& a, const Coding& b) {
  auto r = agreement::compare(a, b);
  if (!r) FAIL(r.error().message);
  return std::move(r).value();
}

const agreement::CodeAgreement& code(const agreement::Agreement& a, std::string_view name) {
  const agreement::CodeAgreement* c = a.find_code(name);
  if (c == nullptr) FAIL("no code " << name);
  return *c;
}

void check_counts(const Counts& k, std::int64_t a, std::int64_t b, std::int64_t c, std::int64_t d) {
  CHECK(k.a == a);
  CHECK(k.b == b);
  CHECK(k.c == c);
  CHECK(k.d == d);
}

}  // namespace

TEST_CASE("agreement: the worked example of docs/agreement.md", "[core][agreement]") {
  const auto r = compared(example_first(), example_second());
  CHECK(r.unit == agreement::Unit::kSecond);
  CHECK(r.first.units == 9);
  CHECK(r.second.units == 10);
  CHECK(r.units == 10);  // the longer of the two
  REQUIRE(r.codes.size() == 4);
  CHECK(r.codes[0].code == "Lec");  // first template, then the second's new codes
  CHECK(r.codes[1].code == "PQ");
  CHECK(r.codes[2].code == "W");
  CHECK(r.codes[3].code == "SQ");

  const auto& lec = code(r, "Lec");
  check_counts(lec.counts, 8, 1, 1, 0);
  CHECK(*lec.measures.jaccard == Approx(0.8));
  CHECK(*lec.measures.kappa == Approx(-1.0 / 9));
  CHECK(*lec.measures.percent_agreement == Approx(80.0));

  const auto& pq = code(r, "PQ");  // B's point event fills second 0 only
  check_counts(pq.counts, 1, 1, 0, 8);
  CHECK(*pq.measures.jaccard == Approx(0.5));
  CHECK(*pq.measures.kappa == Approx(8.0 / 13));
  CHECK(*pq.measures.percent_agreement == Approx(90.0));

  const auto& sq = code(r, "SQ");  // only B's template has it: A never coded it
  CHECK_FALSE(sq.in_first_template);
  CHECK(sq.in_second_template);
  check_counts(sq.counts, 0, 0, 1, 9);
  CHECK(*sq.measures.jaccard == 0.0);
  CHECK(*sq.measures.kappa == 0.0);  // 90 % agreement, no better than chance
  CHECK(*sq.measures.percent_agreement == Approx(90.0));

  const auto& w = code(r, "W");  // in A's template, used by nobody
  CHECK_FALSE(w.used);
  check_counts(w.counts, 0, 0, 0, 10);
  CHECK_FALSE(w.measures.jaccard.has_value());
  CHECK(w.measures.jaccard_undefined == agreement::kNeverPresent);
  CHECK_FALSE(w.measures.kappa.has_value());
  CHECK(w.measures.kappa_undefined == agreement::kChanceIsOne);
  CHECK(*w.measures.percent_agreement == Approx(100.0));

  // Overall over the three used codes (W left out).
  const auto& all = r.overall;
  CHECK(all.codes == 3);
  check_counts(all.pooled, 9, 2, 2, 17);
  CHECK(*all.measures.jaccard == Approx(9.0 / 13));
  CHECK(*all.measures.kappa == Approx(149.0 / 209));
  CHECK(*all.measures.percent_agreement == Approx(260.0 / 3));
  CHECK(*all.mean_jaccard == Approx(1.3 / 3));
  CHECK(*all.mean_kappa == Approx(59.0 / 351));
  CHECK(*all.mean_percent_agreement == Approx(260.0 / 3));
  CHECK(all.jaccard_codes == 3);
  CHECK(all.kappa_codes == 3);

  // JSON: null and a reason, never NaN.
  const Json j = r.to_json();
  CHECK(j.at("unit") == "second");
  CHECK(j.at("units") == 10);
  CHECK(j.at("codes")[2].at("kappa").is_null());
  CHECK(j.at("codes")[2].at("kappa_undefined") == "expected_agreement_is_1");
  CHECK(j.at("codes")[0].at("jaccard").get<double>() == Approx(0.8));
  CHECK_FALSE(j.at("codes")[0].contains("jaccard_undefined"));
  CHECK(j.at("overall").at("a") == 9);
  CHECK(j.at("first").at("first_event") == "2026-03-02T10:00:00Z");
  CHECK(j.at("second").at("first_event") == "2026-03-02T14:00:00Z");
}

TEST_CASE("agreement: Jaccard and kappa can rank two codes oppositely", "[core][agreement]") {
  const auto r = compared(example_first(), example_second());
  const auto& x = code(r, "Lec").measures;  // common code, the one disagreement costs a lot
  const auto& y = code(r, "PQ").measures;   // rare code: absences agree by chance
  CHECK(*x.jaccard > *y.jaccard);
  CHECK(*x.kappa < *y.kappa);
}

TEST_CASE("agreement: kappa is undefined when both observers are constant and identical",
          "[core][agreement]") {
  Coding a;
  a.entries = {Entry::span("Lec", kTen, kTen + 5 * kSec), Entry::event("PQ", kTen + 2 * kSec)};
  Coding b;
  b.entries = {Entry::span("Lec", kTen, kTen + 5 * kSec)};
  const auto r = compared(a, b);
  CHECK(r.units == 5);
  const auto& lec = code(r, "Lec");  // present throughout for both: pe = 1
  check_counts(lec.counts, 5, 0, 0, 0);
  CHECK(*lec.measures.jaccard == 1.0);
  CHECK(*lec.measures.percent_agreement == 100.0);
  CHECK_FALSE(lec.measures.kappa.has_value());
  CHECK(lec.measures.kappa_undefined == agreement::kChanceIsOne);
  CHECK(r.to_json().at("codes")[0].at("kappa").is_null());
  // The mean kappa is over the codes where it is defined: PQ only.
  const auto& pq = code(r, "PQ");
  check_counts(pq.counts, 0, 1, 0, 4);
  CHECK(*pq.measures.kappa == 0.0);
  CHECK(r.overall.kappa_codes == 1);
  CHECK(r.overall.jaccard_codes == 2);
  CHECK(*r.overall.mean_kappa == 0.0);

  // No units at all (every entry ignored): nothing is defined.
  const auto none = agreement::measures(Counts{});
  CHECK_FALSE(none.percent_agreement.has_value());
  CHECK(none.kappa_undefined == agreement::kNoUnits);
}

TEST_CASE("agreement: each observation is aligned at its own first event", "[core][agreement]") {
  // The same coding, watched 10 minutes later: perfect agreement.
  const std::int64_t later = kTen + 10 * 60 * kSec;
  const auto r = compared(example_first(kTen), example_first(later));
  CHECK(r.units == 9);
  for (const auto& c : r.codes) {
    INFO(c.code);
    CHECK(c.counts.b == 0);
    CHECK(c.counts.c == 0);
    CHECK(*c.measures.percent_agreement == 100.0);
    if (c.used) CHECK(*c.measures.jaccard == 1.0);
  }
  CHECK(*r.overall.measures.jaccard == 1.0);
  CHECK(*r.overall.measures.kappa == 1.0);  // Lec 9/9 and PQ 2/9 together vary
  CHECK(*r.overall.measures.percent_agreement == 100.0);
  // Sub-second shifts move unit boundaries with the first event as well.
  const auto odd = compared(example_first(kTen), example_first(later + 437));
  CHECK(*odd.overall.measures.kappa == 1.0);
}

TEST_CASE("agreement: units are half-open seconds, point events fill one", "[core][agreement]") {
  Coding a;
  a.entries = {Entry::span("X", kTen, kTen + 2 * kSec),             // units 0, 1: not 2
               Entry::span("Y", kTen + 2500, kTen + 3001),          // units 2, 3
               Entry::event("Z", kTen + 3999),                      // unit 3
               Entry::span("Z", kTen + 5 * kSec, kTen + 5 * kSec),  // zero length: unit 5
               Entry::span("Q", kTen + 9 * kSec, kTen),             // end before start: ignored
               Entry::event("", kTen)};                             // no code: ignored
  Coding b;
  b.entries = {Entry::span("X", kTen, kTen + 1 * kSec)};
  const auto r = compared(a, b);
  CHECK(r.first.units == 6);
  CHECK(r.first.ignored_entries == 2);
  CHECK(r.units == 6);
  check_counts(code(r, "X").counts, 1, 1, 0, 4);
  check_counts(code(r, "Y").counts, 0, 2, 0, 4);
  check_counts(code(r, "Z").counts, 0, 2, 0, 4);
  CHECK_FALSE(code(r, "Q").used);  // an ignored entry's code is still listed, unused
}

TEST_CASE("agreement: interval coding compares intervals of the longer session",
          "[core][agreement]") {
  Coding a;
  a.template_codes = {"I-Lec", "I-PQ", "S-L"};
  a.interval_seconds = 120;
  a.interval_count = 5;
  for (int k : {0, 1, 2}) a.entries.push_back(Entry::tick(k, "I-Lec"));
  for (int k : {0, 1, 2, 3}) a.entries.push_back(Entry::tick(k, "S-L"));
  a.entries.push_back(Entry::tick(3, "I-PQ"));
  Coding b = a;
  b.interval_count = 4;
  b.entries.clear();
  for (int k : {0, 1}) b.entries.push_back(Entry::tick(k, "I-Lec"));
  for (int k : {0, 1, 2, 3}) b.entries.push_back(Entry::tick(k, "S-L"));
  b.entries.push_back(Entry::tick(3, "I-PQ"));
  b.entries.push_back(Entry::tick(4, "I-PQ"));   // past its session: ignored
  b.entries.push_back(Entry::tick(-1, "S-L"));   // ignored
  b.entries.push_back(Entry::tick(1, "I-Lec"));  // twice: once

  const auto r = compared(a, b);
  CHECK(r.unit == agreement::Unit::kInterval);
  CHECK(r.unit_seconds == 120);
  CHECK(r.first.units == 5);
  CHECK(r.second.units == 4);
  CHECK(r.second.ignored_entries == 2);
  CHECK(r.units == 5);
  const auto& lec = code(r, "I-Lec");
  check_counts(lec.counts, 2, 1, 0, 2);
  CHECK(*lec.measures.jaccard == Approx(2.0 / 3));
  CHECK(*lec.measures.kappa == Approx(8.0 / 13));
  CHECK(*lec.measures.percent_agreement == Approx(80.0));
  check_counts(code(r, "S-L").counts, 4, 0, 0, 1);
  CHECK(*code(r, "S-L").measures.kappa == 1.0);
  check_counts(code(r, "I-PQ").counts, 1, 0, 0, 4);
  CHECK(r.to_json().at("unit") == "interval");

  // Without a session interval count: the last ticked interval + 1.
  b.interval_count.reset();
  CHECK(compared(a, b).second.units == 5);
  // Intervals of different lengths do not correspond.
  b.interval_seconds = 60;
  CHECK(agreement::compare(a, b).error().code == ErrorCode::kInvalidValue);
}

TEST_CASE("agreement: codes are matched by their text across two templates", "[core][agreement]") {
  Coding a;
  a.template_codes = {"Instructor-Presenting-Lecturing", "Students-Receiving-Listening"};
  a.entries = {Entry::span("Instructor-Presenting-Lecturing", kTen, kTen + 4 * kSec),
               Entry::span("Students-Receiving-Listening", kTen, kTen + 4 * kSec)};
  Coding b;  // another import: other order, another code, one spelled differently
  b.template_codes = {"Students-Receiving-Listening", "Instructor-Guiding-Posing question",
                      "Instructor-presenting-Lecturing"};
  b.entries = {Entry::span("Students-Receiving-Listening", kTen, kTen + 2 * kSec),
               Entry::span("Instructor-presenting-Lecturing", kTen, kTen + 4 * kSec),
               Entry::span("Off-template", kTen + 3 * kSec, kTen + 4 * kSec)};
  const auto r = compared(a, b);
  REQUIRE(r.codes.size() == 5);
  const auto& listening = code(r, "Students-Receiving-Listening");
  CHECK(listening.in_first_template);
  CHECK(listening.in_second_template);
  check_counts(listening.counts, 2, 2, 0, 0);
  // Case matters: these are two codes, each coded by one observer only.
  check_counts(code(r, "Instructor-Presenting-Lecturing").counts, 0, 4, 0, 0);
  check_counts(code(r, "Instructor-presenting-Lecturing").counts, 0, 0, 4, 0);
  CHECK_FALSE(code(r, "Instructor-Guiding-Posing question").used);
  const auto& stray = code(r, "Off-template");  // in no template: still compared
  CHECK_FALSE(stray.in_first_template);
  CHECK_FALSE(stray.in_second_template);
  check_counts(stray.counts, 0, 0, 1, 3);
  CHECK(r.codes.back().code == "Off-template");
}

TEST_CASE("agreement: mixed kinds, empty observations and limits are refused",
          "[core][agreement]") {
  Coding ticks;
  ticks.entries = {Entry::tick(0, "I-Lec")};
  Coding events;
  events.entries = {Entry::event("I-Lec", kTen)};
  auto mixed = agreement::compare(ticks, events);
  REQUIRE_FALSE(mixed.ok());
  CHECK(mixed.error().code == ErrorCode::kInvalidValue);
  CHECK(mixed.error().message.find("interval-coded") != std::string::npos);
  Coding both = ticks;
  both.entries.push_back(Entry::event("I-Lec", kTen));
  CHECK(agreement::compare(both, ticks).error().code == ErrorCode::kInvalidValue);
  CHECK(agreement::compare(Coding{}, Coding{}).error().code == ErrorCode::kInvalidValue);
  // An observer who coded nothing takes the other's kind: all absent.
  const auto lone = compared(events, Coding{});
  check_counts(code(lone, "I-Lec").counts, 0, 1, 0, 0);

  Coding long_event;
  long_event.entries = {Entry::event("A", kTen),
                        Entry::span("B", kTen, kTen + agreement::kMaxUnits * kSec)};
  CHECK(compared(long_event, events).units == agreement::kMaxUnits);
  long_event.entries.push_back(Entry::event("C", kTen + agreement::kMaxUnits * kSec));
  CHECK(agreement::compare(long_event, events).error().code == ErrorCode::kTooLong);
  Coding far_tick;
  far_tick.entries = {Entry::tick(agreement::kMaxUnits, "A")};
  CHECK(agreement::compare(far_tick, ticks).error().code == ErrorCode::kTooLong);
  Coding huge_count = ticks;
  huge_count.interval_count = agreement::kMaxUnits + 1;
  CHECK(agreement::compare(huge_count, ticks).error().code == ErrorCode::kTooLong);
  Coding many;
  for (std::size_t i = 0; i <= agreement::kMaxCodes; ++i) {
    many.entries.push_back(Entry::event("c" + std::to_string(i), kTen));
  }
  CHECK(agreement::compare(many, events).error().code == ErrorCode::kTooLong);
  many.entries.pop_back();
  many.entries.back().code = "I-Lec";  // exactly kMaxCodes distinct codes
  CHECK(agreement::compare(many, events).ok());
}

TEST_CASE("agreement of two sessions read from a store", "[core][agreement]") {
  test::TempDir dir;
  std::string school;
  auto s = test::open_store_with_school(dir.file("a.db"), school);
  auto make = [&](const char* kind, const Json& fields) {
    auto id = s->create(kind, fields);
    if (!id) FAIL(id.error().message);
    return *id;
  };
  const Json def_a = {
      {"codes", Json::array({{{"code", "Lec"}}, {{"code", "PQ"}}, {{"code", "W"}}})}};
  const Json def_b = {
      {"codes", Json::array({{{"code", "Lec"}}, {{"code", "PQ"}}, {{"code", "SQ"}}})}};
  const auto ta = make("template", {{"name", "A"}, {"kind", "event"}, {"definition", def_a}});
  const auto tb = make("template", {{"name", "B"}, {"kind", "event"}, {"definition", def_b}});
  const auto course = make("course", {{"kind", "observation"}, {"title", "Obs"}});
  const auto sa = make("session", {{"course", course}, {"template", ta}});
  const auto sb = make("session", {{"course", course}, {"template", tb}});
  auto put = [&](const std::string& session, const summary::Entry& e) {
    EntryInput in;
    in.session = session;
    in.type = "code";
    in.code = e.code;
    in.at_ms = e.at;
    in.end_ms = e.end;
    REQUIRE(record_entry(*s, in, 0).ok());
  };
  for (const auto& e : example_first().entries) put(sa, e);
  for (const auto& e : example_second().entries) put(sb, e);
  EntryInput note;
  note.session = sa;
  note.type = "note";
  note.text = "noter er ikke kodning";
  note.at_ms = kTen - 3600 * kSec;  // earlier than every code: not the first event
  REQUIRE(record_entry(*s, note, 0).ok());

  auto r = agreement::session_agreement(*s, sa, sb);
  REQUIRE(r.ok());
  CHECK(r->agreement.units == 10);
  CHECK(*r->agreement.overall.measures.kappa == Approx(149.0 / 209));
  CHECK_FALSE(r->agreement.find_code("W")->measures.kappa.has_value());
  const Json j = r->to_json();
  CHECK(j.at("first").at("session") == sa);
  CHECK(j.at("second").at("session") == sb);
  CHECK(agreement::session_agreement(*s, sa, course).error().code == ErrorCode::kNotFound);

  // An interval-coded session against these: a clear error.
  const auto sc = make("session", {{"course", course},
                                   {"template", std::string(kTemplateCopus)},
                                   {"started_at", "2026-03-02T10:00:00Z"},
                                   {"ended_at", "2026-03-02T10:09:00Z"}});
  EntryInput tick;
  tick.session = sc;
  tick.type = "tick";
  tick.code = "I-Lec";
  tick.interval = 0;
  REQUIRE(record_entry(*s, tick, 0).ok());
  CHECK(agreement::session_agreement(*s, sa, sc).error().code == ErrorCode::kInvalidValue);
  // The COPUS session's interval count is its summary's: 9 min -> 5 intervals.
  auto self = agreement::session_agreement(*s, sc, sc);
  REQUIRE(self.ok());
  CHECK(self->agreement.units == 5);
  CHECK(self->agreement.unit_seconds == 120);
  CHECK(self->agreement.codes.size() == 25);
}
