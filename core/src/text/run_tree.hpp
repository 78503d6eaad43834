// RunTree: the document order of a text CRDT as a splay tree of runs.
//
// A Run is a maximal-ish block of items (code points) with consecutive ids of
// one agent, all deleted or all visible, where item k > 0 has the item k-1 as
// its left origin and every item shares the run's right origin. Such a run can
// be split anywhere and stays a valid run on both sides.
//
// The tree is ordered by document position. Every node caches the number of
// items (sub_len, tombstones included) and of visible code points (sub_vis) in
// its subtree, so position lookups are O(log n) amortised; splaying keeps the
// runs around the cursor near the root, which makes typing nearly O(1).
//
// Each run also carries the DepthKey of its first item (see below) and every
// node the smallest key in its subtree, so that "the first run after r whose
// key is at most k" and "the last run before r whose key is at most k" are
// found by one descent (O(log n) amortised): that is how the integration
// finds where a subtree of the origin tree ends (doc_impl.hpp, REGULAR
// DOCUMENTS).
//
// Invariants: parent/child pointers are consistent; sub_len/sub_vis/sub_min
// are exact for every node (mutations go through splay-then-pull); deleted
// runs hold no text; runs are never freed while the tree lives (the id index
// holds raw pointers into the pool).
// Thread-safety: none. Lookups that splay (find_visible, raw_index, splay) are
// mutations; next/prev/first/last and the counters are read-only.
#pragma once

#include <compare>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace tandem::text::detail {

inline constexpr std::uint32_t kNoAgent = 0xFFFFFFFFu;

// An item id; agent == kNoAgent means "none" (document start or end).
struct ItemId {
  std::uint32_t agent = kNoAgent;
  std::uint64_t seq = 0;
  bool none() const { return agent == kNoAgent; }
  friend bool operator==(const ItemId&, const ItemId&) = default;
};

// Where an item sits in the tree of left origins, compared lexicographically:
// depth = 1 + the depth of its left origin (items at the document start: 1);
// or_depth = 0, or 1 + the or_depth of its right origin when that right
// origin is a sibling (has the same left origin). Items after the first of a
// run have (depth of the first + offset, 0), so a run's smallest key is its
// first item's.
struct DepthKey {
  std::uint64_t depth = 0;
  std::uint64_t or_depth = 0;
  friend auto operator<=>(const DepthKey&, const DepthKey&) = default;
};
inline constexpr DepthKey kNoDepthKey{~std::uint64_t{0}, ~std::uint64_t{0}};

struct Run {
  Run* parent = nullptr;
  Run* left = nullptr;
  Run* right = nullptr;
  std::uint64_t sub_len = 0;  // items in this subtree, tombstones included
  std::uint64_t sub_vis = 0;  // visible code points in this subtree
  DepthKey sub_min;           // smallest key in this subtree

  std::uint32_t agent = kNoAgent;
  std::uint64_t seq = 0;  // id of the first item
  std::uint64_t len = 0;  // items (code points), >= 1
  ItemId origin_left;     // left origin of the first item
  ItemId origin_right;    // right origin of every item
  bool deleted = false;
  // Deleted runs: the agent whose delete removed them first here (kNoAgent:
  // not known, a state saved before format version 2). Items that several
  // agents' concurrent deletes removed also have a merge mark (doc_impl.hpp)
  // holding all of them.
  std::uint32_t deleter = kNoAgent;
  DepthKey key;      // of the first item; kept up to date only while the
                     // document keeps its integration index (doc_impl.hpp)
  std::string text;  // UTF-8 of the items; empty when deleted

  std::uint64_t vis() const { return deleted ? 0 : len; }
  ItemId first_id() const { return {agent, seq}; }
  ItemId last_id() const { return {agent, seq + len - 1}; }
};

class RunTree {
 public:
  RunTree() = default;
  RunTree(const RunTree&) = delete;
  RunTree& operator=(const RunTree&) = delete;
  RunTree(RunTree&&) = default;
  RunTree& operator=(RunTree&&) = default;

  // A new detached run owned by the tree's pool.
  Run* make_run();

  std::uint64_t total_len() const { return root_ ? root_->sub_len : 0; }
  std::uint64_t total_vis() const { return root_ ? root_->sub_vis : 0; }
  bool empty() const { return root_ == nullptr; }

  // The run holding visible code point `pos` and the offset in it.
  // REQUIRES: pos < total_vis().
  Run* find_visible(std::uint64_t pos, std::uint64_t* offset);
  // Number of items before `r` in document order.
  std::uint64_t raw_index(Run* r);

  Run* first() const;
  Run* last() const;
  // first()/last() that also splay the run (keeps repeated access cheap).
  Run* front();
  Run* back();
  static Run* next(Run* r);
  static Run* prev(Run* r);

  // Links detached `r` right after `after` (at the front when null).
  void insert_after(Run* after, Run* r);
  // Splits `r` at item `k` (0 < k < r->len): `r` keeps [0, k), the returned
  // new run holds [k, len) and follows `r` (its key: depth + k, or_depth 0).
  // The caller indexes the new run.
  Run* split(Run* r, std::uint64_t k);

  // The first run after `r` (from the front when null) whose key is <= max,
  // or null. Splays what it finds.
  Run* first_after(Run* r, DepthKey max);
  // The last run before `r` (up to the back when null) whose key is <= max,
  // or null. Splays what it finds.
  Run* last_before(Run* r, DepthKey max);
  // Sets r->key (splay, then pull).
  void set_key(Run* r, DepthKey key);
  // Recomputes every node's subtree values, O(n): after keys were set
  // directly on runs in bulk.
  void refresh();

  // Rotations and descent steps since construction: a deterministic measure
  // of work for tests and benchmarks.
  std::uint64_t steps() const { return steps_; }
  // Call around a change of r->len / r->deleted: begin_update splays `r` to
  // the root so that end_update only has to recompute the root.
  void begin_update(Run* r) { splay(r); }
  void end_update(Run* r) { pull(r); }

  // Replaces the content with `runs` (detached, in document order), built as
  // a perfectly balanced tree in O(n).
  void build(const std::vector<Run*>& runs);

 private:
  static void pull(Run* x) {
    x->sub_len = x->len + (x->left ? x->left->sub_len : 0) + (x->right ? x->right->sub_len : 0);
    x->sub_vis = x->vis() + (x->left ? x->left->sub_vis : 0) + (x->right ? x->right->sub_vis : 0);
    x->sub_min = x->key;
    if (x->left && x->left->sub_min < x->sub_min) x->sub_min = x->left->sub_min;
    if (x->right && x->right->sub_min < x->sub_min) x->sub_min = x->right->sub_min;
  }
  void rotate(Run* x);
  void splay(Run* x);
  Run* build_range(const std::vector<Run*>& runs, std::size_t lo, std::size_t hi, Run* parent);

  std::deque<Run> pool_;
  Run* root_ = nullptr;
  std::uint64_t steps_ = 0;
};

}  // namespace tandem::text::detail
