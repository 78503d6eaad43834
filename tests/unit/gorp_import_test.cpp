// GORP import (gorp.hpp, gorp_import.hpp) on hand-made files: each quirk of
// the format with the exact entries it must give (code, at, end in UTC;
// Europe/Copenhagen wall-clock times, 2026-03-02 is CET = UTC+1), a bad row
// or header refusing the whole file, and import -> export -> import.
#include <catch2/catch.hpp>

#include <algorithm>
#include <tuple>

#include "tandem/core/entries.hpp"
#include "tandem/core/gorp_import.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/core/templates.hpp"
#include "test_util.hpp"

using namespace tandem;
using tandem::test::TempDir;

namespace {

// (type, code or note text, at, end or "")
using Got = std::tuple<std::string, std::string, std::string, std::string>;

std::string lines(const std::vector<std::string>& rows, const std::string& eol, bool final_eol = true) {
  std::string out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out += rows[i];
    if (i + 1 < rows.size() || final_eol) out += eol;
  }
  return out;
}

struct Db {
  TempDir dir;
  std::string school;
  std::unique_ptr<Store> store = test::open_store_with_school(dir.file("g.db"), school);

  Result<gorp::ImportResult> import(const std::string& bytes, const std::string& date = "2026-03-02",
                                    const std::string& tmpl = "") {
    gorp::ImportOptions o;
    o.date = date;
    o.name = "lesson.csv";
    o.template_id = tmpl;
    o.now_ms = 1'790'000'000'000;
    return gorp::import_file(*store, bytes, o);
  }
  gorp::ImportResult imported(const std::string& bytes, const std::string& date = "2026-03-02") {
    auto r = import(bytes, date);
    INFO((r.ok() ? std::string() : r.error().message));
    REQUIRE(r.ok());
    return *r;
  }
  // The session's entries, sorted by (at, type, code).
  std::vector<Got> entries(const std::string& session) {
    auto list = store->list_under("entry", session);
    REQUIRE(list.ok());
    std::vector<Got> out;
    for (const Record& e : *list) {
      const std::string type = string_field(e.fields, "type");
      out.emplace_back(type, string_field(e.fields, type == "note" ? "text" : "code"),
                       string_field(e.fields, "at"), string_field(e.fields, "end"));
    }
    std::sort(out.begin(), out.end(), [](const Got& a, const Got& b) {
      return std::tie(std::get<2>(a), std::get<0>(a), std::get<1>(a)) <
             std::tie(std::get<2>(b), std::get<0>(b), std::get<1>(b));
    });
    return out;
  }
  std::size_t count(const char* kind) { return store->list(kind).value().size(); }
};

const std::string kHead = "Event,Time Start,Time End";
const std::vector<std::string> kBasic = {
    kHead, "Instructor-Presenting-Lecturing,10:46:29 AM,10:48:02 AM",
    "Student-Working-Worksheet group work,10:47:00 AM,10:50:30 AM"};
const std::vector<Got> kBasicEntries = {
    {"code", "Instructor-Presenting-Lecturing", "2026-03-02T09:46:29Z", "2026-03-02T09:48:02Z"},
    {"code", "Student-Working-Worksheet group work", "2026-03-02T09:47:00Z", "2026-03-02T09:50:30Z"}};

}  // namespace

TEST_CASE("GORP import: LF, CRLF and bare CR give the same entries, final newline or not",
          "[core][gorp]") {
  for (const char* eol : {"\n", "\r\n", "\r"}) {
    for (bool final_eol : {true, false}) {
      INFO("eol " << int(eol[0]) << (eol[1] ? " LF" : "") << " final " << final_eol);
      Db db;
      const auto r = db.imported(lines(kBasic, eol, final_eol));
      CHECK(r.entries == 2);
      CHECK(r.codes == 2);
      CHECK(db.entries(r.session) == kBasicEntries);
    }
  }
}

TEST_CASE("GORP import: with or without a space after the comma", "[core][gorp]") {
  Db db;
  const auto r = db.imported(lines({"Event, Time Start, Time End",
                                    "Instructor-Presenting-Lecturing, 10:46:29 AM, 10:48:02 AM",
                                    "Student-Working-Worksheet group work,10:47:00 AM,10:50:30AM"},
                                   "\r\n"));
  CHECK(db.entries(r.session) == kBasicEntries);
}

