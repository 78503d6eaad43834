// Coding that checks itself (record_rules.hpp): codes against the session's
// template with the closest codes named, ticks within the session, an end not
// before its start, required names not blank; local writes only, checked on
// the record as the transaction leaves it, never on merge.
#include "tandem/core/record_rules.hpp"

#include <catch2/catch.hpp>

#include "tandem/core/entries.hpp"
#include "tandem/core/templates.hpp"
#include "test_util.hpp"

using namespace tandem;
using tandem::test::make_record;
using tandem::test::TempDir;

namespace {

std::vector<std::string> copus_codes() {
  auto scheme = parse_coding_scheme(find_builtin_template(kTemplateCopus)->definition);
  REQUIRE(scheme.ok());
  std::vector<std::string> out;
  for (const auto& c : scheme->codes) out.push_back(c.code);
  return out;
}

EntryInput coded(const std::string& session, const char* type, const char* code) {
  EntryInput in;
  in.session = session;
  in.type = type;
  in.code = code;
  if (in.type == "tick") in.interval = 0;
  if (in.type == "rating") in.value = 3;
  return in;
}

// A COPUS session of 09:00-09:20Z: ten 2-minute intervals.
struct Copus {
  TempDir dir;
  std::string school;
  std::unique_ptr<Store> s = test::open_store_with_school(dir.file("a.db"), school);
  std::string course = make_record(*s, "course", {{"kind", "observation"}, {"title", "Fysik 2.x"}});
  std::string session = make_record(*s, "session", {{"course", course},
                                             {"template", std::string(kTemplateCopus)},
                                             {"started_at", "2026-03-02T09:00:00Z"},
                                             {"ended_at", "2026-03-02T09:20:00Z"}});
  std::size_t entries() { return s->list_under("entry", session)->size(); }
};

}  // namespace

TEST_CASE("closest codes: case first, then the namespace, then edit distance", "[core][rules]") {
  const auto codes = copus_codes();
  CHECK(closest_codes("I-lec", codes) == std::vector<std::string>{"I-Lec"});
  CHECK(closest_codes("i-LEC", codes) == std::vector<std::string>{"I-Lec"});
  CHECK(closest_codes("S-l", codes) == std::vector<std::string>{"S-L"});  // not S-W, S-O too
  CHECK(closest_codes("Lec", codes) == std::vector<std::string>{"I-Lec"});  // a bare code
  CHECK(closest_codes("lec", codes) == std::vector<std::string>{"I-Lec"});
  CHECK(closest_codes("AnQ", codes) == std::vector<std::string>{"S-AnQ", "I-AnQ"});
  CHECK(closest_codes("S-Lec", codes).front() == "I-Lec");  // wrong namespace first
  CHECK(closest_codes("I-Lecc", codes) == std::vector<std::string>{"I-Lec"});
  CHECK(closest_codes("I-eLc", codes).front() == "I-Lec");  // a swap is one step
  // Nearer first, template order among equals, never more than three.
  const auto near = closest_codes("I-PG", codes);
  REQUIRE(near.size() == 3);
  CHECK(near[0] == "I-PQ");
  CHECK(closest_codes("I-PG", codes, 1) == std::vector<std::string>{"I-PQ"});
  CHECK(closest_codes("Bananas", codes).empty());
  CHECK(closest_codes("xy", codes).empty());  // not a code replaced whole
  CHECK(closest_codes("Æble", std::vector<std::string>{"æble", "Pære"}) ==
        std::vector<std::string>{"æble"});
}

TEST_CASE("blank: whitespace and invisible characters only", "[core][rules]") {
  for (const char* blank : {"", " ", "\t\n ", "\xC2\xA0", "\xE2\x80\x8B", "\xE3\x80\x80 ", "\xEF\xBB\xBF"}) {
    INFO(blank);
    CHECK(is_blank(blank));
  }
  for (const char* text : {"a", " a ", "\xC3\xA6", ".", "\xFF"}) {
    INFO(text);
    CHECK_FALSE(is_blank(text));
  }
}

