// The C API's contract (tandem.h conventions) without a server: errors
// written only on failure with stable codes, NULL-safety, one free per
// allocation, host hooks reaching the core (clock, random, ctx destructor),
// code-point text positions, the transport callback's failures.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "tandem.h"
#include "cli_runner.hpp"

namespace tandem::test {
namespace {

struct Hooks {
  std::int64_t now = 1'790'000'000'000;  // 2026-09-21
  int freed = 0;
  int random_calls = 0;
};

std::int64_t hook_now(void* ctx) { return static_cast<Hooks*>(ctx)->now; }
void hook_free(void* ctx) { ++static_cast<Hooks*>(ctx)->freed; }
void hook_random(void* ctx, std::uint8_t* out, std::size_t n) {
  ++static_cast<Hooks*>(ctx)->random_calls;
  std::memset(out, 0xab, n);  // predictable: the site id shows it was used
}

tandem_host host_for(Hooks& hooks) {
  tandem_host h{};
  h.now_ms = hook_now;
  h.random_fill = hook_random;
  h.ctx = &hooks;
  h.ctx_free = hook_free;
  return h;
}

std::string take(char* s, const tandem_error* err = nullptr) {
  INFO((err != nullptr ? err->message : ""));
  REQUIRE(s != nullptr);
  std::string out(s);
  tandem_string_free(s);
  return out;
}

// A tablet that starts offline: its school record, made the default.
void give_school(tandem_store* s) {
  tandem_error err{};
  char* school = tandem_record_create(s, "school", R"({"name":"Skovbakkeskolen"})", &err);
  INFO(err.message);
  REQUIRE(school != nullptr);
  REQUIRE(tandem_store_set_default_school(s, school, &err));
  tandem_string_free(school);
}

// A store on `path` with the OS's random source (record ids must differ)
// and a default school.
tandem_store* open_with_school(const std::string& path, Hooks& hooks) {
  tandem_host host = host_for(hooks);
  host.random_fill = nullptr;
  tandem_error err{};
  tandem_store* s = tandem_store_open(path.c_str(), &host, &err);
  INFO(err.message);
  REQUIRE(s != nullptr);
  give_school(s);
  return s;
}

}  // namespace

TEST_CASE("the host's clock and random source reach the core, and its ctx is freed once", "[capi]") {
  TempDir dir;
  Hooks hooks;
  const tandem_host host = host_for(hooks);
  tandem_error err{};
  tandem_store* s = tandem_store_open(dir.file("a.db").c_str(), &host, &err);
  REQUIRE(s != nullptr);
  give_school(s);
  CHECK(take(tandem_store_site_id(s, &err)) == "babababababababa");  // 0xab bytes, low nibble first
  CHECK(hooks.random_calls > 0);
  const std::string id = take(tandem_record_create(s, "action", R"({"text":"Ring til PPR"})", &err));
  const std::string record = take(tandem_record_get(s, id.c_str(), &err));
  // The create's stamp carries the host's time.
  CHECK(record.find("\"created_ms\":" + std::to_string(hooks.now)) != std::string::npos);
  CHECK(hooks.freed == 0);
  tandem_store_close(s);
  CHECK(hooks.freed == 1);
}

TEST_CASE("a store that cannot open reports a code and still frees the host's ctx", "[capi]") {
  Hooks hooks;
  tandem_host host = host_for(hooks);
  tandem_error err{};
  CHECK(tandem_store_open("/nonexistent-dir/x/y.db", &host, &err) == nullptr);
  CHECK(err.code != TANDEM_OK);
  CHECK(std::strlen(err.message) > 0);
  CHECK(hooks.freed == 1);

  host.key_get = [](void*, const char*, size_t*) -> std::uint8_t* { return nullptr; };  // without put/erase
  TempDir dir;
  tandem_error err2{};
  CHECK(tandem_store_open(dir.file("b.db").c_str(), &host, &err2) == nullptr);
  CHECK(err2.code == TANDEM_E_INVALID_ARGUMENT);
  CHECK(hooks.freed == 2);

  tandem_host zone{};
  zone.time_zone = "Mars/Olympus";
  tandem_error err3{};
  CHECK(tandem_store_open(dir.file("c.db").c_str(), &zone, &err3) == nullptr);
  CHECK(err3.code == TANDEM_E_INVALID_ARGUMENT);
}

TEST_CASE("errors are written only on failure, with stable codes, and NULL is safe", "[capi]") {
  TempDir dir;
  tandem_error err{};
  tandem_store* s = tandem_store_open(dir.file("a.db").c_str(), nullptr, &err);
  REQUIRE(s != nullptr);
  give_school(s);
  tandem_error untouched{};
  untouched.code = static_cast<tandem_error_code>(777);
  std::strcpy(untouched.message, "sentinel");
  const std::string id = take(tandem_record_create(s, "action", R"({"text":"a"})", &untouched));
  CHECK(tandem_record_set(s, id.c_str(), "due", R"("2026-12-01")", &untouched));
  CHECK(untouched.code == 777);
  CHECK(std::string(untouched.message) == "sentinel");

  CHECK_FALSE(tandem_record_set(s, id.c_str(), "due", R"("2026-02-30")", &err));
  CHECK(err.code == TANDEM_E_INVALID_DATE);
  CHECK(std::string(tandem_error_code_name(err.code)) == "invalid_date");
  CHECK_FALSE(tandem_record_set(s, id.c_str(), "nope", "1", &err));
  CHECK(err.code == TANDEM_E_UNKNOWN_FIELD);
  CHECK(tandem_record_create(s, "spaceship", "{}", &err) == nullptr);
  CHECK(err.code == TANDEM_E_UNKNOWN_KIND);
  CHECK(tandem_record_create(s, "action", "[1,", &err) == nullptr);
  CHECK(err.code == TANDEM_E_INVALID_JSON);
  CHECK(tandem_record_get(s, nullptr, &err) == nullptr);
  CHECK(err.code == TANDEM_E_INVALID_ARGUMENT);
  CHECK(tandem_record_get(nullptr, "x", nullptr) == nullptr);  // NULL store, NULL err
  CHECK(tandem_store_outbox_size(nullptr, &err) == -1);
  CHECK(std::string(tandem_error_code_name(TANDEM_E_CANCELLED)) == "cancelled");
  CHECK(std::string(tandem_error_code_name(TANDEM_E_AMBIGUOUS)) == "ambiguous");
  tandem_string_free(nullptr);
  tandem_store_close(nullptr);
  tandem_transport_free(nullptr);
  tandem_cancel_token_free(nullptr);
  tandem_store_close(s);
}

TEST_CASE("text positions are code points", "[capi]") {
  TempDir dir;
  tandem_error err{};
  tandem_store* s = tandem_store_open(dir.file("a.db").c_str(), nullptr, &err);
  REQUIRE(s != nullptr);
  give_school(s);
  const std::string id = take(tandem_record_create(s, "action", R"({"text":"æøå🙂z"})", &err));
  REQUIRE(tandem_text_insert(s, id.c_str(), "text", 2, "X", &err));
  CHECK(take(tandem_text_get(s, id.c_str(), "text", &err)) == "æøXå🙂z");
  REQUIRE(tandem_text_delete(s, id.c_str(), "text", 4, 1, &err));  // the emoji: one code point
  CHECK(take(tandem_text_get(s, id.c_str(), "text", &err)) == "æøXåz");
  CHECK_FALSE(tandem_text_insert(s, id.c_str(), "text", 99, "!", &err));
  CHECK(err.code == TANDEM_E_INVALID_ARGUMENT);
  tandem_store_close(s);
}

TEST_CASE("merged texts: the accessor's shape, its errors, and confirming nothing", "[capi]") {
  // Two tablets' merges go through a server: tests/capi/c/story.c.
  TempDir dir;
  tandem_error err{};
  tandem_store* s = tandem_store_open(dir.file("a.db").c_str(), nullptr, &err);
  REQUIRE(s != nullptr);
  give_school(s);
  const std::string id = take(tandem_record_create(s, "action", R"({"text":"Læs højt"})", &err));
  CHECK(take(tandem_text_merged(s, id.c_str(), "text", &err), &err) ==
        R"({"by":[],"field":"text","merged":false})");
  CHECK_FALSE(tandem_text_confirm(s, id.c_str(), "text", &err));
  CHECK(err.code == TANDEM_E_NO_CONFLICT);
  CHECK(tandem_text_merged(s, id.c_str(), "due", &err) == nullptr);
  CHECK(err.code == TANDEM_E_WRONG_TYPE);
  CHECK(tandem_text_merged(s, id.c_str(), "nope", &err) == nullptr);
  CHECK(err.code == TANDEM_E_UNKNOWN_FIELD);
  CHECK(tandem_text_merged(s, "no-such-record", "text", &err) == nullptr);
  CHECK(err.code == TANDEM_E_NOT_FOUND);
  CHECK(tandem_text_merged(s, id.c_str(), nullptr, &err) == nullptr);
  CHECK(err.code == TANDEM_E_INVALID_ARGUMENT);
  CHECK_FALSE(tandem_text_confirm(s, nullptr, "text", nullptr));
  // An edit with nothing merged ships no acknowledgement: one change.
  const std::int64_t before = tandem_store_outbox_size(s, &err);
  REQUIRE(tandem_text_insert(s, id.c_str(), "text", 0, "Alle: ", &err));
  CHECK(tandem_store_outbox_size(s, &err) == before + 1);
  tandem_store_close(s);
}

TEST_CASE("the app's transport: failures, timeouts and an unenrolled device", "[capi]") {
  TempDir dir;
  tandem_error err{};
  tandem_store* s = tandem_store_open(dir.file("a.db").c_str(), nullptr, &err);
  REQUIRE(s != nullptr);
  static int freed = 0;
  freed = 0;
  tandem_transport* t = tandem_transport_new(
      [](void*, const char*, const char*, const char*, size_t, const char*, int64_t, tandem_http_response*,
         tandem_error_code* failure) {
        *failure = TANDEM_E_TIMEOUT;
        return false;
      },
      nullptr, [](void*) { ++freed; }, &err);
  REQUIRE(t != nullptr);
  // Not enrolled: refused before any request.
  tandem_sync_result result{};
  CHECK_FALSE(tandem_store_sync(s, t, nullptr, &result, &err));
  CHECK(err.code == TANDEM_E_UNAUTHORIZED);
  // Enrolling through a transport that times out: a timeout, nothing stored.
  CHECK(tandem_store_enroll(s, t, "http://127.0.0.1:9", "ABCD-EFGH", "tablet", &err) == nullptr);
  CHECK(err.code == TANDEM_E_TIMEOUT);
  CHECK(tandem_store_enroll_with(s, t, "http://127.0.0.1:9", "ABCD-EFGH", "tablet",
                                 TANDEM_LOCAL_RECORDS_MOVE, &err) == nullptr);
  CHECK(err.code == TANDEM_E_TIMEOUT);
  CHECK(tandem_store_enroll_with(s, t, "http://127.0.0.1:9", "ABCD-EFGH", "tablet", 7, &err) == nullptr);
  CHECK(err.code == TANDEM_E_INVALID_ARGUMENT);
  tandem_sync_options bad{};
  bad.deadline_ms = -1;
  CHECK_FALSE(tandem_store_sync(s, t, &bad, &result, &err));
  CHECK(err.code == TANDEM_E_INVALID_ARGUMENT);
  tandem_transport_free(t);
  CHECK(freed == 1);
  tandem_store_close(s);
}

TEST_CASE("the notebook through C: entries, summaries, names, overdue actions, local times, trees",
          "[capi][notebook]") {
  TempDir dir;
  Hooks hooks;
  hooks.now = 1'795'500'000'000;  // 2026-11-24 07:00 Copenhagen (winter time)
  tandem_store* s = open_with_school(dir.file("a.db"), hooks);
  tandem_error err{};
  const std::string anne = take(tandem_record_create(s, "person", R"({"name":"Anne Hansen","initials":"AH","role":"resource_person"})", &err));
  take(tandem_record_create(s, "person", R"({"name":"Anne Berg","initials":"AB","role":"teacher"})", &err));

  // Names: initials resolve; a shared first name is ambiguous, both listed.
  CHECK(take(tandem_reference_resolve(s, "person", "AH", &err)) == anne);
  CHECK(tandem_reference_resolve(s, "person", "Anne", &err) == nullptr);
  CHECK(err.code == TANDEM_E_AMBIGUOUS);
  const std::string both = take(tandem_reference_find(s, "person", "Anne", &err));
  CHECK(both.find("Anne Hansen") != std::string::npos);
  CHECK(both.find("Anne Berg") != std::string::npos);

  // Local times: 09:00 in Copenhagen is 08:00 UTC in winter, 07:00 in summer.
  std::int64_t winter = 0, summer = 0;
  REQUIRE(tandem_time_parse(s, "2026-11-30 09:00", &winter, &err));
  REQUIRE(tandem_time_parse(s, "2026-06-15 09:00", &summer, &err));
  CHECK(winter == 1'796'025'600'000);  // 2026-11-30T08:00:00Z
  CHECK(summer == 1'781'506'800'000);  // 2026-06-15T07:00:00Z
  CHECK(take(tandem_time_format(s, winter, &err)) == "2026-11-30 09:00");
  CHECK(take(tandem_time_format(s, summer, &err)) == "2026-06-15 09:00");

  // Overdue: due before today in the host's zone, on the host's clock.
  const std::string late = take(tandem_record_create(
      s, "action", (R"({"text":"Ring til PPR","due":"2026-11-20","tovholder":")" + anne + "\"}").c_str(), &err));
  take(tandem_record_create(s, "action", R"({"text":"Læs op","due":"2026-12-20"})", &err));
  const std::string overdue = take(tandem_actions_list(s, nullptr, true, &err));
  CHECK(overdue.find(late) != std::string::npos);
  CHECK(overdue.find("Læs op") == std::string::npos);
  CHECK(overdue.find("\"tovholder_name\":\"Anne Hansen (AH)\"") != std::string::npos);
  CHECK(take(tandem_actions_list(s, anne.c_str(), false, &err)).find("Læs op") == std::string::npos);
  hooks.now = 1'795'000'000'000;  // the clock goes back a week: nothing is overdue then
  CHECK(take(tandem_actions_list(s, nullptr, true, &err)) == "[]");

