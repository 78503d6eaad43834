// Replication follows visibility, the device's half: the real SyncEngine over
// real libcurl against a scripted /v1 server on loopback (HostileServer)
// that plays a school whose view of this device narrows and widens.
//  - pull.gone erases the records (0 canary bytes in db, -wal, -journal with
//    the file still open), keeps the others, and the new view is echoed;
//  - an unsent edit of a record that leaves the scope is pushed first, then
//    the record is erased; with push disabled nothing is erased or lost;
//  - pull.rewind moves the cursor back and the device pulls again from there.
#include <catch2/catch.hpp>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "hostile_server.hpp"
#include "sync_fixture.hpp"
#include "tandem/sync/protocol.hpp"
#include "test_util.hpp"

namespace tandem::test {
namespace {

const std::string kCanaryTitle = "CANARY-titel-Mikkel-6b2f";
const std::string kCanaryText = "CANARY-maal-ondt-i-maven-90ad";
const std::string kCanaryEdit = "CANARY-lokal-rettelse-1c4e";

// The school as the scripted server holds it: the author's changes in
// sequence order, which records this device may see at the current view,
// and what the next pull of an older view is told.
class ScriptedSchool {
 public:
  explicit ScriptedSchool(Store& author) {
    auto all = author.changes_since(0, 100000);
    REQUIRE(all.ok());
    for (auto& lc : *all) sequence_.push_back(std::move(lc.change));
  }

  // The view narrows: `records` leave the scope.
  void narrow(std::vector<std::string> records) {
    std::lock_guard<std::mutex> lock(mu_);
    ++view_;
    gone_ = std::move(records);
    for (const auto& r : gone_) hidden_.insert(r);
    rewind_ = false;
  }
  // The view widens: `records` enter the scope.
  void widen(const std::vector<std::string>& records) {
    std::lock_guard<std::mutex> lock(mu_);
    ++view_;
    for (const auto& r : records) hidden_.erase(r);
    gone_.clear();
    rewind_ = true;
  }
  void hide(const std::string& record) {
    std::lock_guard<std::mutex> lock(mu_);
    hidden_.insert(record);
  }

  std::string answer(const std::string& body) {
    std::lock_guard<std::mutex> lock(mu_);
    auto j = sync::parse_json(body);
    REQUIRE(j.ok());
    auto req = sync::SyncRequest::from_json(*j);
    REQUIRE(req.ok());
    requests.push_back(*req);
    sync::SyncResponse res;
    res.server_time_ms = SystemClock().now_ms();
    if (req->push) {
      sync::PushResponse push;
      push.mutation_id = req->push->mutation_id;
      for (const auto& c : req->push->changes) {
        pushed.push_back(c);
        push.results.push_back({c.id(), sync::ChangeStatus::kAccepted, std::nullopt, std::nullopt});
      }
      res.push = push;
    }
    if (req->pull) res.pull = pull(*req->pull);
    return res.to_json().dump();
  }

  std::vector<sync::SyncRequest> requests;  // as decoded, in arrival order
  std::vector<Change> pushed;               // every change pushed, in order

 private:
  sync::PullResponse pull(const sync::PullRequest& asked) {
    sync::PullResponse page;
    page.view = view_;
    if (asked.view < view_ && !gone_.empty()) {
      // Repeated until a pull carries this view.
      page.gone = gone_;
      page.cursor = asked.cursor;
      return page;
    }
    if (asked.view < view_ && rewind_) {
      page.rewind = true;
      page.cursor = 0;
      page.more = true;
      return page;
    }
    std::int64_t seq = asked.cursor;
    while (seq < static_cast<std::int64_t>(sequence_.size()) && page.changes.size() < asked.limit) {
      const Change& c = sequence_[static_cast<std::size_t>(seq)];
      ++seq;
      if (hidden_.count(c.record) == 0) page.changes.push_back({seq, c});
    }
    page.cursor = seq;
    page.more = seq < static_cast<std::int64_t>(sequence_.size());
    return page;
  }

  std::mutex mu_;
  std::vector<Change> sequence_;
  std::set<std::string> hidden_;
  std::int64_t view_ = 1;
  std::vector<std::string> gone_;
  bool rewind_ = false;
};

struct World {
  TempDir dir;
  std::string school;
  std::unique_ptr<Store> author = open_store_with_school(dir.file("author.db"), school);
  std::string course, keep;
  std::unique_ptr<ScriptedSchool> script;
  std::unique_ptr<HostileServer> server;
  std::unique_ptr<Tablet> tablet;

  World() {
    auto c = author->create("course", Json{{"kind", "co_teaching"}, {"title", kCanaryTitle}});
    REQUIRE(c.ok());
    course = *c;
    REQUIRE(author->text_insert(course, "goals", 0, kCanaryText).ok());
    auto k = author->create("course", Json{{"kind", "observation"}, {"title", "Bliver"}});
    REQUIRE(k.ok());
    keep = *k;
    script = std::make_unique<ScriptedSchool>(*author);
    server = std::make_unique<HostileServer>([this](const HostileRequest& req, HostileWire& wire) {
      wire.send(http_answer(200, script->answer(req.body)));
    });
    tablet = std::make_unique<Tablet>(dir.file("tablet.db"));
    REQUIRE(tablet->store().set_meta(sync::kMetaToken, "token").ok());
  }

