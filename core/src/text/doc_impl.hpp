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
//  * pending_dels_[a][b] is the set of ids of agent a that a delete by agent
//    b targeted before they were integrated, as disjoint, non-adjacent
//    intervals [start, end). None of them is integrated: integrating an id
//    removes it from the sets and deletes it at once (once per deleter, so
//    that overlapping deletes are seen whatever the order). Deletes are
//    idempotent, so keeping the union per deleter is exact.
//  * marks_[a] holds the merge marks of ids of agent a (MERGE MARKS below) as
//    disjoint intervals [start, end), coalesced: two adjacent intervals never
//    carry the same mark, and no interval carries an empty one.
//  * index_state_ says whether the integration index below is kept (kRegular);
//    while it is, every run's key and the children sets are exact.
//
// REGULAR DOCUMENTS (the integration index). Call L's children the items
// whose left origin is L (the origin tree). The YjsMod loop of integrate_scan
// visits the items after L and stops at the first whose left origin lies
// before L, or at the new item's right origin R; along the way only L's
// children change its state, by comparing their right origins with R. Call an
// op DANGEROUS when R lies before L, or when R's own left origin lies strictly
// between L and R. No honest replica can make one: its L and R were
// neighbours, so R's left origin is L or lies before L. Every other op keeps
// these invariants (argued in docs/text-integration.md, and checked against
// the old loop by tests/property/text_integration_test.cpp):
//   P  the document order is a preorder of the origin tree: every subtree is
//      contiguous, so the first item after L's subtree is the first item
//      after L whose depth is <= L's (RunTree::first_after with DepthKey);
//   S  children of L with the same right origin lie in the order of their
//      (agent name, seq);
//   R  the intervals [c, right origin of c] of L's children never cross;
//      hence the children whose right origin lies outside L's subtree (set A)
//      lie in descending order of that right origin, and a child whose right
//      origin is a sibling lies, with that sibling's other such children and
//      their subtrees, in the contiguous block right before the sibling.
// With them the loop's answer is found by search (integrate_fast):
//  * R outside L's subtree, or none: the new item goes right after the
//    subtree of its predecessor in A[L] (ordered by right origin descending,
//    then agent, then seq), or right after L;
//  * R a child of L: right after the subtree of its predecessor in
//    B[(L, R)] (ordered by agent, seq); without one, right after the subtree
//    of the last child of L before its successor (or before R) whose
//    or_depth is at most that successor's (RunTree::last_before), or right
//    after L.
// A dangerous op is integrated by the loop itself and the document becomes
// kIrregular for good (the loop is exact everywhere; only slower).
// kUnbuilt: not built yet; the loop answers while it stops within a few runs
// (kScanLimit). The first longer scan builds the index, which
// checks P, the dangerous-op condition and the orders of A and B on the whole
// state, and falls back to kIrregular when one fails.
//
// MERGE MARKS. An item deleted by the deletes of two or more agents was
// removed concurrently: each delete only targets text its author could see,
// so whoever's delete came second had not seen the first. That is how two
// people rewriting the same sentence offline shows in the CRDT, and it is
// what Document::merged_by reports. A mark keeps, per item, every agent
// whose delete removed it (`deleters`, set only once there are two) and the
// agents acknowledged by `ack` ops that cover it (`acked`, the union of
// their lists). The item's overlap is settled when acked includes
// deleters. Both sets only grow and are unions over the ops received, so a
// mark is a function of the SET of ops, whatever their order and
// duplication; a new concurrent delete of a settled item adds a deleter and
// unsettles it again.
// Thread-safety: none (see Document).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tandem/core/change.hpp"
#include "tandem/core/error.hpp"
#include "tandem/core/text/sequence.hpp"
#include "text/binary_io.hpp"
#include "text/run_tree.hpp"