  // Entries and a summary; an entry breaking core's rules is refused.
  const std::string course =
      take(tandem_record_create(s, "course", R"({"kind":"observation","title":"3.a dansk"})", &err));
  const std::string session =
      take(tandem_record_create(s, "session", ("{\"course\":\"" + course + "\"}").c_str(), &err));
  tandem_entry e{};
  e.session = session.c_str();
  e.type = "tally";
  e.code = "Lec";
  e.interval = -1;
  e.count = 3;
  take(tandem_entry_record(s, &e, &err), &err);
  e.type = "note";
  e.code = nullptr;
  e.text = "Eleverne arbejder i grupper";
  take(tandem_entry_record(s, &e, &err), &err);
  e.type = "sticker";  // not an entry type: core's rule refuses it
  e.text = nullptr;
  CHECK(tandem_entry_record(s, &e, &err) == nullptr);
  CHECK(err.code != TANDEM_OK);
  const std::string summary = take(tandem_summary_session(s, session.c_str(), &err));
  CHECK(summary.find("Lec") != std::string::npos);
  const std::string tree = take(tandem_record_tree(s, course.c_str(), &err));
  CHECK(tree.find("\"entries\":2") != std::string::npos);
  tandem_store_close(s);
}

TEST_CASE("coding that checks itself reaches C: unknown codes, intervals, ends, titles", "[capi][rules]") {
  TempDir dir;
  Hooks hooks;
  tandem_store* s = open_with_school(dir.file("a.db"), hooks);
  tandem_error err{};
  const std::string course =
      take(tandem_record_create(s, "course", R"({"kind":"observation","title":"Fysik"})", &err), &err);
  const std::string session = take(
      tandem_record_create(s, "session",
                           ("{\"course\":\"" + course +
                            "\",\"template\":\"template_copus\",\"started_at\":\"2026-03-02T09:00:00Z\","
                            "\"ended_at\":\"2026-03-02T09:20:00Z\"}")
                               .c_str(),
                           &err),
      &err);
  tandem_entry e{};
  e.session = session.c_str();
  e.type = "tick";
  e.code = "I-lec";
  e.interval = 0;
  CHECK(tandem_entry_record(s, &e, &err) == nullptr);
  CHECK(err.code == TANDEM_E_INVALID_VALUE);
  CHECK(std::string(err.message).find("did you mean I-Lec?") != std::string::npos);
  e.code = "I-Lec";
  e.interval = -1;
  CHECK(tandem_entry_record(s, &e, &err) == nullptr);
  CHECK(err.code == TANDEM_E_INVALID_VALUE);
  e.interval = 9;
  take(tandem_entry_record(s, &e, &err), &err);
  CHECK_FALSE(tandem_record_set(s, session.c_str(), "ended_at", R"("2026-03-02T08:00:00Z")", &err));
  CHECK(err.code == TANDEM_E_INVALID_VALUE);
  CHECK_FALSE(tandem_record_set(s, course.c_str(), "title", R"("  ")", &err));
  CHECK(err.code == TANDEM_E_MISSING_FIELD);
  tandem_store_close(s);
}

}  // namespace tandem::test