TEST_CASE("an unknown code is refused, naming the closest ones", "[core][rules]") {
  Copus c;
  auto lower = record_entry(*c.s, coded(c.session, "tick", "I-lec"), 0);
  REQUIRE_FALSE(lower.ok());
  CHECK(lower.error().code == ErrorCode::kInvalidValue);
  CHECK(lower.error().message.find("'I-lec'") != std::string::npos);
  CHECK(lower.error().message.find("did you mean I-Lec?") != std::string::npos);
  auto bare = record_entry(*c.s, coded(c.session, "code", "Lec"), 0);
  REQUIRE_FALSE(bare.ok());
  CHECK(bare.error().message.find("did you mean I-Lec?") != std::string::npos);
  auto two = record_entry(*c.s, coded(c.session, "tally", "W"), 0);
  REQUIRE_FALSE(two.ok());
  CHECK(two.error().message.find("did you mean S-W or I-W?") != std::string::npos);
  auto far = record_entry(*c.s, coded(c.session, "tick", "Bananas"), 0);
  REQUIRE_FALSE(far.ok());
  CHECK(far.error().message.find("none is close") != std::string::npos);
  CHECK(c.entries() == 0);

  REQUIRE(record_entry(*c.s, coded(c.session, "tick", "I-Lec"), 0).ok());
  REQUIRE(record_entry(*c.s, coded(c.session, "code", "S-L"), 0).ok());
  REQUIRE(record_entry(*c.s, coded(c.session, "tally", "I-PQ"), 0).ok());
  CHECK(c.entries() == 3);
  // A code, tick, tally or rating needs a code; a note none.
  CHECK(record_entry(*c.s, coded(c.session, "tally", " "), 0).error().code == ErrorCode::kMissingField);
  EntryInput note;
  note.session = c.session;
  note.type = "note";
  note.text = "ro i klassen";
  REQUIRE(record_entry(*c.s, note, 0).ok());
  // The generic create and a later update are checked alike.
  CHECK(c.s->create("entry", {{"session", c.session}, {"type", "tally"}, {"code", "I-lec"}}).error().code ==
        ErrorCode::kInvalidValue);
  const std::string tally = c.s->list_under("entry", c.session)->front().id;
  CHECK(c.s->set(tally, "code", "I-pq").error().code == ErrorCode::kInvalidValue);
}

TEST_CASE("free coding: no template, a template unknown here or without codes", "[core][rules]") {
  Copus c;
  const auto bare = make_record(*c.s, "session", {{"course", c.course}});
  CHECK(record_entry(*c.s, coded(bare, "tick", "hvad-som-helst"), 0).ok());
  CHECK(record_entry(*c.s, coded(bare, "rating", "R-Any"), 0).ok());
  const auto tmpl = make_record(*c.s, "template", {{"name", "Kun vurderinger"},
                                            {"kind", "focus"},
                                            {"definition", {{"ratings", {{{"item", "R-Ro"}}}}}}});
  const auto ratings_only = make_record(*c.s, "session", {{"course", c.course}, {"template", tmpl}});
  CHECK(record_entry(*c.s, coded(ratings_only, "tally", "hand-op"), 0).ok());  // no codes: any code
  CHECK(record_entry(*c.s, coded(ratings_only, "rating", "R-Ro"), 0).ok());
  auto item = record_entry(*c.s, coded(ratings_only, "rating", "r-ro"), 0);
  REQUIRE_FALSE(item.ok());
  CHECK(item.error().message.find("unknown rating item 'r-ro'") != std::string::npos);
  CHECK(item.error().message.find("did you mean R-Ro?") != std::string::npos);
  // A definition that does not parse refuses coded entries with its error.
  REQUIRE(c.s->set(tmpl, "definition", Json{{"codes", "not a list"}}).ok());
  auto broken = record_entry(*c.s, coded(ratings_only, "tally", "x"), 0);
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.error().message.find("cannot be used") != std::string::npos);
}

TEST_CASE("ticks: intervals from 0 to the session's interval count", "[core][rules]") {
  Copus c;
  EntryInput tick = coded(c.session, "tick", "I-Lec");
  for (const std::int64_t ok : {0, 9}) {
    tick.interval = ok;
    CHECK(record_entry(*c.s, tick, 0).ok());
  }
  for (const std::int64_t bad : {-1, 10, 1000}) {
    tick.interval = bad;
    auto r = record_entry(*c.s, tick, 0);
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kInvalidValue);
  }
  tick.interval = 10;
  CHECK(record_entry(*c.s, tick, 0).error().message.find("it has 10 intervals (0-9)") != std::string::npos);
  tick.interval = -1;
  CHECK(record_entry(*c.s, tick, 0).error().message.find("count from 0") != std::string::npos);
  // The session's own interval length wins over its template's: 5 minutes -> 4.
  REQUIRE(c.s->set(c.session, "interval_seconds", 300).ok());
  tick.interval = 4;
  CHECK_FALSE(record_entry(*c.s, tick, 0).ok());
  tick.interval = 3;
  CHECK(record_entry(*c.s, tick, 0).ok());
  // Not ended (yet): any interval from 0, below the longest observation.
  const auto open = make_record(*c.s, "session", {{"course", c.course}, {"template", std::string(kTemplateCopus)}});
  tick.session = open;
  tick.interval = 500;
  CHECK(record_entry(*c.s, tick, 0).ok());
  tick.interval = summary::kMaxIntervals;
  CHECK(record_entry(*c.s, tick, 0).error().code == ErrorCode::kInvalidValue);
  tick.interval = -1;
  CHECK(record_entry(*c.s, tick, 0).error().code == ErrorCode::kInvalidValue);
  // Without a template too (free coding still counts from 0).
  tick.session = make_record(*c.s, "session", {{"course", c.course}});
  CHECK(record_entry(*c.s, tick, 0).error().code == ErrorCode::kInvalidValue);
  CHECK(c.entries() == 3);
}

