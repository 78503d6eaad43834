// CommitQueue (server/include/tandem/server/commit_queue.hpp): how queued
// pushes are grouped for the commit thread. Deterministic: no server, no
// clock. What matters is who waits behind whom.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tandem/server/commit_queue.hpp"

using tandem::server::CommitQueue;

namespace {

using Queue = CommitQueue<std::string>;  // the job is a label

std::vector<std::string> labels(const std::vector<Queue::Entry>& group) {
  std::vector<std::string> out;
  for (const auto& e : group) out.push_back(e.job);
  return out;
}

void push(Queue& q, const std::string& school, std::uint64_t cost, const std::string& label) {
  q.push(Queue::Entry{school, cost, label});
}

}  // namespace

TEST_CASE("commit queue: light pushes of every school share one group", "[server][commit]") {
  Queue q;
  push(q, "A", 10, "a1");
  push(q, "B", 10, "b1");
  push(q, "A", 10, "a2");
  push(q, "C", 10, "c1");
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"a1", "b1", "c1", "a2"});
  CHECK(q.empty());
  CHECK(q.take_group(100).empty());
}

TEST_CASE(
    "commit queue: a heavy push is a group of its own, and another school's push waits "
    "for at most one of them",
    "[server][commit]") {
  Queue q;
  // School A has queued five pushes over the budget before B's light one.
  for (int i = 1; i <= 5; ++i) push(q, "A", 1000, "a" + std::to_string(i));
  push(q, "B", 5, "b1");
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"a1"});
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"b1"});
  // B pushes again while A's backlog waits: again behind one of A's.
  push(q, "B", 5, "b2");
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"a2"});
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"b2"});
  // Alone, A's backlog is committed in order.
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"a3"});
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"a4"});
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"a5"});
  CHECK(q.empty());
}

TEST_CASE("commit queue: a group stops at its budget, and the turn moves on", "[server][commit]") {
  Queue q;
  for (int i = 1; i <= 4; ++i) push(q, "A", 40, "a" + std::to_string(i));
  for (int i = 1; i <= 4; ++i) push(q, "B", 40, "b" + std::to_string(i));
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"a1", "b1"});
  // B starts the next group; a heavy push does not fit behind a light one
  // and starts the group after (C joined ahead of A, which started the last).
  push(q, "C", 500, "c1");
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"b2", "a2"});
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"c1"});
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"a3", "b3"});
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"b4", "a4"});
}

TEST_CASE(
    "commit queue: a school that pushes while another's backlog commits waits for the "
    "group in flight only",
    "[server][commit]") {
  Queue q;
  for (int i = 1; i <= 4; ++i) push(q, "A", 1000, "a" + std::to_string(i));
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"a1"});  // in flight
  for (int round = 1; round <= 3; ++round) {
    // B's push arrives while A's group commits: it starts the next group.
    push(q, "B", 5, "b" + std::to_string(round));
    CHECK(labels(q.take_group(100)) == std::vector<std::string>{"b" + std::to_string(round)});
    CHECK(labels(q.take_group(100)) == std::vector<std::string>{"a" + std::to_string(round + 1)});
  }
  CHECK(q.empty());
  // And A is not starved by newcomers: each school that joins gets one
  // group ahead of A, then A runs.
  for (int i = 5; i <= 6; ++i) push(q, "A", 1000, "a" + std::to_string(i));
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"a5"});
  push(q, "C", 1000, "c1");
  push(q, "D", 1000, "d1");
  push(q, "C", 1000, "c2");
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"c1"});
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"d1"});
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"a6"});
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"c2"});
}

TEST_CASE("commit queue: pushes put back go first, in their order", "[server][commit]") {
  Queue q;
  push(q, "A", 10, "a1");
  push(q, "B", 10, "b1");
  push(q, "A", 10, "a2");
  auto group = q.take_group(100);
  REQUIRE(labels(group) == std::vector<std::string>{"a1", "b1", "a2"});
  push(q, "C", 10, "c1");
  // The group ran only its first push; the rest goes back ahead of C.
  q.put_back(std::vector<Queue::Entry>(std::make_move_iterator(group.begin() + 1),
                                       std::make_move_iterator(group.end())));
  CHECK(q.size() == 3);
  CHECK(labels(q.take_group(15)) == std::vector<std::string>{"b1"});
  CHECK(labels(q.take_group(100)) == std::vector<std::string>{"a2", "c1"});
}
