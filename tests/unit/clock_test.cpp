// The hybrid logical clock under wrong wall clocks (SYNC.md, Clock): it never
// goes backwards, across restarts too; no save fails because of the clock;
// refused stamps are withdrawn and re-stamped without changing any merge
// result. Record ids carry 64 unpredictable bits.
#include <catch2/catch.hpp>
#include <set>

#include "test_util.hpp"

namespace tandem::test {
namespace {

constexpr std::int64_t kTrueNow = 1'790'000'000'000;  // 2026-09
constexpr std::int64_t kDay = 24LL * 3600 * 1000;
constexpr std::int64_t kYear = 365 * kDay;

std::vector<std::string> outbox_stamps(Store& s) {
  auto out = s.outbox(1'000'000);
  REQUIRE(out.ok());
  std::vector<std::string> v;
  for (const auto& lc : *out) v.push_back(lc.change.id());
  return v;
}

}  // namespace

TEST_CASE("a clock reset to 1970 between true-clock edits refuses no save and the last edit wins",
          "[core][clock]") {
  TempDir dir;
  ManualClock wall(kTrueNow);
  std::string school;
  auto store = open_store_with_school(dir.file("t.db"), school, &wall);
  auto course = store->create("course", Json{{"kind", "co_teaching"}, {"title", "start"}});
  REQUIRE(course.ok());
  std::string last_stamp = store->clock().last().str();
  for (int i = 0; i < 12; ++i) {
    // Odd edits with a clock reset to 1970 (a flat battery), even ones with
    // the true clock, each in a freshly opened process.
    wall.set(i % 2 == 0 ? 1000 + i : kTrueNow + i * 1000);
    store.reset();
    store = open_store(dir.file("t.db"), &wall);
    const std::string title = "edit " + std::to_string(i);
    auto saved = store->set(*course, "title", title);
    INFO("edit " << i << " at wall " << wall.now_ms());
    REQUIRE(saved.ok());
    const std::string stamp = store->clock().last().str();
    CHECK(stamp > last_stamp);
    last_stamp = stamp;
  }
  auto rec = store->get(*course);
  REQUIRE(rec.ok());
  CHECK(rec->fields["title"] == "edit 11");
  CHECK(rec->conflicts.empty());
}

TEST_CASE("a stamp the log already holds is skipped, never a refused save", "[core][clock]") {
  TempDir dir;
  ManualClock wall(kTrueNow);
  std::string school;
  auto store = open_store_with_school(dir.file("t.db"), school, &wall);
  auto course = store->create("course", Json{{"kind", "observation"}, {"title", "a"}});
  REQUIRE(course.ok());
  for (int i = 0; i < 5; ++i) REQUIRE(store->set(*course, "title", "t" + std::to_string(i)).ok());
  // Move the clock below stamps it issued (what a lost clock row or a
  // withdrawal does): the next ticks repeat stamps that exist.
  const Hlc first = Hlc::parse(outbox_stamps(*store).front()).value();
  store->clock().restore(first.ms, first.counter);
  for (int i = 0; i < 10; ++i)
    REQUIRE(store->set(*course, "title", "again " + std::to_string(i)).ok());
  auto rec = store->get(*course);
  REQUIRE(rec.ok());
  CHECK(rec->fields["title"] == "again 9");
  CHECK(outbox_stamps(*store).size() == 17);  // school, course, 5 + 10 sets
}

TEST_CASE("withdrawn stamps: new stamps in the original order, merge results unchanged",
          "[core][clock][restamp]") {
  TempDir dir;
  ManualClock wall(kTrueNow);
  ManualClock other_wall(kTrueNow);
  std::string school;
  auto fast = open_store_with_school(dir.file("fast.db"), school, &wall);
  // What the server already has, stamped with true time (the floor).
  auto person = fast->create("person", Json{{"name", "Anna"}, {"role", "teacher"}});
  REQUIRE(person.ok());
  REQUIRE(fast->ack(outbox_stamps(*fast)).ok());
  const Hlc server_floor = fast->clock().last();

  // Then the clock jumps ten years ahead: offline work, all stamped there.
  wall.set(kTrueNow + 10 * kYear);
  auto course = fast->create("course", Json{{"kind", "co_teaching"},
                                            {"title", "Læseløft 4.b"},
                                            {"goals", "Alle læser"},
                                            {"focus_areas", Json::array({"relations"})}});
  REQUIRE(course.ok());
  REQUIRE(fast->set(*course, "title", "Læseløft 4.b og 4.c").ok());
  REQUIRE(fast->add(*course, "participants", *person).ok());
  REQUIRE(fast->text_insert(*course, "goals", 0, "Mål: ").ok());
  auto session = fast->create("session", Json{{"course", *course}, {"approach", "station"}});
  REQUIRE(session.ok());
  auto action = fast->create("action", Json{{"text", "ring til forældre"}});
  REQUIRE(action.ok());
  REQUIRE(fast->delete_record(*action).ok());
  const auto before_stamps = outbox_stamps(*fast);
  REQUIRE(before_stamps.size() == 7);
  auto before = fast->canonical_dump();
  REQUIRE(before.ok());

  // The server refused them; the clock is corrected (wall back to true time)
  // and the stamps are withdrawn above the floor.
  wall.set(kTrueNow + 60'000);
  const Hlc floor = std::max(server_floor, Hlc{wall.now_ms(), 0, std::string(16, '0')});
  auto renamed = fast->restamp_outbox_after(floor);
  REQUIRE(renamed.ok());
  REQUIRE(renamed->size() == 7);
  const auto after_stamps = outbox_stamps(*fast);
  REQUIRE(after_stamps.size() == 7);
  for (std::size_t i = 0; i < after_stamps.size(); ++i) {
    INFO(i);
    CHECK((*renamed)[i].old_hlc == before_stamps[i]);
    CHECK((*renamed)[i].new_hlc == after_stamps[i]);
    CHECK(after_stamps[i] > floor.str());
    const Hlc h = Hlc::parse(after_stamps[i]).value();
    CHECK(h.ms < kTrueNow + kDay);  // true time now, not ten years ahead
    if (i > 0) CHECK(after_stamps[i] > after_stamps[i - 1]);
  }
  // The clock goes on from the new stamps, not from the withdrawn ones.
  CHECK(fast->clock().last().str() == after_stamps.back());
  REQUIRE(fast->set(*course, "status", "active").ok());
  CHECK(Hlc::parse(outbox_stamps(*fast).back()).value().ms < kTrueNow + kDay);

  // Every value is what it was; and a replica that receives the re-stamped
  // log ends byte-identical (the rewritten state is the state of the
  // rewritten changes).
  auto rec = fast->get(*course);
  REQUIRE(rec.ok());
  CHECK(rec->fields["title"] == "Læseløft 4.b og 4.c");
  CHECK(rec->fields["goals"] == "Mål: Alle læser");
  CHECK(rec->fields["participants"] == Json::array({*person}));
  CHECK(rec->conflicts.empty());
  CHECK_FALSE(fast->get(*action)->deleted.empty());
  CHECK(fast->get(*session).ok());

  auto copy = open_store(dir.file("copy.db"), &other_wall);
  exchange(*fast, *copy);
  CHECK(*copy->canonical_dump() == *fast->canonical_dump());
  // The title's `seen` names the create's new stamp: no conflict anywhere.
  CHECK(copy->get(*course)->conflicts.empty());

  // Nothing above the floor left to withdraw: a second call renames nothing.
  auto again = fast->restamp_outbox_after(Hlc::parse(outbox_stamps(*fast).back()).value());
  REQUIRE(again.ok());
  CHECK(again->empty());
}

TEST_CASE("record ids: time-ordered, 64 unpredictable bits", "[core][ids]") {
  TempDir dir;
  ManualClock wall(kTrueNow);
  std::string school;
  auto store = open_store_with_school(dir.file("t.db"), school, &wall);
  std::set<std::string> randoms;
  std::string previous;
  for (int i = 0; i < 2000; ++i) {
    auto id = store->create("action", Json{{"text", "x"}});
    REQUIRE(id.ok());
    REQUIRE(id->rfind("action_", 0) == 0);
    const std::string tail = id->substr(7);
    REQUIRE(tail.size() == 26);  // 10 hex ms + 16 hex random
    CHECK(tail.substr(0, 10) >= previous.substr(0, std::min<std::size_t>(10, previous.size())));
    previous = tail;
    randoms.insert(tail.substr(10));
    if (i % 100 == 0) wall.advance(1);
  }
  CHECK(randoms.size() == 2000);
  // Not a counter: consecutive ids share no long common prefix of their
  // random part (a sequence from one starting point would).
  int sequential = 0;
  std::string last;
  for (int i = 0; i < 50; ++i) {
    auto id = store->create("action", Json{{"text", "y"}});
    const std::string r = id->substr(17);
    if (!last.empty() && r.substr(0, 12) == last.substr(0, 12)) ++sequential;
    last = r;
  }
  CHECK(sequential == 0);
}

TEST_CASE("purge removes the record's refused changes from the device too", "[core][purge]") {
  TempDir dir;
  ManualClock wall(kTrueNow);
  std::string school;
  const std::string canary = "CANARY-refused-Mikkel-4b-2f9c";
  {
    auto store = open_store_with_school(dir.file("t.db"), school, &wall);
    auto child = store->create("child", Json{{"pseudonym", "M.K."}});
    REQUIRE(child.ok());
    REQUIRE(store->set(*child, "pseudonym", canary).ok());
    auto out = store->outbox(10);
    REQUIRE(out.ok());
    const Change& refused = out->back().change;
    RejectedChange r;
    r.hlc = refused.id();
    r.record = refused.record;
    r.kind = refused.kind;
    r.op = "set";
    r.field = "pseudonym";
    r.error = make_error(ErrorCode::kForbidden, "not allowed");
    REQUIRE(store->record_rejected(r, refused).ok());
    REQUIRE(store->rejected()->size() == 1);
    REQUIRE(store->purge(*child).ok());
    CHECK(store->rejected()->empty());
  }
  CHECK(occurrences(dir.file("t.db"), canary) == 0);  // db, -wal, -journal
}

}  // namespace tandem::test
