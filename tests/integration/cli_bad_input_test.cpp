// Bad input through the CLI: each mistake gets its stable error code and the
// right exit status, and the database is exactly as before: the same
// canonical dump (read in this process with Store::canonical_dump, the
// function `dump --json` prints; each test also compares the CLI's own dump at
// its end) and the same number of rows in the outbox and the change log,
// counted through an independent read-only SQLite connection.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"
#include "test_util.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/core/store.hpp"
#include "tandem/core/templates.hpp"

namespace {

using Json = nlohmann::json;
using tandem::test::CliDb;
using tandem::test::ProcessResult;

Json ok_json(const CliDb& db, const std::vector<std::string>& args) {
  const ProcessResult r = db.run_json(args);
  INFO("args: " << Json(args).dump(-1, ' ', false, Json::error_handler_t::replace)
                << "\nstdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return Json::parse(r.out);
}

struct Snapshot {
  std::string dump;
  long long outbox = 0;
  long long changes = 0;
  bool operator==(const Snapshot&) const = default;
};

// In-process, so that each check does not cost a process start.
Snapshot snapshot(const CliDb& db) {
  tandem::StoreOptions options;
  options.path = db.path();
  options.encryption = tandem::Encryption::kOff;  // made by the CLI: encrypted
  auto store = tandem::Store::open(options, tandem::test::encrypted_host());
  REQUIRE(store.ok());
  auto dump = (*store)->canonical_dump();
  REQUIRE(dump.ok());
  return {*dump, db.count_rows("outbox"), db.count_rows("changes")};
}

// A database with one of everything the bad inputs aim at.
struct World {
  CliDb db;
  std::string person, course, session, group, child, tmpl;

  std::string initial_dump;

  World() {
    ok_json(db, {"init", "--school-name", "Skovgårdsskolen"});
    person =
        ok_json(db, {"person", "create", "--name", "Åse", "--role", "resource_person"}).at("id");
    group = ok_json(db, {"group", "create", "--name", "3.a", "--grade", "3"}).at("id");
    child = ok_json(db, {"child", "create", "--pseudonym", "A.B.", "--group", group}).at("id");
    course = ok_json(db, {"course", "create", "--kind", "observation", "--title", "Observation 3.a",
                          "--tovholder", person})
                 .at("id");
    session = ok_json(db, {"session", "create", "--course", course, "--started_at",
                           "2026-03-02T09:00:00Z", "--interval_seconds", "120"})
                  .at("id");
    tmpl = ok_json(db, {"template", "create", "--name", "Egen", "--definition", "{}"}).at("id");
    initial_dump = cli_dump();
    CHECK(snapshot(db).dump == initial_dump);  // the CLI prints exactly canonical_dump()
  }

  std::string cli_dump() const {
    const ProcessResult d = db.run_json({"dump"});
    REQUIRE(d.exit_code == 0);
    return d.out;
  }

  // Runs `args` with --json; expects exit `exit_code`, error `code`, no change.
  void rejects(const std::vector<std::string>& args, const std::string& code, int exit_code = 1,
               const tandem::test::RunOptions& options = {}) {
    INFO("args: " << Json(args).dump(-1, ' ', false, Json::error_handler_t::replace));
    const Snapshot before = snapshot(db);
    REQUIRE(before.outbox > 0);
    const ProcessResult r = db.run_json(args, options);
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == exit_code);
    CHECK(r.err.empty());  // --json: JSON only, on stdout
    const Json j = Json::parse(r.out, nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    CHECK(j.at("error").at("code") == code);
    CHECK(j.at("error").at("message").is_string());
    CHECK(snapshot(db) == before);
    // The human form fails the same way, on stderr.
    const ProcessResult h = db.run(args, options);
    CHECK(h.exit_code == exit_code);
    CHECK(h.out.empty());
    CHECK(h.err.find(code) != std::string::npos);
    CHECK(snapshot(db) == before);
  }
};

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

TEST_CASE("unknown ids", "[cli][bad_input]") {
  World w;
  w.rejects({"show", "course_0000000000000000"}, "not_found");
  w.rejects({"set", "course_0000000000000000", "title", "x"}, "not_found");
  w.rejects({"add", "course_0000000000000000", "focus_areas", "reading"}, "not_found");
  w.rejects({"remove", "course_0000000000000000", "focus_areas", "reading"}, "not_found");
  w.rejects({"delete", "course_0000000000000000"}, "not_found");
  w.rejects({"purge", "course_0000000000000000"}, "not_found");
  w.rejects({"course", "update", "course_0000000000000000", "--title", "x"}, "not_found");
  w.rejects({"course", "show", w.session}, "not_found");  // exists, but is not a course
  w.rejects({"course", "delete", w.session}, "not_found");
  w.rejects({"course", "update", w.course, "--tovholder", "person_0000000000000000"}, "not_found");
  w.rejects({"record", "session_0000000000000000", "--note", "x"}, "not_found");
  w.rejects({"summary", "session_0000000000000000"}, "not_found");
  w.rejects({"summary", "--course", w.session}, "not_found");
  w.rejects({"show", "not an id at all"}, "not_found");
  CHECK(w.cli_dump() == w.initial_dump);
}

TEST_CASE("wrong enum values, types and references", "[cli][bad_input]") {
  World w;
  w.rejects({"course", "update", w.course, "--status", "done"}, "invalid_value");
  w.rejects({"course", "create", "--kind", "lecture", "--title", "x"}, "invalid_value");
  w.rejects({"new", "course", "kind=co_teaching", "title=x", "target=school"}, "invalid_value");
  w.rejects({"set", w.course, "focus_areas", "Not A Slug"}, "invalid_value");
  w.rejects({"add", w.course, "focus_areas", "unknown_area"}, "invalid_value");
  w.rejects({"course", "update", w.course, "--tovholder", w.group}, "invalid_value");
  w.rejects({"set", w.group, "grade", "tre"}, "wrong_type");
  w.rejects({"set", w.group, "grade", "3.5"}, "wrong_type");
  w.rejects({"action", "create", "--text", "x", "--done", "måske"}, "wrong_type");
  w.rejects({"add", w.course, "title", "x"}, "wrong_type");  // not a set field
  w.rejects({"record", w.session, "--tick", "I-Lec", "--interval", "two"}, "wrong_type");
  w.rejects({"record", w.session, "--rating", "R-Ro", "--value", "high"}, "wrong_type");
  w.rejects({"set", w.tmpl, "definition", "{not json"}, "invalid_json");
  // Missing required fields.
  w.rejects({"new", "course", "title=Uden art"}, "missing_field");
  w.rejects({"person", "create", "--name", "Uden rolle"}, "missing_field");
  w.rejects({"new", "entry", "type=note"}, "missing_field");
  // A multi-field update is all or nothing: the good field is not written either.
  w.rejects({"course", "update", w.course, "--title", "Nyt", "--status", "done"}, "invalid_value");
  w.rejects({"course", "update", w.course, "--goals", "Nye mål", "--start_date", "2026-13-01"},
            "invalid_date");
  CHECK(w.cli_dump() == w.initial_dump);
}

TEST_CASE("invalid dates and times", "[cli][bad_input]") {
  World w;
  w.rejects({"set", w.course, "start_date", "2026-02-30"}, "invalid_date");
  w.rejects({"set", w.course, "start_date", "2025-02-29"}, "invalid_date");
  w.rejects({"set", w.course, "start_date", "02-03-2026"}, "invalid_date");
  w.rejects({"course", "create", "--kind", "uiu", "--title", "x", "--end_date", "2026-04-31"},
            "invalid_date");
  w.rejects({"meeting", "create", "--date", "i morgen"}, "invalid_date");
  w.rejects({"set", w.session, "started_at", "2026-02-30T09:00:00Z"}, "invalid_date");
  w.rejects({"set", w.session, "started_at", "2026-03-02T25:00:00Z"}, "invalid_date");
  w.rejects({"record", w.session, "--note", "x", "--at", "2026-02-30T10:00:00Z"}, "invalid_date");
  w.rejects({"record", w.session, "--code", "I-Lec", "--at", "2026-03-02T09:00:00Z", "--end",
             "yesterday"},
            "invalid_date");
  // 2024 is a leap year: accepted.
  ok_json(w.db, {"set", w.course, "start_date", "2024-02-29"});
}

TEST_CASE("malformed UTF-8 in arguments", "[cli][bad_input][utf8]") {
  World w;
  const std::string bad = std::string("Gr\xf8") + "d";  // Latin-1 ø: not UTF-8
  const std::string overlong = "\xc0\xaf";
  const std::string surrogate = "\xed\xa0\x80";
  const std::string truncated = "abc\xe6";
  for (const std::string& s : {bad, overlong, surrogate, truncated}) {
    w.rejects({"new", "course", "kind=guidance", "title=" + s}, "invalid_utf8");
    w.rejects({"set", w.course, "title", s}, "invalid_utf8");
    w.rejects({"set", w.course, "goals", "ok " + s}, "invalid_utf8");
    w.rejects({"course", "update", w.course, "--title", s}, "invalid_utf8");
    w.rejects({"record", w.session, "--note", s}, "invalid_utf8");
    w.rejects({"add", w.course, "tags", s}, "invalid_utf8");
  }
  // In ids and field names they are simply unknown, and the JSON error stays valid UTF-8.
  w.rejects({"show", bad}, "not_found");
  w.rejects({"set", w.course, bad, "x"}, "unknown_field");
  w.rejects({"new", bad}, "unknown_kind");
  CHECK(w.cli_dump() == w.initial_dump);
}

TEST_CASE("oversize text", "[cli][bad_input]") {
  World w;
  const std::string max_title = repeat("ø", tandem::kMaxStringLen);  // limit counts code points
  ok_json(w.db, {"set", w.course, "title", max_title});
  w.rejects({"set", w.course, "title", max_title + "x"}, "too_long");
  w.rejects({"new", "course", "kind=guidance", "title=" + max_title + "å"}, "too_long");
  w.rejects({"person", "create", "--name", "Bo", "--role", "teacher", "--initials", "ABCDEFGHIJK"},
            "too_long");  // initials: at most 10
  w.rejects({"set", w.child, "pseudonym", repeat("x", 41)}, "too_long");
  // Codes: up to kMaxCodeLength code points (real GORP event names run past 64).
  ok_json(w.db, {"record", w.session, "--code", repeat("é", tandem::kMaxCodeLength)});
  w.rejects({"record", w.session, "--code", repeat("C", tandem::kMaxCodeLength + 1)}, "too_long");

  // Long text does not fit one argument: --from-file and stdin.
  const std::string path = w.db.dir().file("long.txt");
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    const std::string text = repeat("æ", tandem::kMaxTextLen + 1);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  w.rejects({"set", w.course, "goals", "--from-file", path}, "too_long");
  tandem::test::RunOptions stdin_text;
  stdin_text.stdin_data = repeat("å", tandem::kMaxTextLen + 1);
  w.rejects({"set", w.course, "goals", "--from-file", "-"}, "too_long", 1, stdin_text);
  w.rejects({"set", w.course, "goals", "--from-file", w.db.dir().file("missing.txt")}, "io_error");
  w.rejects({"set", w.course, "goals"}, "invalid_argument", 2);  // neither value nor file
}

TEST_CASE("stdin feeds a value at the limit", "[cli][bad_input]") {
  World w;
  tandem::test::RunOptions stdin_text;
  stdin_text.stdin_data = repeat("å", tandem::kMaxTextLen);
  const ProcessResult r = w.db.run_json({"set", w.course, "goals", "--from-file", "-"}, stdin_text);
  REQUIRE(r.exit_code == 0);
  const Json shown = ok_json(w.db, {"show", w.course});
  CHECK(shown.at("fields").at("goals") == stdin_text.stdin_data);
}

TEST_CASE("unknown fields and kinds", "[cli][bad_input]") {
  World w;
  w.rejects({"set", w.course, "titel", "x"}, "unknown_field");
  w.rejects({"new", "course", "kind=guidance", "title=x", "colour=red"}, "unknown_field");
  w.rejects({"add", w.course, "focus", "reading"}, "unknown_field");
  w.rejects({"remove", w.course, "members", "x"}, "unknown_field");
  w.rejects({"new", "lesson", "title=x"}, "unknown_kind");
  w.rejects({"list", "lessons"}, "unknown_kind");
  // The per-kind commands have no option for an unknown field: a usage error.
  w.rejects({"course", "update", w.course, "--colour", "red"}, "invalid_argument", 2);
  w.rejects({"lesson", "create"}, "invalid_argument", 2);
  CHECK(w.cli_dump() == w.initial_dump);
}

TEST_CASE("usage errors of record and summary change nothing", "[cli][bad_input]") {
  World w;
  w.rejects({"record", w.session}, "invalid_argument", 2);
  w.rejects({"record", w.session, "--note", "a", "--code", "b"}, "invalid_argument", 2);
  w.rejects({"record", w.session, "--tick", "I-Lec"}, "invalid_argument", 2);
  w.rejects({"record", w.session, "--rating", "R"}, "invalid_argument", 2);
  w.rejects({"record", w.session, "--note", "a", "--count", "2"}, "invalid_argument", 2);
  w.rejects({"summary"}, "invalid_argument", 2);
  w.rejects({"summary", w.session, "--course", w.course}, "invalid_argument", 2);
  CHECK(w.cli_dump() == w.initial_dump);
}

TEST_CASE("deleted and purged records refuse changes", "[cli][bad_input]") {
  World w;
  ok_json(w.db, {"delete", w.tmpl});
  w.rejects({"set", w.tmpl, "name", "x"}, "deleted");
  w.rejects({"delete", w.tmpl}, "deleted");
  ok_json(w.db, {"purge", w.child});
  w.rejects({"set", w.child, "pseudonym", "x"}, "purged");
  w.rejects({"purge", w.child}, "purged");
  w.rejects({"record", w.session, "--note", "om barnet", "--child", w.child}, "purged");
}

// Found by the bundle fuzzer: a value nested 100,000 levels deep made
// `changes import` overflow the stack (copying the parsed value). JSON from
// outside is now refused beyond kMaxJsonDepth levels, before it is parsed.
TEST_CASE("JSON nested too deep is refused, not a crash", "[cli][bad_input][json]") {
  World w;
  const std::size_t depth = 100'000;
  const std::string file = w.db.dir().file("deep.bundle");
  std::ofstream(file) << R"({"format":"tandem-bundle","version":1,"changes":[{"hlc":)"
                      << R"("01a0c4506c00-000001-f022000000000002","record":")" << w.course
                      << R"(","kind":"course","op":"set","field":"title","value":)"
                      << repeat("[", depth) << repeat("]", depth) << "}]}";
  w.rejects({"changes", "import", file}, "invalid_json");
  // A json field's value typed as an argument (Linux takes up to 128 KiB).
  w.rejects({"set", w.tmpl, "definition", repeat("[", 60'000) + repeat("]", 60'000)},
            "invalid_json");
  CHECK(w.cli_dump() == w.initial_dump);
}
