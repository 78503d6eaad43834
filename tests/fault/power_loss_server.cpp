// Power loss on the server: the embedded storage (in process, as
// tandem-server runs it: a writer connection with group commit and reader
// connections, all over PowerLossVfs) takes 100 pushes from three devices —
// course creates, title edits, now and then a purge (which also truncates the
// WAL). The power fails at the run's crash points (every sync, and the instant
// after each acknowledged push). After each failure the
// reopened storage passes integrity_check and holds exactly the first k
// pushes (k = those acknowledged, or one more): every table equal to what it
// was then, so no acknowledged push is lost and none is half there; each
// device's last push, sent again, is answered from the stored answer (never
// merged twice), the push in flight is committed or replayed as its presence
// says, and the storage keeps taking pushes.
#include <catch2/catch.hpp>
#include <future>
#include <random>

#include "cli_runner.hpp"
#include "db_inspect.hpp"
#include "fault_env.hpp"
#include "power_loss_driver.hpp"
#include "server_process.hpp"
#include "tandem/server/storage.hpp"
#include "tandem/server/stores.hpp"

namespace tandem::test {
namespace {

using server::DeviceRecord;
using server::MutationOutcome;
using server::MutationState;
using server::PushTransaction;
using server::ServerStorage;

constexpr int kPushes = 100;
constexpr int kDevices = 3;
constexpr const char* kTestName = "power loss: every sync point of 100 pushes on the server";

struct Push {
  std::size_t device = 0;
  std::int64_t mutation_id = 0;
  std::vector<Change> changes;
  std::string answer;  // what the mutation stored as its answer
};

Result<MutationOutcome> submit(ServerStorage& storage, const DeviceRecord& device, const Push& push,
                               const std::string& answer) {
  std::promise<Result<MutationOutcome>> done;
  storage.submit_mutation(
      device, push.mutation_id, "digest-" + std::to_string(push.mutation_id),
      push.changes.size(), [&](PushTransaction& txn) -> Result<std::string> {
        for (const auto& c : push.changes) {
          auto applied = txn.apply(c, c.to_json().dump());
          if (!applied) return std::move(applied).error();
        }
        return answer;
      },
      [&](Result<MutationOutcome> outcome) { done.set_value(std::move(outcome)); });
  return done.get_future().get();
}

class ServerWorkload final : public PowerLossWorkload {
 public:
  explicit ServerWorkload(std::uint64_t seed) : seed_(seed) {}

  void prepare(PowerLossVfs& vfs) override {
    storage_.reset();
    dir_ = std::make_unique<TempDir>();
    path_ = dir_->file("tandem-server.db");
    storage_ = open(vfs);
    auto school = storage_->create_school("Skovbakkeskolen");
    REQUIRE(school);
    school_ = school->id;
    auto person = storage_->add_person(school_, "Resource person", "resource_person", "");
    REQUIRE(person);
    devices_.clear();
    for (int i = 0; i < kDevices; ++i) {
      const std::string n = std::to_string(i);
      REQUIRE(storage_->add_enrollment_code("code-" + n, person->id, 0, 1LL << 50));
      auto e = storage_->enroll("code-" + n,
                                server::NewDevice{"dev_power" + n, "tablet " + n, "token-" + n}, 1);
      REQUIRE(e);
      devices_.push_back(e->device);
    }
    vfs.settle();
  }