namespace tandem::text::detail {

// Ids stay below 2^53 so that every JSON implementation keeps them exact.
inline constexpr std::uint64_t kMaxSeq = std::uint64_t{1} << 53;
inline constexpr std::size_t kMaxAgentBytes = 64;
// Runs the integration loop may visit before the document builds its index
// and searches instead (a few more than honest concurrency puts into one gap;
// each visit costs O(log n)). See REGULAR DOCUMENTS below.
inline constexpr std::uint64_t kScanLimit = 64;
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
// One acknowledged overlap: the ids [seq, seq+len) of `agent`, deleted by
// `deleters` (an ack op's entry).
struct WireAck {
  std::string_view agent;
  std::uint64_t seq = 0;
  std::uint64_t len = 0;
  std::vector<std::string_view> deleters;
};
struct WireOp {
  bool is_insert = true;
  bool is_ack = false;        // an ack (is_insert false, ranges empty)
  std::vector<WireAck> acks;  // ack
  WireId id;  // insert
  WireId left;
  WireId right;
  std::string_view text;
  std::uint64_t len = 0;
  std::string_view by;            // delete
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
  std::uint32_t by = kNoAgent;  // the deleting agent (kNoAgent: not known)
};
// Agents as sorted interned indexes (small: the authors of one overlap).
using AgentSet = std::vector<std::uint32_t>;
struct Mark {
  std::uint64_t end = 0;
  AgentSet deleters;  // empty, or two and more agents
  AgentSet acked;
  bool open() const;  // deleters not all acked
  bool same(const Mark& o) const { return deleters == o.deleters && acked == o.acked; }
};
struct PendingInsert {
  bool live = false;
  InsertOp op;
};

struct ItemIdHash {
  std::size_t operator()(const ItemId& id) const noexcept {
    return std::hash<std::uint64_t>()(id.seq * 0x9E3779B97F4A7C15ull ^ id.agent);
  }
};
struct GapHash {
  std::size_t operator()(const std::pair<ItemId, ItemId>& g) const noexcept {
    return ItemIdHash()(g.first) * 31 + ItemIdHash()(g.second);
  }
};

}  // namespace tandem::text::detail

namespace tandem::text {

struct Document::Impl {
  using ItemId = detail::ItemId;
  using Run = detail::Run;

  // Orders the children of one item in set A (see REGULAR DOCUMENTS).
  struct ByRightOrigin {
    Impl* d;
    bool operator()(const Run* x, const Run* y) const { return d->a_less(x, y); }
  };
  // Orders the children of one item with one right origin (set B).
  struct ByAgent {
    Impl* d;
    bool operator()(const Run* x, const Run* y) const { return d->agent_less(x, y); }
  };
  using ChildrenA = std::set<Run*, ByRightOrigin>;
  using ChildrenB = std::set<Run*, ByAgent>;
  enum class IndexState : std::uint8_t { kUnbuilt, kRegular, kIrregular };

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
  // per target agent: deleter -> intervals
  std::vector<std::map<std::uint32_t, std::map<std::uint64_t, std::uint64_t>>> pending_dels_;
  std::size_t pending_del_ranges_ = 0;
  std::vector<std::map<std::uint64_t, detail::Mark>> marks_;  // per agent (MERGE MARKS)
  std::vector<std::size_t> ready_;  // woken pending slots, processed by drain()

  IndexState index_state_ = IndexState::kUnbuilt;
  std::unordered_map<ItemId, ChildrenA, detail::ItemIdHash> children_a_;  // by left origin
  std::unordered_map<std::pair<ItemId, ItemId>, ChildrenB, detail::GapHash> children_b_;
  // Positions by run while the index is built (nullptr otherwise).
  const std::unordered_map<const Run*, std::uint64_t>* ordinals_ = nullptr;
  std::uint64_t work_ = 0;  // comparisons and scanned runs (see Document::work)
  std::uint64_t scan_limit_ = detail::kScanLimit;  // tests lower it to 0

  std::uint32_t intern(std::string_view agent);
  // The run holding `id` and the offset in it, or {nullptr, 0}.
  std::pair<Run*, std::uint64_t> lookup(ItemId id) const;
  bool known(ItemId id) const { return id.none() || lookup(id).first != nullptr; }
  // First seq > seq of a known run of `agent`, or kMaxSeq.
  std::uint64_t next_known_start(std::uint32_t agent, std::uint64_t seq) const;
  Run* split_indexed(Run* r, std::uint64_t k);
  void mark_deleted(Run* r, std::uint32_t by);