TEST_CASE("several entries at once: all or none", "[core][rules]") {
  Copus c;
  std::vector<EntryInput> ticks;
  for (const char* code : {"I-Lec", "S-L", "I-lec", "S-WG"}) ticks.push_back(coded(c.session, "tick", code));
  const std::int64_t before = c.s->outbox_size().value();
  auto refused = record_entries(*c.s, ticks, 0);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("'I-lec'") != std::string::npos);
  CHECK(c.entries() == 0);
  CHECK(c.s->outbox_size().value() == before);  // nothing of the batch left a trace
  ticks[2].code = "I-PQ";
  auto made = record_entries(*c.s, ticks, 0);
  REQUIRE(made.ok());
  REQUIRE(made->size() == 4);
  CHECK(c.s->get((*made)[1])->fields["code"] == "S-L");
  CHECK(c.entries() == 4);
  CHECK(record_entries(*c.s, {}, 0).error().code == ErrorCode::kInvalidArgument);
  std::vector<EntryInput> many(kMaxEntriesAtOnce + 1, coded(c.session, "tick", "I-Lec"));
  CHECK(record_entries(*c.s, many, 0).error().code == ErrorCode::kTooLong);
}

TEST_CASE("an end not before its start: sessions, courses, timed entries", "[core][rules]") {
  Copus c;
  Store& s = *c.s;
  // Create.
  auto backwards = s.create("session", {{"course", c.course},
                                        {"started_at", "2026-03-02T10:00:00Z"},
                                        {"ended_at", "2026-03-02T09:00:00Z"}});
  REQUIRE_FALSE(backwards.ok());
  CHECK(backwards.error().code == ErrorCode::kInvalidValue);
  CHECK(backwards.error().message.find("ended_at") != std::string::npos);
  // Instants, not text: .500 is after :00 though "." sorts before "Z".
  CHECK_FALSE(s.create("session", {{"course", c.course},
                                   {"started_at", "2026-03-02T10:00:00.500Z"},
                                   {"ended_at", "2026-03-02T10:00:00Z"}})
                  .ok());
  CHECK(make_record(s, "session", {{"course", c.course},
                            {"started_at", "2026-03-02T10:00:00+01:00"},
                            {"ended_at", "2026-03-02T09:00:00Z"}})
            .size() > 0);  // equal instants: fine
  CHECK(s.create("course", {{"kind", "guidance"}, {"title", "Vejledning"},
                            {"start_date", "2026-03-02"}, {"end_date", "2026-03-01"}})
            .error()
            .code == ErrorCode::kInvalidValue);
  EntryInput span = coded(c.session, "code", "S-WG");
  span.at_ms = 1'772'442'000'000;
  span.end_ms = *span.at_ms - 1;
  CHECK(record_entry(s, span, 0).error().code == ErrorCode::kInvalidValue);
  span.end_ms = *span.at_ms;
  CHECK(record_entry(s, span, 0).ok());
  // Update one end: checked against the other as saved.
  CHECK(s.set(c.session, "ended_at", "2026-03-02T08:59:59Z").error().code == ErrorCode::kInvalidValue);
  CHECK(s.set(c.session, "started_at", "2026-03-02T09:20:01Z").error().code == ErrorCode::kInvalidValue);
  CHECK(s.set(c.session, "ended_at", "2026-03-02T09:00:00Z").ok());
  CHECK(s.set(c.course, "end_date", "2026-01-31").ok());  // no start date yet
  CHECK(s.set(c.course, "start_date", "2026-02-01").error().code == ErrorCode::kInvalidValue);
  CHECK(s.get(c.course)->fields.count("start_date") == 0);
  // Both ends in one transaction: the record as the transaction leaves it,
  // whatever the order (a lesson moved to the afternoon).
  for (const bool end_first : {true, false}) {
    const std::string day = end_first ? "2026-03-03" : "2026-03-04";
    Status moved = s.transaction([&]() -> Status {
      if (end_first) TANDEM_TRY(s.set(c.session, "ended_at", day + "T13:45:00Z"));
      TANDEM_TRY(s.set(c.session, "started_at", day + "T13:00:00Z"));
      if (!end_first) TANDEM_TRY(s.set(c.session, "ended_at", day + "T13:45:00Z"));
      return {};
    });
    INFO(end_first);
    CHECK(moved.ok());
  }
  Status half = s.transaction([&]() -> Status {
    TANDEM_TRY(s.set(c.session, "started_at", "2026-03-05T13:00:00Z"));  // alone: after the end
    return s.set(c.session, "focus", "ro");
  });
  CHECK(half.error().code == ErrorCode::kInvalidValue);
  CHECK(s.get(c.session)->fields["started_at"] == "2026-03-04T13:00:00Z");
  CHECK(s.get(c.session)->fields.count("focus") == 0);  // the whole transaction undone
}