TEST_CASE("GORP import: a session across noon reads PM as afternoon, 12 PM as noon",
          "[core][gorp]") {
  Db db;
  const auto r = db.imported(lines({kHead, "I-P-Lec,11:58:00 AM,12:01:30 PM", "I-P-Lec,12:59:00 PM,1:02:00 PM"},
                                   "\n"));
  CHECK(db.entries(r.session) ==
        std::vector<Got>{{"code", "I-P-Lec", "2026-03-02T10:58:00Z", "2026-03-02T11:01:30Z"},
                         {"code", "I-P-Lec", "2026-03-02T11:59:00Z", "2026-03-02T12:02:00Z"}});
}

TEST_CASE("GORP import: a session across midnight rolls to the next day", "[core][gorp]") {
  Db db;
  // An event across midnight, then one after it; 12:xx AM is after midnight.
  const auto r = db.imported(lines({kHead, "I-P-Lec,11:58:00 PM,12:01:00 AM", "S-W-WG,12:00:30 AM,12:10:00 AM",
                                    "S-W-WG,1:00:00 AM,1:00:05 AM"},
                                   "\r"));
  CHECK(db.entries(r.session) ==
        std::vector<Got>{{"code", "I-P-Lec", "2026-03-02T22:58:00Z", "2026-03-02T23:01:00Z"},
                         {"code", "S-W-WG", "2026-03-02T23:00:30Z", "2026-03-02T23:10:00Z"},
                         {"code", "S-W-WG", "2026-03-03T00:00:00Z", "2026-03-03T00:00:05Z"}});
  auto session = db.store->get(r.session).value();
  CHECK(session.fields["started_at"] == "2026-03-02T22:58:00Z");
  CHECK(session.fields["ended_at"] == "2026-03-03T00:00:05Z");
}

TEST_CASE("GORP import: Comments rows become notes with their time, and count as entries",
          "[core][gorp]") {
  Db db;
  const auto r = db.imported(
      lines({kHead, "Instructor-Presenting-Lecturing,10:46:29 AM,10:48:02 AM",
             "Instructor-Comments-Eleverne kom sent, alle i 4.b,10:47:10 AM,10:47:10 AM",  // unquoted comma
             "\"Student-Comments-Spurgte \"\"hvorfor\"\", godt\",10:49:00 AM,10:49:00 AM"},
            "\n", false));
  CHECK(r.entries == 3);
  CHECK(r.notes == 2);
  CHECK(r.codes == 1);
  CHECK(db.entries(r.session) ==
        std::vector<Got>{
            {"code", "Instructor-Presenting-Lecturing", "2026-03-02T09:46:29Z", "2026-03-02T09:48:02Z"},
            {"note", "Instructor-Comments-Eleverne kom sent, alle i 4.b", "2026-03-02T09:47:10Z", ""},
            {"note", "Student-Comments-Spurgte \"hvorfor\", godt", "2026-03-02T09:49:00Z", ""}});
  // The comments are not codes of the template built.
  auto t = db.store->get(r.template_id).value();
  CHECK(t.fields["definition"]["codes"].size() == 1);
}

TEST_CASE("GORP import: a bad time refuses the file with every bad line, nothing imported",
          "[core][gorp]") {
  Db db;
  const std::size_t courses = db.count("course");
  const std::size_t templates = db.count("template");
  auto r = db.import(lines({kHead, "I-P-Lec,10:46:29 AM,10:48:02 AM", "I-P-Lec,10:61:00 AM,10:62:00 AM",
                            "I-P-Lec,10:50:00,10:51:00 AM", "S-W-WG,10:52:00 AM,10:51:00 AM", "only,two"},
                           "\n"));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kInvalidValue);
  const std::string& m = r.error().message;
  INFO(m);
  CHECK(m.find("4 bad rows") != std::string::npos);
  CHECK(m.find("line 3: Time Start") != std::string::npos);
  CHECK(m.find("line 4: Time Start") != std::string::npos);
  CHECK(m.find("line 5: Time End is before Time Start") != std::string::npos);
  CHECK(m.find("line 6: expected 3 fields") != std::string::npos);
  CHECK(m.find("line 2") == std::string::npos);
  CHECK(db.count("session") == 0);
  CHECK(db.count("entry") == 0);
  CHECK(db.count("template") == templates);
  CHECK(db.count("course") == courses);
}