  Result<sync::SyncSummary> sync(sync::EngineOptions options = Tablet::fast_options()) {
    options.pull_limit = 3;  // several pages
    return tablet->sync(server->url(), options);
  }

  // Canaries in the tablet's files (db, -wal, -journal), on disk and
  // decrypted (the tablet's files are encrypted): `tandem debug scan`.
  std::size_t canary_bytes() {
    std::size_t found = 0;
    for (const auto& canary : {kCanaryTitle, kCanaryText, kCanaryEdit}) found += occurrences(tablet->path(), canary);
    return found;
  }
};

}  // namespace

TEST_CASE("a record that leaves the device's scope is erased from its files and the view echoed",
          "[e2e][sync][visibility]") {
  World w;
  auto first = w.sync();
  REQUIRE(first.ok());
  REQUIRE(w.tablet->store().get(w.course).ok());
  CHECK(first->view == 1);

  w.script->narrow({w.course});
  auto second = w.sync();
  INFO((second ? "" : second.error().message));
  REQUIRE(second.ok());
  CHECK(second->erased == 1);
  CHECK(second->view == 2);
  CHECK(w.tablet->store().get(w.course).error().code == ErrorCode::kNotFound);
  auto keep = w.tablet->store().get(w.keep);
  REQUIRE(keep.ok());
  CHECK(keep->fields["title"] == "Bliver");
  // With the file still open, as on a device.
  CHECK(w.canary_bytes() == 0);
  CHECK(*w.tablet->store().meta(sync::kMetaView) == std::optional<std::string>("2"));

  auto third = w.sync();
  REQUIRE(third.ok());
  CHECK(third->erased == 0);  // the server stops naming them once view 2 is echoed
  std::vector<std::int64_t> views;
  for (const auto& r : w.script->requests) views.push_back(r.pull->view);
  CHECK(views.front() == 0);
  CHECK(views.back() == 2);
  CHECK(std::is_sorted(views.begin(), views.end()));
}

TEST_CASE("an unsent edit of a record leaving the scope is pushed first, then the record erased",
          "[e2e][sync][visibility]") {
  World w;
  REQUIRE(w.sync().ok());
  // Two edits wait: one of a record that stays, then one of the course.
  REQUIRE(w.tablet->store().set(w.keep, "title", "Bliver, rettet").ok());
  REQUIRE(w.tablet->store().set(w.course, "title", kCanaryEdit).ok());
  w.script->narrow({w.course});
  auto options = Tablet::fast_options();
  options.push_batch = 1;  // the course's edit goes in the second request

  SECTION("pushed, then erased") {
    auto s = w.sync(options);
    INFO((s ? "" : s.error().message));
    REQUIRE(s.ok());
    CHECK(s->erasure_waits == 1);  // the first answer named the course while its edit waited
    CHECK(s->erased == 1);
    CHECK(s->outbox_left == 0);
    REQUIRE(w.script->pushed.size() == 2);
    CHECK(w.script->pushed[1].record == w.course);
    CHECK(w.script->pushed[1].value == kCanaryEdit);
    CHECK(w.tablet->store().get(w.course).error().code == ErrorCode::kNotFound);
    CHECK(w.canary_bytes() == 0);
  }

  SECTION("with push disabled, nothing is erased and nothing lost") {
    options.push = false;
    auto s = w.sync(options);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == ErrorCode::kErasurePending);
    auto course = w.tablet->store().get(w.course);
    REQUIRE(course.ok());
    CHECK(course->fields["title"] == kCanaryEdit);
    CHECK(*w.tablet->store().outbox_size() == 2);
    CHECK(*w.tablet->store().meta(sync::kMetaView) == std::optional<std::string>("1"));
  }
}

TEST_CASE("a rewind moves the cursor back and the records that entered the scope arrive",
          "[e2e][sync][visibility]") {
  World w;
  w.script->hide(w.course);  // not visible at first
  auto first = w.sync();
  REQUIRE(first.ok());
  REQUIRE(w.tablet->store().get(w.keep).ok());
  CHECK(w.tablet->store().get(w.course).error().code == ErrorCode::kNotFound);
  const std::int64_t cursor = first->cursor;
  REQUIRE(cursor > 0);

  w.script->widen({w.course});
  const std::size_t before = w.script->requests.size();
  auto second = w.sync();
  INFO((second ? "" : second.error().message));
  REQUIRE(second.ok());
  CHECK(second->rewinds == 1);
  CHECK(second->view == 2);
  CHECK(second->cursor == cursor);
  auto course = w.tablet->store().get(w.course);
  REQUIRE(course.ok());
  CHECK(course->fields["title"] == kCanaryTitle);
  CHECK(course->fields["goals"] == kCanaryText);
  // The pull after the rewind starts from its cursor, carrying the new view.
  REQUIRE(w.script->requests.size() >= before + 2);
  CHECK(w.script->requests[before].pull->cursor == cursor);
  CHECK(w.script->requests[before + 1].pull->cursor == 0);
  CHECK(w.script->requests[before + 1].pull->view == 2);
}

}  // namespace tandem::test
