// Group commit: the queue of writes and the one commit thread that runs them.
//
// Pushes (and the other queued writes, submit_write) wait in a CommitQueue;
// the commit thread takes a group of them (schools take turns, a costly
// push goes alone: commit_queue.hpp) and hands it to the storage's commit
// function, which runs the whole group in ONE transaction (each job in its
// own savepoint, so one failing job rolls back alone) with one flush for
// all of them; then the thread tells each job its outcome. While a group
// commits, the next one gathers: throughput grows with the number of
// devices pushing at once, and a waiting push costs a queue entry, not a
// thread. Devices' last-seen times ride along with the next group (touch()):
// authentication never waits for a disk flush.
//
// Invariants: every job submitted is answered exactly once, by the commit
// thread or, once draining has begun, at once with kServer. The jobs of a
// group that the commit function did not reach (the group ran long) go back
// to the head of the queue. drain() answers everything queued before it
// returns. Nothing here knows a database: the commit function of each
// backend (SQLite, PostgreSQL) does the writing.
//
// Thread-safety: submit(), touch() and drain() from any thread; the commit
// function runs on the commit thread only, one group at a time.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tandem/server/commit_queue.hpp"
#include "tandem/server/storage.hpp"

namespace tandem::server {

// One queued write: a device's push (fn, done), or a submit_write() job
// (write_fn, write_done). The commit function sets status and outcome.
struct CommitJob {
  DeviceRecord device;
  std::int64_t mutation_id = 0;
  std::string digest;
  MutationFn fn;
  MutationDone done;
  MutationOutcome outcome;
  Status status;
  // Set for a submit_write() job instead of the mutation's fields.
  WriteFn write_fn;
  WriteDone write_done;

  // Hands the job its status (and a push its outcome) through its callback.
  void answer();
};

// The mutation-id rule (storage.hpp, MutationState), for every backend: what
// a push with `id` and `digest` is, given the device's last mutation id and
// digest. kStale (a lower id), kReused (the same id, another batch),
// kReplayed (a retry: the caller answers the stored response), or nullopt:
// a new mutation, to run.
std::optional<MutationState> settled_mutation(std::int64_t last_id, std::string_view last_digest,
                                              std::int64_t id, std::string_view digest);

class GroupCommit {
 public:
  using Queue = CommitQueue<std::unique_ptr<CommitJob>>;
  using Batch = std::vector<Queue::Entry>;
  using Touches = std::unordered_map<std::string, std::int64_t>;  // device -> last seen ms
  // Runs `batch` and `touches` in one transaction; returns how many of the
  // batch's jobs it ran (the first ones), each with its status and outcome.
  using CommitFn = std::function<std::size_t(Batch& batch, const Touches& touches)>;

  GroupCommit() = default;
  ~GroupCommit() { drain(); }
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Starts the commit thread. REQUIRES: once; `commit` outlives drain().
  void start(CommitFn commit);

  // Queues `job` under `school` with its estimated cost.
  void submit(std::string school, std::uint64_t cost, std::unique_ptr<CommitJob> job);
  // ServerStorage::submit_mutation and submit_write, for every backend.
  void submit_mutation(DeviceRecord device, std::int64_t mutation_id, std::string batch_digest,
                       std::uint64_t cost, MutationFn fn, MutationDone done);
  void submit_write(std::string school, std::uint64_t cost, WriteFn fn, WriteDone done);

  // Records that `device` was seen at `at_ms`, written with the next group
  // (the commit thread is woken for it if idle).
  void touch(const std::string& device, std::int64_t at_ms);

  // Refuses new jobs, lets the commit thread finish what is queued, and
  // joins it. Later calls return at once.
  void drain();

 private:
  void loop();

  CommitFn commit_;
  std::mutex mu_;  // queue_, touches_ and stopping_
  std::condition_variable cv_;
  Queue queue_;
  Touches touches_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tandem::server