TEST_CASE("GORP import: a bad header refuses the file", "[core][gorp]") {
  Db db;
  for (const char* head : {"Event,Start,End", "Event,Time Start", "Instructor-P-Lec,10:00:00 AM,10:01:00 AM"}) {
    auto r = db.import(lines({head, "I-P-Lec,10:46:29 AM,10:48:02 AM"}, "\n"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kInvalidValue);
    CHECK(r.error().message.find("line 1: expected the header Event,Time Start,Time End") !=
          std::string::npos);
  }
  CHECK_FALSE(db.import("").ok());
  CHECK_FALSE(db.import(kHead + "\r\n").ok());  // a header and no rows
  CHECK(db.count("entry") == 0);
}

TEST_CASE("GORP import: events split into parts, long names kept whole, a template built",
          "[core][gorp]") {
  CHECK(gorp::split_event("Instructor-Presenting-Lecturing-with-slides").code == "Lecturing-with-slides");
  const auto two = gorp::split_event("Instructor-Presenting");
  CHECK((two.category == "Instructor" && two.group == "Presenting" && two.code.empty()));
  const auto one = gorp::split_event("Waiting");
  CHECK((one.category == "Waiting" && one.group.empty() && one.code.empty()));

  Db db;
  const std::string long_event = "Student-Working-" + std::string(110, 'x');  // 126 code points
  REQUIRE(utf8_length(long_event) > 64);
  const auto r = db.imported(lines({kHead, long_event + ",9:00:00 AM,9:01:00 AM",
                                    "Instructor-Presenting,9:00:00 AM,9:02:00 AM", "Waiting,9:03:00 AM,9:04:00 AM"},
                                   "\n"));
  CHECK(std::get<1>(db.entries(r.session)[1]) == long_event);  // 9:00, after "Instructor-..."
  const Json def = db.store->get(r.template_id).value().fields["definition"];
  CHECK(def["codes"][0] == Json({{"code", long_event},
                                 {"group", "Student"},
                                 {"parts", {{"category", "Student"}, {"group", "Working"}, {"code", std::string(110, 'x')}}}}));
  CHECK(def["categories"][1] == Json({{"name", "Presenting"}, {"group", "Instructor"}, {"codes", {"Instructor-Presenting"}}}));
  CHECK(def["categories"][2] == Json({{"name", "(no group)"}, {"group", "Waiting"}, {"codes", {"Waiting"}}}));
  CHECK(parse_coding_scheme(def).ok());
  // Past the code limit: a bad row.
  auto too_long = db.import(lines({kHead, "S-W-" + std::string(kMaxCodeLength, 'y') + ",9:00:00 AM,9:01:00 AM"}, "\n"));
  REQUIRE_FALSE(too_long.ok());
  CHECK(too_long.error().message.find("line 2: event longer than 128") != std::string::npos);
}

TEST_CASE("GORP import: bounds on rows, line length and file size", "[core][gorp]") {
  std::string big = kHead + "\n";
  for (std::size_t i = 0; i <= gorp::kMaxRows; ++i) big += "a,9:00:00 AM,9:00:01 AM\n";
  auto rows = gorp::parse_file(big);
  REQUIRE_FALSE(rows.ok());
  CHECK(rows.error().code == ErrorCode::kTooLong);
  auto line = gorp::parse_file(kHead + "\nI-C-" + std::string(gorp::kMaxLineBytes, 'z') + ",9:00:00 AM,9:00:01 AM\n");
  REQUIRE_FALSE(line.ok());
  CHECK(line.error().message.find("line 2: longer than") != std::string::npos);
  auto huge = gorp::parse_file(std::string(gorp::kMaxFileBytes + 1, '\n'));
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.error().code == ErrorCode::kTooLong);
  // At most kMaxReportedErrors lines are listed; the count is exact.
  std::string many = kHead + "\n";
  for (int i = 0; i < 30; ++i) many += "a,nope,9:00:01 AM\n";
  auto bad = gorp::parse_file(many);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("30 bad rows") != std::string::npos);
  CHECK(bad.error().message.find("line 21:") != std::string::npos);
  CHECK(bad.error().message.find("line 22:") == std::string::npos);
  CHECK(bad.error().message.find("and 10 more") != std::string::npos);
}

