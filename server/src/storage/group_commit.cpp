// Group commit: see group_commit.hpp.
#include "storage/group_commit.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

#include "tandem/server/limits.hpp"

namespace tandem::server {

void CommitJob::answer() {
  if (write_done) {
    write_done(std::move(status));
  } else if (status) {
    done(std::move(outcome));
  } else {
    done(std::move(status).error());
  }
}

std::optional<MutationState> settled_mutation(std::int64_t last_id, std::string_view last_digest,
                                              std::int64_t id, std::string_view digest) {
  if (id < last_id) return MutationState::kStale;
  if (id == last_id) return last_digest == digest ? MutationState::kReplayed : MutationState::kReused;
  return std::nullopt;
}

void GroupCommit::submit_mutation(DeviceRecord device, std::int64_t mutation_id,
                                  std::string batch_digest, std::uint64_t cost, MutationFn fn,
                                  MutationDone done) {
  auto job = std::make_unique<CommitJob>();
  job->device = std::move(device);
  job->mutation_id = mutation_id;
  job->digest = std::move(batch_digest);
  job->fn = std::move(fn);
  job->done = std::move(done);
  std::string school = job->device.school;
  submit(std::move(school), cost, std::move(job));
}

void GroupCommit::submit_write(std::string school, std::uint64_t cost, WriteFn fn, WriteDone done) {
  auto job = std::make_unique<CommitJob>();
  job->write_fn = std::move(fn);
  job->write_done = std::move(done);
  submit(std::move(school), cost, std::move(job));
}

void GroupCommit::start(CommitFn commit) {
  commit_ = std::move(commit);
  thread_ = std::thread([this] { loop(); });
}

void GroupCommit::submit(std::string school, std::uint64_t cost, std::unique_ptr<CommitJob> job) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push(Queue::Entry{std::move(school), cost, std::move(job)});
      if (queue_.size() == 1) cv_.notify_one();
      return;
    }
  }
  job->status = make_error(ErrorCode::kServer, "the server is shutting down; retry shortly");
  job->answer();
}

void GroupCommit::touch(const std::string& device, std::int64_t at_ms) {
  {
    std::lock_guard lock(mu_);
    auto& seen = touches_[device];
    seen = std::max(seen, at_ms);
  }
  cv_.notify_one();
}

void GroupCommit::drain() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

// The commit thread: one group at a time, until drained.
void GroupCommit::loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty() || !touches_.empty(); });
    if (queue_.empty() && touches_.empty()) return;  // stopping, nothing left
    Batch batch = queue_.take_group(kCommitGroupBudget);
    Touches touches;
    touches.swap(touches_);
    lock.unlock();
    const std::size_t ran = commit_(batch, touches);
    for (std::size_t i = 0; i < ran; ++i) {
      // A callback that throws (out of memory) must not end the commit
      // thread; its request then goes unanswered and its connection closes.
      try {
        batch[i].job->answer();
      } catch (...) {
      }
    }
    // What the group did not reach goes back to the head of the queue.
    Batch rest(std::make_move_iterator(batch.begin() + static_cast<std::ptrdiff_t>(ran)),
               std::make_move_iterator(batch.end()));
    batch.clear();  // the callbacks' captures go before the next wait
    lock.lock();
    if (!rest.empty()) queue_.put_back(std::move(rest));
  }
}

}  // namespace tandem::server
