// Wrong tablet clocks against the real server and the real engine (SYNC.md,
// Clock): work stamped with a wrong clock is refused, never lost; it is
// re-stamped in its original order and reaches every device; a record never
// reaches another device without its create; one forged server time does not
// move the device's clock.
#include <catch2/catch.hpp>

#include "sync_fixture.hpp"
#include "test_util.hpp"

namespace tandem::test {
namespace {

constexpr std::int64_t kDay = 24LL * 3600 * 1000;
constexpr std::int64_t kYear = 365 * kDay;

std::int64_t true_now() { return SystemClock().now_ms(); }

// A server answer with its time moved by `shift_ms` (a forged answer over
// plain HTTP).
Result<sync::HttpResponse> forge_time(Result<sync::HttpResponse> real, std::int64_t shift_ms) {
  if (!real) return real;
  auto j = nlohmann::json::parse(real->body, nullptr, false);
  if (j.is_object() && j.contains("server_time_ms")) {
    j["server_time_ms"] = j["server_time_ms"].get<std::int64_t>() + shift_ms;
    real->body = j.dump();
  }
  return real;
}

}  // namespace

TEST_CASE("a tablet a year fast: its offline work is re-stamped and reaches the school, in order",
          "[e2e][sync][clock]") {
  SyncWorld world;
  TempDir dir;
  ManualClock tablet_clock(true_now());
  Tablet a(dir.file("a.db"), &tablet_clock);
  Tablet b(dir.file("b.db"));
  world.enroll(a);
  b.enroll(world.base_url(), world.code_for(world.add_person("Bo", "resource_person")));
  REQUIRE(a.sync(world.base_url())->complete);

  tablet_clock.advance(kYear);  // the clock jumps after enrolment
  auto course = a.store().create("course", Json{{"kind", "co_teaching"}, {"title", "Læseløft"}});
  REQUIRE(course.ok());
  REQUIRE(a.store().set(*course, "status", "active").ok());
  auto action = a.store().create("action", Json{{"text", "skrevet med forkert ur"}});
  REQUIRE(action.ok());
  REQUIRE(a.store().clock().last().ms > true_now() + kYear - kDay);

  auto inner = curl_to(world.base_url());
  ScriptedTransport t(*inner);
  auto r = a.sync(t);
  REQUIRE(r.ok());
  CHECK(r->complete);
  CHECK(r->clock_refused == 3);
  CHECK(r->restamped == 3);
  CHECK(r->accepted == 3);
  CHECK(r->rejected == 0);
  CHECK(r->clock_wrong);
  CHECK(r->clock_corrected_now);
  CHECK(r->clock_offset_ms < -kYear + 60'000);
  CHECK(a.outbox_size() == 0);
  CHECK(a.store().rejected()->empty());
  // Refused, confirmed with a pull only, then sent again re-stamped.
  REQUIRE(t.bodies.size() == 3);
  CHECK(nlohmann::json::parse(t.bodies[1]).contains("push") == false);
  CHECK(t.bodies[2].find("Læseløft") != std::string::npos);
  // The clock goes on from server time, not from the withdrawn stamps.
  CHECK(std::llabs(a.store().clock().last().ms - true_now()) < 60'000);

  REQUIRE(b.sync(world.base_url())->complete);
  auto got = b.store().get(*course);
  REQUIRE(got.ok());
  CHECK(got->fields["title"] == "Læseløft");
  CHECK(got->fields["kind"] == "co_teaching");
  CHECK(got->fields["status"] == "active");
  CHECK(b.store().get(*action).ok());
  CHECK(a.dump() == b.dump());

  // Later writes, also after a restart, carry corrected stamps.
  a.reopen();
  REQUIRE(a.store().set(*course, "title", "Læseløft 4.b").ok());
  CHECK(std::llabs(a.store().clock().last().ms - true_now()) < 60'000);
  auto r2 = a.sync(world.base_url());
  REQUIRE(r2.ok());
  CHECK(r2->accepted == 1);
  CHECK(r2->clock_refused == 0);
  REQUIRE(b.sync(world.base_url())->complete);
  CHECK(a.dump() == b.dump());
}

TEST_CASE("a change whose create the server does not have is refused, kept, and sent after it",
          "[e2e][sync][clock]") {
  SyncWorld world;
  TempDir dir;
  Tablet a(dir.file("a.db"));
  Tablet b(dir.file("b.db"));
  world.enroll(a);
  b.enroll(world.base_url(), world.code_for(world.add_person("Bo", "resource_person")));
  auto course = a.store().create("course", Json{{"kind", "observation"}, {"title", "Trivsel"}});
  REQUIRE(course.ok());
  REQUIRE(a.store().set(*course, "status", "planned").ok());
  // The first push loses its create on the way: only the set arrives.
  auto real = curl_to(world.base_url());
  ScriptedTransport t(*real);
  t.before = [](int call, sync::HttpRequest& request) {
    if (call != 1) return;
    auto j = nlohmann::json::parse(request.body);
    auto& changes = j["push"]["changes"];
    REQUIRE(changes.size() == 2);
    REQUIRE(changes[0]["op"] == "create");
    changes.erase(changes.begin());
    request.body = j.dump();
  };
  auto r = a.sync(t);
  REQUIRE(r.ok());
  CHECK(r->complete);
  REQUIRE(t.responses.size() >= 2);
  const auto first = nlohmann::json::parse(t.responses[0]);
  REQUIRE(first["push"]["results"].size() == 1);
  CHECK(first["push"]["results"][0]["status"] == "rejected");
  CHECK(first["push"]["results"][0]["error"]["code"] == "not_found");
  CHECK(r->rejected == 0);
  CHECK(r->accepted == 2);
  CHECK(a.outbox_size() == 0);
  // The school never saw a course without its create.
  REQUIRE(b.sync(world.base_url())->complete);
  auto got = b.store().get(*course);
  REQUIRE(got.ok());
  CHECK(got->fields["kind"] == "observation");
  CHECK(got->fields["title"] == "Trivsel");
  CHECK(got->fields["status"] == "planned");
  CHECK(a.dump() == b.dump());
}

TEST_CASE("one forged server time does not move the clock, the next edit has the true time",
          "[e2e][sync][clock]") {
  SyncWorld world;
  TempDir dir;
  Tablet a(dir.file("a.db"));
  world.enroll(a);
  REQUIRE(a.sync(world.base_url())->complete);
  auto course = a.store().create("course", Json{{"kind", "observation"}, {"title", "Trivsel"}});
  REQUIRE(course.ok());

  auto real = curl_to(world.base_url());
  ScriptedTransport forged(*real);
  forged.after = [](int, Result<sync::HttpResponse> out) {
    return forge_time(std::move(out), 10 * kYear);
  };
  auto r = a.sync(forged);
  REQUIRE(r.ok());
  CHECK(r->complete);
  CHECK(r->clock_correction_ms == 0);
  REQUIRE(r->clock_offset_pending_ms);  // measured, not applied
  CHECK(*r->clock_offset_pending_ms > 9 * kYear);

  REQUIRE(a.store().set(*course, "title", "Trivsel i 3.a").ok());
  CHECK(std::llabs(a.store().clock().last().ms - true_now()) < 60'000);
  a.reopen();
  REQUIRE(a.store().set(*course, "status", "active").ok());
  CHECK(std::llabs(a.store().clock().last().ms - true_now()) < 60'000);

  // The true server's next answer disagrees with the forged one: forgotten.
  auto r2 = a.sync(world.base_url());
  REQUIRE(r2.ok());
  CHECK(r2->complete);
  CHECK_FALSE(r2->clock_offset_pending_ms);
  CHECK(r2->clock_correction_ms == 0);
  CHECK(r2->accepted == 2);
}

TEST_CASE("a time forged twice in a row is adopted, yet loses nothing once the true server answers",
          "[e2e][sync][clock]") {
  SyncWorld world;
  TempDir dir;
  Tablet a(dir.file("a.db"));
  Tablet b(dir.file("b.db"));
  world.enroll(a);
  b.enroll(world.base_url(), world.code_for(world.add_person("Bo", "resource_person")));
  auto real = curl_to(world.base_url());
  ScriptedTransport forged(*real);
  forged.after = [](int, Result<sync::HttpResponse> out) {
    return forge_time(std::move(out), 10 * kYear);
  };
  REQUIRE(a.sync(forged).ok());
  auto adopted = a.sync(forged);
  REQUIRE(adopted.ok());
  CHECK(adopted->clock_correction_ms > 9 * kYear);  // two answers agreed

  auto course = a.store().create("course", Json{{"kind", "guidance"}, {"title", "Vejledning"}});
  REQUIRE(course.ok());
  REQUIRE(a.store().set(*course, "status", "planned").ok());
  CHECK(a.store().clock().last().ms > true_now() + 9 * kYear);

  auto r = a.sync(world.base_url());
  REQUIRE(r.ok());
  CHECK(r->complete);
  CHECK(r->clock_correction_ms == 0);
  CHECK(r->restamped == 2);
  CHECK(a.outbox_size() == 0);
  CHECK(std::llabs(a.store().clock().last().ms - true_now()) < 60'000);
  REQUIRE(b.sync(world.base_url())->complete);
  CHECK(b.store().get(*course)->fields["status"] == "planned");
  CHECK(a.dump() == b.dump());
}

TEST_CASE("a tablet reset to 1970 keeps its stamps after the true ones and learns the offset",
          "[e2e][sync][clock]") {
  SyncWorld world;
  TempDir dir;
  ManualClock tablet_clock(true_now());
  Tablet a(dir.file("a.db"), &tablet_clock);
  Tablet b(dir.file("b.db"));
  world.enroll(a);
  b.enroll(world.base_url(), world.code_for(world.add_person("Bo", "resource_person")));
  auto course = a.store().create("course", Json{{"kind", "observation"}, {"title", "før"}});
  REQUIRE(course.ok());
  REQUIRE(a.sync(world.base_url())->complete);
  REQUIRE(b.sync(world.base_url())->complete);

  tablet_clock.set(86'400'000);  // 2 January 1970: a flat battery
  a.reopen();
  for (int i = 0; i < 6; ++i) {
    REQUIRE(a.store().set(*course, "title", "a" + std::to_string(i)).ok());
    REQUIRE(a.sync(world.base_url()).ok());
    REQUIRE(b.sync(world.base_url()).ok());
    REQUIRE(b.store().set(*course, "title", "b" + std::to_string(i)).ok());
    REQUIRE(b.sync(world.base_url()).ok());
    REQUIRE(a.sync(world.base_url()).ok());
  }
  CHECK(a.store().get(*course)->fields["title"] == "b5");
  CHECK(b.store().get(*course)->fields["title"] == "b5");
  CHECK(a.store().get(*course)->conflicts.empty());
  // It has learned that its clock is behind and stamps with server time.
  CHECK(a.clock().offset_ms() > 50 * kYear);
  REQUIRE(a.store().set(*course, "title", "sidst").ok());
  CHECK(std::llabs(a.store().clock().last().ms - true_now()) < 60'000);
  REQUIRE(a.sync(world.base_url())->complete);
  REQUIRE(b.sync(world.base_url())->complete);
  CHECK(a.dump() == b.dump());
  CHECK(b.store().get(*course)->fields["title"] == "sidst");
}

TEST_CASE("a device whose clock is fixed stops applying the old offset before it syncs again",
          "[e2e][sync][clock]") {
  SyncWorld world;
  TempDir dir;
  ManualClock tablet_clock(86'400'000);  // reset to 1970 before it ever synced
  Tablet a(dir.file("a.db"), &tablet_clock);
  world.enroll(a);
  REQUIRE(a.sync(world.base_url()).ok());
  REQUIRE(a.clock().offset_ms() > 50 * kYear);  // learned: the clock is behind

  // The user sets the clock right; the app starts again, offline.
  tablet_clock.set(true_now());
  a.reopen();
  CHECK(a.clock().offset_ms() == 0);
  auto course =
      a.store().create("course", Json{{"kind", "observation"}, {"title", "efter urskift"}});
  REQUIRE(course.ok());
  CHECK(std::llabs(a.store().clock().last().ms - true_now()) < 60'000);
  auto r = a.sync(world.base_url());
  REQUIRE(r.ok());
  CHECK(r->complete);
  CHECK(r->clock_refused == 0);
  CHECK(r->restamped == 0);
  CHECK_FALSE(r->clock_wrong);

  // A clock still wrong keeps its offset across restarts.
  tablet_clock.set(86'400'000 + 3'600'000);
  a.reopen();
  REQUIRE(a.sync(world.base_url()).ok());
  REQUIRE(a.sync(world.base_url()).ok());
  REQUIRE(a.clock().offset_ms() > 50 * kYear);
  a.reopen();
  CHECK(a.clock().offset_ms() > 50 * kYear);
}

}  // namespace tandem::test