TEST_CASE("GORP clock times: 12-hour parsing and formatting", "[core][gorp]") {
  CHECK(gorp::parse_clock("12:00:00 AM").value() == 0);
  CHECK(gorp::parse_clock("12:30:05 PM").value() == 12 * 3600 + 30 * 60 + 5);
  CHECK(gorp::parse_clock(" 1:02:03 pm").value() == 13 * 3600 + 2 * 60 + 3);
  CHECK(gorp::parse_clock("11:59:59PM").value() == 86399);
  for (const char* bad : {"13:00:00 PM", "0:10:00 AM", "10:46 AM", "10:46:29", "10:46:29 XM", "", "10:46:60 AM"}) {
    CHECK_FALSE(gorp::parse_clock(bad).ok());
  }
  CHECK(gorp::format_clock(0) == "12:00:00 AM");
  CHECK(gorp::format_clock(13 * 3600 + 2 * 60 + 3) == "1:02:03 PM");
  CHECK(gorp::format_clock(86400 + 3600) == "1:00:00 AM");
}

TEST_CASE("GORP import into a given template: unknown events are listed, nothing imported",
          "[core][gorp]") {
  Db db;
  const std::size_t templates = db.count("template");
  auto bad = db.import(lines({kHead, "S-CG,9:00:00 AM,9:01:00 AM", "S-Talk,9:00:00 AM,9:01:00 AM",
                              "X-Comments-fine,9:00:00 AM,9:00:00 AM", "S-Shout,9:02:00 AM,9:03:00 AM"},
                             "\n"),
                       "2026-03-02", std::string(kTemplateCopus));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("2 events not in template") != std::string::npos);
  CHECK(bad.error().message.find("S-Talk") != std::string::npos);
  CHECK(bad.error().message.find("S-Shout") != std::string::npos);
  CHECK(db.count("entry") == 0);
  auto ok = db.import(lines({kHead, "S-CG,9:00:00 AM,9:01:00 AM", "I-Lec,9:00:00 AM,9:04:00 AM"}, "\n"),
                      "2026-03-02", std::string(kTemplateCopus));
  REQUIRE(ok.ok());
  CHECK(ok->template_id == kTemplateCopus);
  CHECK_FALSE(ok->template_created);
  // A COPUS session from GORP: 9:00-9:04 is two 2-minute intervals, S-CG in
  // the first (GW 50 % of intervals) and 1 of 4 minutes (GW 25 % of time).
  auto s = summarize_session(*db.store, ok->session);
  REQUIRE(s.ok());
  REQUIRE((s->intervals && s->time));
  CHECK(s->intervals->find_derived("GW")->percent_of_intervals == Approx(50.0));
  CHECK(s->time->find_derived("GW")->percent_of_time == Approx(25.0));
  CHECK(s->time->find_code("I-Lec")->percent_of_time == Approx(100.0));
  CHECK(db.count("template") == templates);
}

TEST_CASE("GORP round trip: import, export, import gives the same entries and summaries",
          "[core][gorp]") {
  Db db;
  const std::string file = lines(
      {kHead, "Instructor-Presenting-Lecturing,11:50:00 PM,11:59:00 PM", "Student-Working-CG,11:55:00 PM,12:05:00 AM",
       "Student-Comments-Godt samarbejde, \"rolig\",11:56:00 PM,11:57:00 PM", "Student-Working-CG,12:02:00 AM,12:04:00 AM",
       "Instructor-Presenting-Lecturing,12:04:00 AM,12:20:30 AM"},
      "\r");
  const auto first = db.imported(file, "2026-06-30");  // CEST, across midnight into July
  auto csv = gorp::export_session(*db.store, first.session, copenhagen_zone());
  REQUIRE(csv.ok());
  CHECK(csv->rows == 5);
  CHECK(csv->csv.substr(0, kHead.size() + 2) == kHead + "\r\n");
  CHECK(csv->csv.find("Student-Working-CG,11:55:00 PM,12:05:00 AM\r\n") != std::string::npos);
  CHECK(csv->csv.find("\"Student-Comments-Godt samarbejde, \"\"rolig\"\"\",11:56:00 PM,11:56:00 PM\r\n") !=
        std::string::npos);
  const auto second = db.imported(csv->csv, "2026-06-30");

  CHECK(db.entries(first.session) == db.entries(second.session));
  auto s1 = summarize_session(*db.store, first.session);
  auto s2 = summarize_session(*db.store, second.session);
  REQUIRE((s1.ok() && s2.ok()));
  REQUIRE(s1->time.has_value());
  CHECK(s1->tallies.tallies.empty());  // timed codes are not listed as tallies
  Json j1 = s1->to_json(), j2 = s2->to_json();
  j1.erase("session");
  j2.erase("session");
  CHECK(j1 == j2);
  CHECK(j1["time"]["observed_ms"] == 30 * 60000 + 30000);
  // Export again: byte for byte the same file.
  CHECK(gorp::export_session(*db.store, second.session, copenhagen_zone())->csv == csv->csv);
}

