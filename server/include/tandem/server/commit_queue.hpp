// CommitQueue: the order in which queued pushes reach the commit thread.
//
// The server has one commit thread; every push waits in this queue and is
// merged in a commit group (one transaction, one flush for the group). So
// that one school's heavy pushes cannot hold up another school's sync, the
// queue keeps one FIFO per school and forms each group like this:
//  * the schools take turns: a group starts with the school whose turn it is
//    (it then goes to the back of the turn), and takes one push per school
//    per round, in turn order, for as long as the pushes fit the group's
//    budget (each push carries a cost estimated before it was queued);
//  * a push that costs more than the whole budget is a group of its own, and
//    only when its school's turn comes;
//  * pushes of one school keep their order.
// A school that had nothing queued joins the turn ahead of the school that
// started the last group. A push of another school therefore waits for the
// group being committed and then for at most one group started by each
// school ahead of it in the turn, each of them one push over the budget or
// within it — never for a backlog of one school: when only school A is
// busy, B's push waits for A's group in flight and then runs. (The commit thread may also end a
// group early when it runs long, and put back what it did not run: put_back.)
//
// Thread-safety: none; the storage guards it with its queue mutex.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tandem::server {

template <typename Job>
class CommitQueue {
 public:
  struct Entry {
    std::string school;
    std::uint64_t cost = 0;
    Job job;
  };

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  void push(Entry entry) {
    auto& q = queues_[entry.school];
    if (q.empty()) {
      // A school with nothing queued joins the turn ahead of the school that
      // started the last group (at the back, if it still has pushes): a
      // school with a backlog then runs its next group after the newcomer's,
      // not before. Only that one place is taken, so no school waits for
      // more than the schools queued ahead of it when its turn was last.
      auto at = turn_.end();
      if (!turn_.empty() && turn_.back() == last_started_) --at;
      turn_.insert(at, entry.school);
    }
    q.push_back(std::move(entry));
    ++size_;
  }

  // The next group (empty when nothing is queued), as described above.
  std::vector<Entry> take_group(std::uint64_t budget) {
    std::vector<Entry> group;
    if (turn_.empty()) return group;
    const std::vector<std::string> order(turn_.begin(), turn_.end());
    std::uint64_t used = 0;
    bool full = false;
    for (bool progress = true; progress && !full;) {
      progress = false;
      for (const std::string& school : order) {
        auto& q = queues_[school];
        if (q.empty()) continue;
        const std::uint64_t cost = q.front().cost;
        if (!group.empty() && cost > budget - used) continue;
        group.push_back(std::move(q.front()));
        q.pop_front();
        --size_;
        progress = true;
        if (cost > budget) {  // first of the group: alone
          full = true;
          break;
        }
        used += cost;
      }
    }
    // The next group starts with the next school.
    last_started_ = turn_.front();
    turn_.push_back(turn_.front());
    turn_.pop_front();
    forget_empty();
    return group;
  }

  // Entries of a group that were not run, in group order: they go back to the
  // head of their schools' queues, and those schools take the next turns.
  void put_back(std::vector<Entry> entries) {
    for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
      const std::string school = it->school;
      queues_[school].push_front(std::move(*it));
      ++size_;
      std::erase(turn_, school);
      turn_.push_front(school);
    }
  }

 private:
  void forget_empty() {
    std::erase_if(turn_, [&](const std::string& school) { return queues_[school].empty(); });
    std::erase_if(queues_, [](const auto& kv) { return kv.second.empty(); });
  }

  std::unordered_map<std::string, std::deque<Entry>> queues_;  // by school
  std::deque<std::string> turn_;  // schools with queued pushes, whose turn is first
  std::string last_started_;      // the school that started the last group
  std::size_t size_ = 0;
};

}  // namespace tandem::server
