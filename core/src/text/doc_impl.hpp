// Private state of tandem::text::Document (see sequence.hpp for the model).
//
// Invariants:
//  * tree_ holds every integrated item exactly once, in document order.
//  * index_[a] maps the first seq of every run of agent a to that run; the
//    ranges [seq, seq + len) of one agent never overlap. Runs only grow at
//    their end or are split, so a run's key never changes.
//  * next_seq_[a] is above every seq of agent a that is integrated or pending.
//  * every origin of every integrated run is itself integrated.
//  * pending_ holds inserts that miss an origin; each live one is registered
//    in waiting_ under one id it misses, and in pending_keys_ (for dedup).
//  * pending_dels_[a] is the set of ids of agent a that some delete targeted
//    before they were integrated, as disjoint, non-adjacent intervals
//    [start, end). None of them is integrated: integrating an id removes it
//    from the set and deletes it at once. Deletes are idempotent, so keeping
//    the union (not the individual ops) is exact.
// Thread-safety: none (see Document).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "tandem/core/change.hpp"
#include "tandem/core/error.hpp"
#include "tandem/core/text/sequence.hpp"
#include "text/run_tree.hpp"

namespace tandem::text::detail {

// Ids stay below 2^53 so that every JSON implementation keeps them exact.
inline constexpr std::uint64_t kMaxSeq = std::uint64_t{1} << 53;
inline constexpr std::size_t kMaxAgentBytes = 64;
// Visible runs hold at most this much text in memory (longer ones are kept as
// several runs), so that an edit inside a run copies a bounded amount.
inline constexpr std::size_t kMaxRunBytes = 1024;

// 1..64 printable ASCII characters, no spaces.
bool valid_agent(std::string_view agent);

// An op as read from JSON, before agents are interned. Views point into the
// Json it was parsed from.
struct WireId {
  std::string_view agent;
  std::uint64_t seq = 0;
  bool none = true;
};
struct WireRange {
  std::string_view agent;
  std::uint64_t seq = 0;
  std::uint64_t len = 0;
};
struct WireOp {
  bool is_insert = true;
  WireId id;  // insert
  WireId left;
  WireId right;
  std::string_view text;
  std::uint64_t len = 0;
  std::vector<WireRange> ranges;  // delete
};

// Validates `ops` (one op object or an array of them) completely.
Status parse_ops(const Json& ops, std::vector<WireOp>* out);

// An insert or a delete of one id range, with interned agents.
struct InsertOp {
  std::uint32_t agent = kNoAgent;
  std::uint64_t seq = 0;
  std::uint64_t len = 0;
  ItemId left;
  ItemId right;
  std::string text;
};
struct DeleteOp {
  std::uint32_t agent = kNoAgent;
  std::uint64_t seq = 0;
  std::uint64_t len = 0;
};
struct PendingInsert {
  bool live = false;
  InsertOp op;
};

}  // namespace tandem::text::detail

namespace tandem::text {

struct Document::Impl {
  using ItemId = detail::ItemId;
  using Run = detail::Run;

  detail::RunTree tree_;
  std::vector<std::string> agents_;                              // index -> name
  std::map<std::string, std::uint32_t, std::less<>> agent_ids_;  // name -> index
  std::vector<std::map<std::uint64_t, Run*>> index_;             // per agent: seq -> run
  std::vector<std::uint64_t> next_seq_;                          // per agent
  std::uint32_t last_agent_ = detail::kNoAgent;                  // intern() cache

  std::vector<detail::PendingInsert> pending_;
  std::vector<std::size_t> free_slots_;
  std::multimap<std::pair<std::uint32_t, std::uint64_t>, std::size_t> waiting_;
  std::set<std::tuple<std::uint32_t, std::uint64_t, std::uint64_t>> pending_keys_;
  std::size_t live_pending_ = 0;                                      // live entries of pending_
  std::vector<std::map<std::uint64_t, std::uint64_t>> pending_dels_;  // per agent
  std::size_t pending_del_ranges_ = 0;
  std::vector<std::size_t> ready_;  // woken pending slots, processed by drain()

  std::uint32_t intern(std::string_view agent);
  // The run holding `id` and the offset in it, or {nullptr, 0}.
  std::pair<Run*, std::uint64_t> lookup(ItemId id) const;
  bool known(ItemId id) const { return id.none() || lookup(id).first != nullptr; }
  // First seq > seq of a known run of `agent`, or kMaxSeq.
  std::uint64_t next_known_start(std::uint32_t agent, std::uint64_t seq) const;
  Run* split_indexed(Run* r, std::uint64_t k);
  void mark_deleted(Run* r);

  // Links a new run after `after` (or extends `after` when it continues it).
  void place(Run* after, std::uint32_t agent, std::uint64_t seq, std::uint64_t len, ItemId left,
             ItemId right, std::string_view text);
  // YATA/YjsMod integration of a remote run whose origins are known.
  void integrate(std::uint32_t agent, std::uint64_t seq, std::uint64_t len, ItemId left,
                 ItemId right, std::string_view text);

  // Remote ops: apply what can be applied now, buffer the rest.
  void submit_insert(detail::InsertOp op);
  void submit_delete(const detail::DeleteOp& op);
  // Deletes the known ids [seq, end) of `agent` (REQUIRES: all integrated).
  void delete_known(std::uint32_t agent, std::uint64_t seq, std::uint64_t end);
  void buffer_insert(detail::InsertOp op, ItemId missing);
  void buffer_delete(std::uint32_t agent, std::uint64_t seq, std::uint64_t end);
  // After [seq, end) of `agent` got integrated: apply the deletes waiting for it.
  void apply_buffered_deletes(std::uint32_t agent, std::uint64_t seq, std::uint64_t end);
  void wake(std::uint32_t agent, std::uint64_t seq, std::uint64_t end);
  void drain();

  std::string encode() const;
  static Result<std::unique_ptr<Impl>> decode(std::string_view bytes);
};

}  // namespace tandem::text