  std::vector<std::string> run(PowerLossVfs& vfs) override {
    std::mt19937_64 rng(seed_);
    ChangeMaker maker;
    std::vector<Change> courses;
    std::int64_t next_id[kDevices] = {};
    pushes_.clear();
    std::vector<std::string> digests{content_digest(path_, vfs.name())};
    for (int k = 0; k < kPushes; ++k) {
      vfs.set_progress(k);
      Push push;
      push.device = rng() % kDevices;
      push.mutation_id = ++next_id[push.device];
      push.answer = "{\"push\":" + std::to_string(k) + "}";
      const int n = 1 + static_cast<int>(rng() % 3);
      for (int i = 0; i < n; ++i) {
        const auto pick = rng() % 12;
        if (pick < 6 || courses.empty()) {
          courses.push_back(maker.create_course(
              school_, "Kursus " + std::to_string(k) + std::string(rng() % 300, 'k')));
          push.changes.push_back(courses.back());
        } else if (pick < 11) {
          push.changes.push_back(maker.set_field(courses[rng() % courses.size()], "title",
                                                 "Titel " + std::to_string(k)));
        } else {
          push.changes.push_back(maker.op(courses[rng() % courses.size()], Op::kPurge));
        }
      }
      auto outcome = submit(*storage_, devices_[push.device], push, push.answer);
      INFO("push " << k << ": " << (outcome ? "" : outcome.error().message));
      REQUIRE(outcome);
      REQUIRE(outcome->state == MutationState::kCommitted);
      pushes_.push_back(std::move(push));
      digests.push_back(content_digest(path_, vfs.name()));
    }
    vfs.set_progress(kPushes);
    storage_.reset();  // drains and closes: sync points too
    return digests;
  }

  std::int64_t verify(PowerLossVfs& vfs, const CrashImage& image,
                      const std::vector<std::string>& digests) override {
    vfs.restore(image);
    storage_ = open(vfs);
    REQUIRE(integrity_check(path_, vfs.name()) == "ok");
    const std::int64_t k = matching_step(image, digests, content_digest(path_, vfs.name()));

    // Each device's last push held, sent again: the stored answer, not a
    // second merge.
    for (std::size_t d = 0; d < devices_.size(); ++d) {
      for (std::int64_t j = k - 1; j >= 0; --j) {
        const Push& last = pushes_[static_cast<std::size_t>(j)];
        if (last.device != d) continue;
        auto again = submit(*storage_, devices_[d], last, "{\"merged\":\"again\"}");
        INFO("device " << d << " resends push " << j);
        REQUIRE(again);
        CHECK(again->state == MutationState::kReplayed);
        CHECK(again->response == last.answer);
        break;
      }
    }
    // The push in flight, sent again as its device would: committed now if
    // it was lost, answered from the store if it made it.
    if (image.progress < kPushes) {
      const Push& flight = pushes_[static_cast<std::size_t>(image.progress)];
      auto again = submit(*storage_, devices_[flight.device], flight, flight.answer);
      REQUIRE(again);
      CHECK(again->state ==
            (k > image.progress ? MutationState::kReplayed : MutationState::kCommitted));
      CHECK(again->response == flight.answer);
    } else {
      Push more{0, 1'000'000, {ChangeMaker().create_course(school_, "after the reboot")}, "{}"};
      auto fresh = submit(*storage_, devices_[0], more, more.answer);
      REQUIRE(fresh);
      CHECK(fresh->state == MutationState::kCommitted);
    }
    storage_.reset();
    CHECK(integrity_check(path_, vfs.name()) == "ok");
    return k;
  }

 private:
  std::unique_ptr<ServerStorage> open(PowerLossVfs& vfs) {
    server::SqliteStorageOptions o;
    o.path = path_;
    o.vfs = vfs.name();
    auto s = server::open_sqlite_storage(o);
    INFO("open " << path_ << ": " << (s ? "" : s.error().message));
    REQUIRE(s);
    return std::move(*s);
  }

  std::uint64_t seed_;
  std::unique_ptr<TempDir> dir_;
  std::string path_;
  std::unique_ptr<ServerStorage> storage_;
  std::string school_;
  std::vector<DeviceRecord> devices_;
  std::vector<Push> pushes_;
};

}  // namespace

TEST_CASE(kTestName, "[sqlite-only][fault][power-loss]") {
  power_loss_test(
      "server", "power loss, server (100 pushes)",
      "0 acknowledged pushes lost, 0 half pushes, 0 merged twice on resend, integrity_check ok",
      kTestName, [](std::uint64_t seed) { return std::make_unique<ServerWorkload>(seed); });
}

}  // namespace tandem::test