TEST_CASE("GORP export refuses what the format cannot carry", "[core][gorp]") {
  Db db;
  const auto r = db.imported(lines({kHead, "I-P-Lec,9:00:00 AM,9:10:00 AM"}, "\n"));
  // An interval-only session (no timed codes) is not duration-coded.
  auto course = db.store->create("course", {{"kind", "observation"}, {"title", "x"}}).value();
  auto ticks = db.store->create("session", {{"course", course}}).value();
  EntryInput tick;
  tick.session = ticks;
  tick.type = "tick";
  tick.code = "S-L";
  tick.interval = 0;
  REQUIRE(record_entry(*db.store, tick, 1'790'000'000'000).ok());
  CHECK(gorp::export_session(*db.store, ticks, copenhagen_zone()).error().code == ErrorCode::kInvalidValue);
  // An event of 13 hours that crosses midnight reads back wrong: refused.
  EntryInput e;
  e.session = r.session;
  e.type = "code";
  e.code = "I-P-Lec";
  e.at_ms = parse_datetime_ms("2026-03-02T20:00:00Z").value();
  e.end_ms = parse_datetime_ms("2026-03-03T09:00:00Z").value();
  REQUIRE(record_entry(*db.store, e, 1'790'000'000'000).ok());
  auto refused = gorp::export_session(*db.store, r.session, copenhagen_zone());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("cannot be written as GORP") != std::string::npos);
}

TEST_CASE("GORP import without a date: today in Copenhagen, not in UTC", "[core][gorp]") {
  Db db;
  gorp::ImportOptions o;
  o.now_ms = parse_datetime_ms("2026-03-02T23:30:00Z").value();  // 00:30 on 3 March in Copenhagen
  auto r = gorp::import_file(*db.store, lines({kHead, "I-P-Lec,9:00:00 AM,9:01:00 AM"}, "\n"), o);
  REQUIRE(r.ok());
  CHECK(db.entries(r->session) ==
        std::vector<Got>{{"code", "I-P-Lec", "2026-03-03T08:00:00Z", "2026-03-03T08:01:00Z"}});
  o.date = "2026-02-30";
  CHECK(gorp::import_file(*db.store, lines({kHead, "I-P-Lec,9:00:00 AM,9:01:00 AM"}, "\n"), o).error().code ==
        ErrorCode::kInvalidDate);
}

TEST_CASE("an entry's code may hold kMaxCodeLength (128) code points, not more", "[core][gorp]") {
  static_assert(kMaxCodeLength >= 128);
  Db db;
  // A session without a template: any code is taken (none to check against).
  auto course = db.store->create("course", {{"kind", "observation"}, {"title", "x"}}).value();
  EntryInput in;
  in.session = db.store->create("session", {{"course", course}}).value();
  in.type = "code";
  std::string code;
  for (std::size_t i = 0; i < kMaxCodeLength; ++i) code += "\xc3\xb8";  // ø: 2 bytes, 1 code point
  in.code = code;
  CHECK(record_entry(*db.store, in, 1'790'000'000'000).ok());
  in.code = code + "x";
  CHECK(record_entry(*db.store, in, 1'790'000'000'000).error().code == ErrorCode::kTooLong);
}