  // Links a new run after `after` (or extends `after` when it continues it)
  // and indexes it (right_is_child: its right origin has the same left
  // origin). Returns the new run, or nullptr when `after` was extended.
  Run* place(Run* after, std::uint32_t agent, std::uint64_t seq, std::uint64_t len, ItemId left,
             ItemId right, std::string_view text, bool right_is_child);
  // YATA/YjsMod integration of a remote run whose origins are known
  // (integrate.cpp): by search in a regular document, else by the loop.
  void integrate(std::uint32_t agent, std::uint64_t seq, std::uint64_t len, ItemId left,
                 ItemId right, std::string_view text);
  // The loop of reference-crdts' integrateYjsMod; exact for every document.
  // False when it found no answer within `limit` runs.
  bool integrate_scan(Run* left_run, Run* right_run, ItemId left, std::uint32_t agent,
                      std::uint64_t seq, std::uint64_t limit, Run** dest);
  // The same answer by search. REQUIRES: kRegular and the op not dangerous.
  Run* integrate_fast(Run* left_run, Run* right_run, ItemId left, ItemId right, std::uint32_t agent,
                      std::uint64_t seq, bool right_is_child);

  // ---- the integration index (REGULAR DOCUMENTS) ----
  bool regular() const { return index_state_ == IndexState::kRegular; }
  // Builds the index from the current state (kRegular), or gives up on it
  // (kIrregular) when the state breaks an invariant. O(n log n).
  void build_index();
  void drop_index();
  // Files a new run (just linked by place()) under its left origin, with its
  // key. REQUIRES: regular(); `right_is_child` as integrate_fast decided.
  void index_new_run(Run* r, bool right_is_child);
  // Files the tail of a split (the first child of the head's last item).
  void index_split_tail(Run* tail);
  // Document order of two known items (O(log n); O(1) while building).
  bool before(ItemId x, ItemId y);
  std::uint64_t run_position(Run* r);
  bool a_less(const Run* x, const Run* y);
  bool agent_less(const Run* x, const Run* y);
  // The last run of the subtree of run-first item `r` (r's run at least).
  Run* subtree_end(Run* r);
  // Depth key of the item `id` (REQUIRES: integrated, regular()).
  detail::DepthKey key_of(ItemId id) const;

  // Remote ops: apply what can be applied now, buffer the rest.
  void submit_insert(detail::InsertOp op);
  void submit_delete(const detail::DeleteOp& op);
  // Deletes the known ids [seq, end) of `agent` by agent `by` (REQUIRES: all
  // integrated). Ids another agent deleted already get a merge mark.
  void delete_known(std::uint32_t agent, std::uint64_t seq, std::uint64_t end, std::uint32_t by);
  void buffer_insert(detail::InsertOp op, ItemId missing);
  void buffer_delete(std::uint32_t agent, std::uint64_t seq, std::uint64_t end, std::uint32_t by);

  // ---- merge marks (merge_marks.cpp) ----
  // Calls f(mark) for every piece of [seq, end) of `agent`, making pieces
  // without a mark first, then coalesces and drops empty marks again.
  template <typename F>
  void update_marks(std::uint32_t agent, std::uint64_t seq, std::uint64_t end, F f);
  // The ids [seq, end) of `agent`, all in deleted run `r`, were deleted
  // again by `by`: adds `by` to their deleters.
  void note_overlap(Run* r, std::uint64_t seq, std::uint64_t end, std::uint32_t by);
  // Adds `acked` to the acknowledged agents of [seq, end) of `agent`.
  void acknowledge(std::uint32_t agent, std::uint64_t seq, std::uint64_t end,
                   const detail::AgentSet& acked);
  // Sorted by agent name (the order every replica shares).
  void sort_by_name(detail::AgentSet& set) const;
  // After [seq, end) of `agent` got integrated: apply the deletes waiting for it.
  void apply_buffered_deletes(std::uint32_t agent, std::uint64_t seq, std::uint64_t end);
  void apply_buffered_deletes_of(std::uint32_t agent, std::uint32_t by,
                                 std::map<std::uint64_t, std::uint64_t>& set, std::uint64_t seq,
                                 std::uint64_t end);
  void wake(std::uint32_t agent, std::uint64_t seq, std::uint64_t end);
  void drain();

  std::string encode() const;
  static Result<std::unique_ptr<Impl>> decode(std::string_view bytes);
  static Status decode_marks(detail::ByteReader& in, std::uint64_t agent_count, Impl& d);
};

}  // namespace tandem::text
