// Recording during a session (`tandem record`) and observation summaries
// (`tandem summary`) through the CLI.
#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "tandem/core/schema.hpp"

namespace {

using Json = nlohmann::json;
using tandem::test::CliDb;
using tandem::test::ProcessResult;

Json ok_json(const CliDb& db, const std::vector<std::string>& args) {
  const ProcessResult r = db.run_json(args);
  INFO("args: " << Json(args).dump() << "\nstdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const Json j = Json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const char* const kTemplate = R"({
  "codes": [{"code":"I-Lec","group":"instructor"}, {"code":"I-PQ","group":"instructor"},
            {"code":"S-L","group":"students"}, {"code":"S-WG","group":"students"},
            {"code":"hand-op","group":"tallies"}],
  "categories": [{"name":"Presenting","group":"instructor","codes":["I-Lec"]},
                 {"name":"Guiding","group":"instructor","codes":["I-PQ"]},
                 {"name":"Receiving","group":"students","codes":["S-L"]},
                 {"name":"Working","group":"students","codes":["S-WG"]}],
  "ratings": [{"item":"R-Ro","min":1,"max":5}]})";

struct Observation {
  CliDb db;
  std::string course, tmpl, session;
  Observation() {
    ok_json(db, {"init", "--school-name", "Skovgårdsskolen"});
    course =
        ok_json(db, {"course", "create", "--kind", "observation", "--title", "Klasseledelse 4.b"})
            .at("id");
    tmpl = ok_json(db, {"template", "create", "--name", "Mini-COPUS", "--kind", "interval",
                        "--interval_seconds", "120", "--definition", kTemplate})
               .at("id");
    // 09:00-09:09 local (+01:00): 4.5 intervals of 2 minutes -> 5 intervals.
    session = new_session("2026-03-02T09:00:00+01:00", "2026-03-02T09:09:00+01:00");
  }
  std::string new_session(const std::string& start, const std::string& end) {
    return ok_json(db, {"session", "create", "--course", course, "--template", tmpl, "--started_at",
                        start, "--ended_at", end})
        .at("id");
  }
  Json entry(const std::vector<std::string>& args) {
    std::vector<std::string> all = {"record", session};
    all.insert(all.end(), args.begin(), args.end());
    const std::string id = ok_json(db, all).at("id");
    const Json shown = ok_json(db, {"entry", "show", id});
    CHECK(shown.at("fields").at("session") == session);
    return shown.at("fields");
  }
};

}  // namespace

TEST_CASE("record creates one entry per call, stamped with now unless --at", "[cli][record]") {
  Observation o;
  const std::int64_t before = now_ms();
  Json note = o.entry({"--note", "Eleverne kom ind fra frikvarteret; Ærø nævnt"});
  const std::int64_t after = now_ms();
  CHECK(note.at("type") == "note");
  CHECK(note.at("text") == "Eleverne kom ind fra frikvarteret; Ærø nævnt");
  const auto at = tandem::parse_datetime_ms(note.at("at").get<std::string>());
  REQUIRE(at.ok());
  CHECK(*at >= before - 1000);  // the store keeps millisecond precision
  CHECK(*at <= after + 1000);

  Json code = o.entry({"--code", "I-PQ", "--at", "2026-03-02T09:01:30+01:00"});
  CHECK(code.at("type") == "code");
  CHECK(code.at("code") == "I-PQ");
  CHECK(code.at("at") == "2026-03-02T08:01:30Z");
  Json span =
      o.entry({"--code", "S-WG", "--at", "2026-03-02T08:02:00Z", "--end", "2026-03-02T08:06:00Z"});
  CHECK(span.at("end") == "2026-03-02T08:06:00Z");
  Json tick = o.entry({"--tick", "I-Lec", "--interval", "0"});
  CHECK(tick.at("type") == "tick");
  CHECK(tick.at("interval") == 0);
  Json tally = o.entry({"--tally", "hand-op"});
  CHECK(tally.at("type") == "tally");
  CHECK(tally.at("count") == 1);
  CHECK(o.entry({"--tally", "hand-op", "--count", "-1"}).at("count") == -1);
  Json rating = o.entry({"--rating", "R-Ro", "--value", "3.5"});
  CHECK(rating.at("type") == "rating");
  CHECK(rating.at("value") == 3.5);

  const std::string child = ok_json(o.db, {"child", "create", "--pseudonym", "M.K."}).at("id");
  const std::string person =
      ok_json(o.db, {"person", "create", "--name", "Åse", "--role", "resource_person"}).at("id");
  Json about = o.entry({"--note", "Godt fremmøde", "--child", child, "--author", person});
  CHECK(about.at("child") == child);
  CHECK(about.at("author") == person);

  CHECK(ok_json(o.db, {"list", "entry"}).size() == 8);
  CHECK(o.db.count_rows("outbox") >= 8);
  // Human output: the new entry's id alone.
  const ProcessResult human = o.db.run({"record", o.session, "--note", "kort"});
  REQUIRE(human.exit_code == 0);
  CHECK(human.out.rfind("entry_", 0) == 0);
}

TEST_CASE("summary of a session: per code, per category in both normalisations", "[cli][summary]") {
  Observation o;
  // Intervals (2 min from 08:00Z): 0 [00,02) 1 [02,04) 2 [04,06) 3 [06,08) 4 [08,09).
  o.entry({"--tick", "I-Lec", "--interval", "0"});
  o.entry({"--tick", "I-Lec", "--interval", "1"});
  o.entry({"--tick", "I-PQ", "--interval", "1"});
  o.entry({"--tick", "S-L", "--interval", "0"});
  o.entry({"--code", "S-WG", "--at", "2026-03-02T08:04:00Z", "--end", "2026-03-02T08:08:00Z"});
  o.entry({"--code", "I-PQ", "--at", "2026-03-02T08:08:30Z"});
  o.entry({"--note", "Noter tæller ikke med"});
  o.entry({"--tally", "hand-op", "--count", "3"});
  o.entry({"--tally", "hand-op"});
  o.entry({"--rating", "R-Ro", "--value", "4"});
  o.entry({"--rating", "R-Ro", "--value", "2"});

  const Json s = ok_json(o.db, {"summary", o.session});
  CHECK(s.at("session") == o.session);
  CHECK(s.at("entries") == 11);
  CHECK(s.at("notes") == 1);
  CHECK(s.at("started_at_assumed") == false);
  const Json& iv = s.at("intervals");
  CHECK(iv.at("interval_seconds") == 120);
  CHECK(iv.at("interval_count") == 5);  // the final partial interval counts
  std::map<std::string, Json> codes;
  for (const Json& c : iv.at("codes")) codes[c.at("code")] = c;
  CHECK(codes.at("I-Lec").at("intervals") == 2);
  CHECK(codes.at("I-PQ").at("intervals") == 2);
  CHECK(codes.at("S-L").at("intervals") == 1);
  CHECK(codes.at("S-WG").at("intervals") == 2);  // [08:04, 08:08) does not spill into 4
  CHECK(codes.at("I-Lec").at("percent_of_intervals").get<double>() == Approx(40.0));
  std::map<std::string, Json> cats;
  for (const Json& c : iv.at("categories")) cats[c.at("name")] = c;
  CHECK(cats.at("Presenting").at("percent_of_intervals").get<double>() == Approx(40.0));
  CHECK(cats.at("Presenting").at("percent_of_group_ticks").get<double>() == Approx(50.0));
  CHECK(cats.at("Guiding").at("percent_of_group_ticks").get<double>() == Approx(50.0));
  CHECK(cats.at("Working").at("percent_of_group_ticks").get<double>() == Approx(200.0 / 3));

  const Json& tr = s.at("tallies_ratings");
  REQUIRE(tr.at("tallies").size() == 1);
  CHECK(tr.at("tallies")[0] == Json{{"code", "hand-op"}, {"total", 4}});
  REQUIRE(tr.at("ratings").size() == 1);
  CHECK(tr.at("ratings")[0].at("mean").get<double>() == Approx(3.0));
  CHECK(tr.at("ratings")[0].at("count") == 2);

  const ProcessResult human = o.db.run({"summary", o.session});
  REQUIRE(human.exit_code == 0);
  CHECK(human.out.find("5 intervaller") != std::string::npos);
  CHECK(human.out.find("(a) andel af intervaller") != std::string::npos);
  CHECK(human.out.find("(b) andel af gruppens markeringer") != std::string::npos);
}

TEST_CASE("summary of a course: mean of per-session percentages", "[cli][summary]") {
  Observation o;
  o.entry({"--tick", "I-Lec", "--interval", "0"});  // session 1: 1 of 5 intervals = 20 %
  const std::string first = o.session;
  o.session = o.new_session("2026-03-03T08:00:00Z", "2026-03-03T08:04:00Z");
  o.entry({"--tick", "I-Lec", "--interval", "0"});  // session 2: 2 of 2 = 100 %
  o.entry({"--tick", "I-Lec", "--interval", "1"});

  const Json s = ok_json(o.db, {"summary", "--course", o.course});
  CHECK(s.at("course") == o.course);
  CHECK(s.at("sessions").size() == 2);
  const Json& mean = s.at("mean");
  CHECK(mean.at("observations_with_intervals") == 2);
  bool found = false;
  for (const Json& c : mean.at("codes")) {
    if (c.at("code") != "I-Lec") continue;
    found = true;
    CHECK(c.at("mean_percent_of_intervals").get<double>() == Approx(60.0));  // not 3/7 pooled
  }
  CHECK(found);
  const ProcessResult human = o.db.run({"summary", "--course", o.course});
  REQUIRE(human.exit_code == 0);
  CHECK(human.out.find(first) != std::string::npos);
}

TEST_CASE("summary without started_at starts at the first entry", "[cli][summary]") {
  Observation o;
  o.session =
      ok_json(o.db, {"session", "create", "--course", o.course, "--template", o.tmpl}).at("id");
  o.entry({"--code", "I-Lec", "--at", "2026-03-02T10:00:00Z"});
  o.entry({"--code", "I-Lec", "--at", "2026-03-02T10:05:00Z"});
  const Json s = ok_json(o.db, {"summary", o.session});
  CHECK(s.at("started_at_assumed") == true);
  CHECK(s.at("intervals").at("interval_count") == 3);
  // A session with notes only has no interval summary, and says why.
  o.session = o.new_session("2026-03-04T08:00:00Z", "2026-03-04T08:45:00Z");
  o.entry({"--note", "kun en note"});
  const Json notes = ok_json(o.db, {"summary", o.session});
  CHECK(notes.at("intervals").is_null());
  CHECK(notes.at("intervals_missing").is_string());
}
