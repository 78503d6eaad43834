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

std::string take(char* s) {
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
  tandem_sync_options bad{};
  bad.deadline_ms = -1;
  CHECK_FALSE(tandem_store_sync(s, t, &bad, &result, &err));
  CHECK(err.code == TANDEM_E_INVALID_ARGUMENT);
  tandem_transport_free(t);
  CHECK(freed == 1);
  tandem_store_close(s);
}

}  // namespace tandem::test
