// Power loss on a tablet: a Store created on a fresh file makes 100 local
// edits (creates, field sets, text inserts, set adds, deletes, purges and
// multi-change transactions), each durable when its call returns. The power
// fails at the run's crash points — every sync, and the instant after each
// acknowledged edit — (PowerLossVfs: unsynced writes dropped, a
// random subset of pages kept, or sectors torn; files not yet in a synced
// directory gone). After each failure the reopened store passes
// integrity_check, holds every acknowledged edit and no part of any other
// (its whole content equals the content after exactly k edits), and keeps
// working: a new edit is saved and found after another reopen.
#include <catch2/catch.hpp>
#include <random>

#include "cli_runner.hpp"
#include "db_inspect.hpp"
#include "fault_env.hpp"
#include "power_loss_driver.hpp"
#include "test_util.hpp"

namespace tandem::test {
namespace {

constexpr int kEdits = 100;
constexpr const char* kTestName = "power loss: every sync point of a 100-edit tablet run";

class TabletWorkload final : public PowerLossWorkload {
 public:
  explicit TabletWorkload(std::uint64_t seed) : seed_(seed) {}

  void prepare(PowerLossVfs& vfs) override {
    dir_ = std::make_unique<TempDir>();
    path_ = dir_->file("tablet.db");
    vfs.settle();
  }

  std::vector<std::string> run(PowerLossVfs& vfs) override {
    std::mt19937_64 rng(seed_);
    courses_.clear();
    actions_.clear();
    school_.clear();
    std::vector<std::string> digests;
    // The file is created in the crash window too: its directory entry is
    // durable only once SQLite syncs the directory.
    vfs.set_progress(0);
    auto store = open(vfs);
    digests.push_back(content_digest(path_, vfs.name()));
    for (int k = 0; k < kEdits; ++k) {
      vfs.set_progress(k);
      const Status s = edit(*store, k, rng);
      INFO("edit " << k << ": " << (s.ok() ? "" : s.error().message));
      REQUIRE(s.ok());
      digests.push_back(content_digest(path_, vfs.name()));
    }
    vfs.set_progress(kEdits);
    store.reset();  // closing checkpoints: sync points too
    return digests;
  }

  std::int64_t verify(PowerLossVfs& vfs, const CrashImage& image,
                      const std::vector<std::string>& digests) override {
    vfs.restore(image);
    auto store = open(vfs);
    REQUIRE(integrity_check(path_, vfs.name()) == "ok");
    const std::int64_t k = matching_step(image, digests, content_digest(path_, vfs.name()));
    // The store keeps working: a new edit is saved and survives a reopen.
    auto id =
        k >= 1 ? store->create("course",
                               Json{{"school", school_}, {"kind", "guidance"}, {"title", "after"}})
               : store->create("school", Json{{"name", "Reopened"}});
    INFO("edit after the reboot: " << (id ? "" : id.error().message));
    REQUIRE(id.ok());
    store.reset();
    store = open(vfs);
    CHECK(store->get(*id).ok());
    store.reset();
    CHECK(integrity_check(path_, vfs.name()) == "ok");
    return k;
  }

 private:
  std::unique_ptr<Store> open(PowerLossVfs& vfs) {
    StoreOptions o;
    o.path = path_;
    o.clock = &clock_;
    o.vfs = vfs.name();
    auto s = Store::open(o);
    INFO("open " << path_ << ": " << (s ? "" : s.error().message));
    REQUIRE(s.ok());
    return std::move(*s);
  }

  // Edit k of the seeded script. Each is one durable call; kind 8 is one
  // transaction of three changes (all-or-nothing is visible there).
  Status edit(Store& store, int k, std::mt19937_64& rng) {
    clock_.advance(1000);
    const std::string n = std::to_string(k);
    if (k == 0) {
      auto id = store.create("school", Json{{"name", "Skovbakkeskolen"}});
      if (!id) return id.error();
      school_ = *id;
      return {};
    }
    const auto pick = [&rng](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
    const auto kind = courses_.empty() ? 0 : rng() % 11;
    switch (kind) {
      case 0:
      case 1: {
        auto id = store.create("course",
                               Json{{"school", school_},
                                    {"kind", "co_teaching"},
                                    {"title", "Læseløft " + n},
                                    {"goals", "Mål " + n + ": " + std::string(rng() % 600, 'g')}});
        if (!id) return id.error();
        courses_.push_back(*id);
        return {};
      }
      case 2:
      case 3:
        return store.set(pick(courses_), "title", "Titel " + n + std::string(rng() % 200, 't'));
      case 4:
      case 5:
        return store.text_insert(pick(courses_), "goals", 0, "Ændring " + n + " ");
      case 6:
        return store.add(pick(courses_), "tags", "tag" + std::to_string(rng() % 8));
      case 7: {
        auto id = store.create("action", Json{{"school", school_}, {"text", "Opfølgning " + n}});
        if (!id) return id.error();
        actions_.push_back(*id);
        return {};
      }
      case 8:
        return store.transaction([&]() -> Status {
          auto id = store.create("action", Json{{"school", school_}, {"text", "Aftale " + n}});
          if (!id) return id.error();
          actions_.push_back(*id);
          const std::string course = pick(courses_);
          TANDEM_TRY(store.set(course, "status", "active"));
          return store.text_insert(course, "goals", 0, "Aftalt " + n + " ");
        });
      case 9:
        if (actions_.empty()) return store.add(pick(courses_), "tags", "late");
        {
          const std::size_t at = rng() % actions_.size();
          const std::string victim = actions_[at];
          actions_.erase(actions_.begin() + static_cast<std::ptrdiff_t>(at));
          return store.delete_record(victim);
        }
      default: {
        // A purge now and then: secure_delete rewrites pages, and the
        // record's rows leave several tables at once.
        if (courses_.size() < 4) return store.set(pick(courses_), "status", "planned");
        const std::size_t at = rng() % courses_.size();
        const std::string victim = courses_[at];
        courses_.erase(courses_.begin() + static_cast<std::ptrdiff_t>(at));
        return store.purge(victim);
      }
    }
  }

  std::uint64_t seed_;
  std::unique_ptr<TempDir> dir_;
  std::string path_;
  ManualClock clock_;
  std::string school_;
  std::vector<std::string> courses_;
  std::vector<std::string> actions_;
};

}  // namespace

TEST_CASE(kTestName, "[sqlite-only][fault][power-loss]") {
  power_loss_test(
      "tablet", "power loss, tablet (100 edits)",
      "0 acknowledged edits lost, 0 half edits, integrity_check ok, store writable after reboot",
      kTestName, [](std::uint64_t seed) { return std::make_unique<TabletWorkload>(seed); });
}

}  // namespace tandem::test
