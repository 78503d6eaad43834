// The local store: every write is durable, applied and in the outbox.
#include <catch2/catch.hpp>

#include "tandem/core/schema.hpp"
#include "tandem/core/store.hpp"
#include "test_util.hpp"

using namespace tandem;
using tandem::test::TempDir;

TEST_CASE("a created record reads back with its fields, Danish text intact", "[core][store]") {
  TempDir dir;
  std::string school;
  auto s = test::open_store_with_school(dir.file("t.db"), school);
  auto id = s->create("course", Json{{"kind", "co_teaching"}, {"title", "Læsning i 3.ø – fællesskab"},
                                     {"focus_areas", {"relations", "classroom_management"}}});
  REQUIRE(id.ok());
  auto r = s->get(*id);
  REQUIRE(r.ok());
  CHECK(r->kind == "course");
  CHECK(r->school == school);
  CHECK(r->fields["title"] == "Læsning i 3.ø – fællesskab");
  CHECK(r->fields["focus_areas"] == Json({"classroom_management", "relations"}));
  CHECK(r->conflicts.empty());
}

TEST_CASE("each local write appends exactly one change to the outbox", "[core][store]") {
  TempDir dir;
  std::string school;
  auto s = test::open_store_with_school(dir.file("t.db"), school);
  auto before = s->outbox_size();
  REQUIRE(before.ok());
  auto id = s->create("course", Json{{"kind", "observation"}, {"title", "A"}});
  REQUIRE(id.ok());
  REQUIRE(s->set(*id, "status", "active").ok());
  REQUIRE(s->add(*id, "tags", "uge45").ok());
  REQUIRE(s->remove(*id, "tags", "uge45").ok());
  REQUIRE(s->delete_record(*id).ok());
  auto after = s->outbox_size();
  REQUIRE(after.ok());
  CHECK(*after - *before == 5);
  auto ob = s->outbox(100);
  REQUIRE(ob.ok());
  CHECK(ob->back().change.op == Op::kDelete);
}

TEST_CASE("data survives closing and reopening the file", "[core][store]") {
  TempDir dir;
  std::string school, id;
  {
    auto s = test::open_store_with_school(dir.file("t.db"), school);
    auto r = s->create("person", Json{{"name", "Åse Øster"}, {"role", "resource_person"}});
    REQUIRE(r.ok());
    id = *r;
  }
  auto s = test::open_store(dir.file("t.db"));
  CHECK(s->default_school() == school);
  auto r = s->get(id);
  REQUIRE(r.ok());
  CHECK(r->fields["name"] == "Åse Øster");
}

TEST_CASE("bad input is refused with a stable code and changes nothing", "[core][store]") {
  TempDir dir;
  std::string school;
  auto s = test::open_store_with_school(dir.file("t.db"), school);
  auto course = s->create("course", Json{{"kind", "guidance"}, {"title", "T"}});
  REQUIRE(course.ok());
  auto dump_before = s->canonical_dump();
  auto outbox_before = s->outbox_size();
  REQUIRE(dump_before.ok());

  struct Case { const char* name; ErrorCode code; std::function<Status()> run; };
  std::vector<Case> cases = {
      {"unknown id", ErrorCode::kNotFound, [&] { return s->set("course_ffffffffffffffff", "title", "x"); }},
      {"wrong enum", ErrorCode::kInvalidValue, [&] { return s->set(*course, "status", "finished"); }},
      {"invalid date", ErrorCode::kInvalidDate, [&] { return s->set(*course, "start_date", "2026-02-30"); }},
      {"malformed utf8", ErrorCode::kInvalidUtf8, [&] { return s->set(*course, "title", std::string("bad \xC3\x28")); }},
      {"oversize text", ErrorCode::kTooLong, [&] { return s->set(*course, "title", std::string(kMaxStringLen + 1, 'a')); }},
      {"oversize long text", ErrorCode::kTooLong, [&] { return s->set(*course, "goals", std::string(kMaxTextLen + 1, 'a')); }},
      {"unknown field", ErrorCode::kUnknownField, [&] { return s->set(*course, "colour", "red"); }},
      {"wrong type", ErrorCode::kWrongType, [&] { return s->set(*course, "title", 42); }},
      {"unknown ref", ErrorCode::kNotFound, [&] { return s->set(*course, "tovholder", "person_0000000000000000"); }},
      {"unknown focus area", ErrorCode::kInvalidValue, [&] { return s->add(*course, "focus_areas", "astrology"); }},
      {"unknown kind", ErrorCode::kUnknownKind, [&] { return s->create("lesson", Json::object()).ok() ? Status{} : Status{make_error(ErrorCode::kUnknownKind, "")}; }},
      {"missing required", ErrorCode::kMissingField, [&] { auto r = s->create("course", Json{{"title", "no kind"}}); return r.ok() ? Status{} : Status{r.error()}; }},
  };
  for (auto& c : cases) {
    INFO(c.name);
    Status st = c.run();
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().code == c.code);
  }
  CHECK(*s->canonical_dump() == *dump_before);
  CHECK(*s->outbox_size() == *outbox_before);
}

TEST_CASE("deleting leaves a tombstone, not a removed row", "[core][store]") {
  TempDir dir;
  std::string school;
  auto s = test::open_store_with_school(dir.file("t.db"), school);
  auto id = s->create("meeting", Json{{"date", "2026-11-20"}, {"title", "Ressourceteam"}});
  REQUIRE(id.ok());
  REQUIRE(s->delete_record(*id).ok());
  auto r = s->get(*id);
  REQUIRE(r.ok());
  CHECK_FALSE(r->deleted.empty());
  CHECK(s->set(*id, "title", "x").error().code == ErrorCode::kDeleted);
  auto live = s->list("meeting");
  REQUIRE(live.ok());
  CHECK(live->empty());
}

TEST_CASE("dates and date-times are validated and normalised", "[core][schema]") {
  CHECK(is_valid_date("2024-02-29"));
  CHECK_FALSE(is_valid_date("2023-02-29"));
  CHECK_FALSE(is_valid_date("2026-13-01"));
  auto ms = parse_datetime_ms("2026-11-22T10:46:29+01:00");
  REQUIRE(ms.ok());
  CHECK(format_datetime_ms(*ms) == "2026-11-22T09:46:29Z");
  CHECK(format_datetime_ms(*parse_datetime_ms("1970-01-01T00:00:00.250Z")) == "1970-01-01T00:00:00.250Z");
  CHECK_FALSE(parse_datetime_ms("2026-11-22 25:00").ok());
  CHECK_FALSE(parse_datetime_ms("yesterday").ok());
}

TEST_CASE("UTF-8 validation rejects overlong, surrogate and truncated sequences", "[core][schema]") {
  CHECK(is_valid_utf8("æøå ÆØÅ 😀"));
  CHECK_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  CHECK_FALSE(is_valid_utf8("\xE6\xB0"));          // truncated
  CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  CHECK(utf8_length("æøå") == 3);
}