TEST_CASE("required names are not blank", "[core][rules]") {
  Copus c;
  Store& s = *c.s;
  for (const char* blank : {"", "   ", "\xC2\xA0\t"}) {
    INFO(blank);
    CHECK(s.create("course", {{"kind", "guidance"}, {"title", blank}}).error().code == ErrorCode::kMissingField);
    CHECK(s.set(c.course, "title", blank).error().code == ErrorCode::kMissingField);
    CHECK(s.create("person", {{"name", blank}, {"role", "teacher"}}).error().code == ErrorCode::kMissingField);
    CHECK(s.create("action", {{"text", blank}}).error().code == ErrorCode::kMissingField);
  }
  CHECK(s.get(c.course)->fields["title"] == "Fysik 2.x");
  // Optional names may be blank (a meeting's title).
  CHECK(s.create("meeting", {{"date", "2026-03-02"}, {"title", " "}}).ok());
}

TEST_CASE("rules never refuse a merge, and a record already broken stays editable", "[core][rules]") {
  TempDir dir;
  std::string school;
  auto a = test::open_store_with_school(dir.file("a.db"), school);
  auto b = test::open_store(dir.file("b.db"));
  const auto course = make_record(*a, "course", {{"kind", "observation"}, {"title", "Obs"}});
  const auto tmpl = make_record(*a, "template", {{"name", "To koder"},
                                          {"kind", "event"},
                                          {"definition", {{"codes", {{{"code", "X"}}, {{"code", "Y"}}}}}}});
  const auto session = make_record(*a, "session", {{"course", course},
                                            {"template", tmpl},
                                            {"started_at", "2026-03-02T09:00:00Z"},
                                            {"ended_at", "2026-03-02T10:00:00Z"}});
  test::exchange(*a, *b);
  REQUIRE(b->set_default_school(school).ok());
  // Concurrently: A moves the start later, B the end earlier; both valid alone.
  REQUIRE(a->set(session, "started_at", "2026-03-02T09:30:00Z").ok());
  REQUIRE(b->set(session, "ended_at", "2026-03-02T09:15:00Z").ok());
  // B drops code X from the template; A, not knowing, records X.
  REQUIRE(b->set(tmpl, "definition", Json{{"codes", {{{"code", "Y"}}}}}).ok());
  EntryInput x = coded(session, "code", "X");
  const auto entry = record_entry(*a, x, 0);
  REQUIRE(entry.ok());
  test::exchange(*a, *b);
  test::exchange(*b, *a);
  for (Store* s : {a.get(), b.get()}) {
    CHECK(s->get(*entry)->fields["code"] == "X");  // merged, not refused
    CHECK(s->get(session)->fields["started_at"] == "2026-03-02T09:30:00Z");
    CHECK(s->get(session)->fields["ended_at"] == "2026-03-02T09:15:00Z");
  }
  // Broken by the merge: other fields stay editable, the ends only mended.
  CHECK(b->set(session, "focus", "overgange").ok());
  CHECK(b->set(session, "ended_at", "2026-03-02T09:20:00Z").error().code == ErrorCode::kInvalidValue);
  CHECK(b->set(session, "ended_at", "2026-03-02T10:00:00Z").ok());
  CHECK(record_entry(*b, x, 0).error().code == ErrorCode::kInvalidValue);  // X is gone here now
}
