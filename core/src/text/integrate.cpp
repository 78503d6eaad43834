// Integration of remote inserts: where a run whose origins are known goes.
// One answer, two ways of finding it (doc_impl.hpp, REGULAR DOCUMENTS):
//  * integrate_scan, the loop of reference-crdts' integrateYjsMod run over
//    whole runs. Exact for every document; costs the items between the left
//    origin and the stop, so many agents typing at one place make it
//    quadratic. Used while it stops within detail::kScanLimit runs, and for every op
//    once a document has seen a dangerous op.
//  * integrate_fast, the same answer from the children sets and the depth
//    keys: O(log n) amortised comparisons (each O(log n) when right origins
//    differ, O(1) when they are the same, as in a same-position burst). Used
//    from the first scan that hit the limit for as long as the Document
//    lives (the index is not encoded).
#include <algorithm>
#include <iterator>
#include <unordered_map>
#include <vector>

#include "text/doc_impl.hpp"

namespace tandem::text {

using detail::DepthKey;
using detail::ItemId;
using detail::Run;

namespace {
constexpr std::uint64_t kAnyOrDepth = ~std::uint64_t{0};
constexpr std::uint64_t kNoScanLimit = ~std::uint64_t{0};
}  // namespace

void Document::Impl::integrate(std::uint32_t agent, std::uint64_t seq, std::uint64_t len,
                               ItemId left, ItemId right, std::string_view text) {
  Run* left_run = nullptr;
  if (!left.none()) {
    auto [r, off] = lookup(left);
    if (off + 1 < r->len) split_indexed(r, off + 1);
  }
  Run* right_run = nullptr;
  if (!right.none()) {
    auto [r, off] = lookup(right);
    right_run = off > 0 ? split_indexed(r, off) : r;
  }
  // Looked up after both splits: for a malformed op whose right origin
  // precedes its left one, the right split may have cut the left run. The
  // left origin is the last item of its run either way.
  if (!left.none()) left_run = lookup(left).first;

  // Most gaps hold a handful of concurrent items: the loop answers at once
  // and the index is never built. A long scan (a burst of agents at one
  // place) builds it, and from then on every op is found by search.
  if (!regular()) {
    const std::uint64_t limit = index_state_ == IndexState::kIrregular ? kNoScanLimit : scan_limit_;
    if (Run* dest = nullptr; integrate_scan(left_run, right_run, left, agent, seq, limit, &dest)) {
      place(dest, agent, seq, len, left, right, text, false);
      return;
    }
    build_index();
    if (!regular()) {
      Run* dest = nullptr;
      (void)integrate_scan(left_run, right_run, left, agent, seq, kNoScanLimit, &dest);
      place(dest, agent, seq, len, left, right, text, false);
      return;
    }
  }
  bool right_is_child = false;
  if (!right.none()) {
    // A child of L lies after L (P); otherwise R must lie after L and its own
    // left origin before L, or the op is dangerous.
    const ItemId right_left = right_run->origin_left;
    if (right_left == left) {
      right_is_child = true;
    } else if ((!left.none() && before(right, left)) ||
               (!right_left.none() && (left.none() || !before(right_left, left)))) {
      drop_index();
      Run* dest = nullptr;
      (void)integrate_scan(left_run, right_run, left, agent, seq, kNoScanLimit, &dest);
      place(dest, agent, seq, len, left, right, text, false);
      return;
    }
  }
  place(integrate_fast(left_run, right_run, left, right, agent, seq, right_is_child), agent, seq,
        len, left, right, text, right_is_child);
}

// Runs over whole runs: inside a run every item after the first has its left
// origin inside the scanned range, so only a run's first item can change the
// outcome. Sets *dest to the run to insert after (nullptr: at the front), or
// returns false after `limit` runs without an answer.
bool Document::Impl::integrate_scan(Run* left_run, Run* right_run, ItemId left, std::uint32_t agent,
                                    std::uint64_t seq, std::uint64_t limit, Run** dest_out) {
  std::uint64_t left_pos = 0;  // positions are shifted by one: "before the start" is 0
  if (!left.none()) left_pos = tree_.raw_index(left_run) + left_run->len;
  const std::uint64_t total = tree_.total_len();
  const std::uint64_t right_pos = right_run ? tree_.raw_index(right_run) + 1 : total + 1;
  auto pos_of = [&](ItemId id) -> std::uint64_t {
    auto [r, off] = lookup(id);
    return tree_.raw_index(r) + off + 1;
  };

  Run* dest = left_run;  // insert after this run (nullptr: at the front)
  Run* prev = left_run;
  Run* o = left_run ? detail::RunTree::next(left_run) : tree_.front();
  bool scanning = false;
  for (std::uint64_t steps = 0;; ++steps) {
    if (steps == limit) return false;
    ++work_;
    if (!scanning) dest = prev;
    if (o == nullptr || o == right_run) break;
    const std::uint64_t oleft = o->origin_left.none() ? 0 : pos_of(o->origin_left);
    if (oleft < left_pos) break;
    if (oleft == left_pos) {
      const std::uint64_t oright = o->origin_right.none() ? total + 1 : pos_of(o->origin_right);
      if (oright < right_pos) {
        scanning = true;
      } else if (oright == right_pos) {
        // A true tie: the same gap. Order by agent name (then seq), the same on
        // every replica.
        const int c = agents_[agent].compare(agents_[o->agent]);
        if (c < 0 || (c == 0 && seq < o->seq)) break;
        scanning = false;
      } else {
        scanning = false;
      }
    }
    prev = o;
    o = detail::RunTree::next(o);
  }
  *dest_out = dest;
  return true;
}

// The loop stops scanning state changes at L's children only. With P, S and R
// (doc_impl.hpp) the last child that leaves the loop "not scanning" before
// it stops is the new item's predecessor in its ordered set, and the new item
// goes right after that child's subtree.
Run* Document::Impl::integrate_fast(Run* left_run, Run* right_run, ItemId left, ItemId right,
                                    std::uint32_t agent, std::uint64_t seq, bool right_is_child) {
  Run probe;  // the new run as far as the orders look at it
  probe.agent = agent;
  probe.seq = seq;
  probe.origin_left = left;
  probe.origin_right = right;
  if (!right_is_child) {
    // R outside L's subtree (or none): every child whose right origin is a
    // sibling compares as "before R" and cannot stop the new item.
    auto found = children_a_.find(left);
    if (found == children_a_.end()) return left_run;
    auto it = found->second.lower_bound(&probe);
    return it == found->second.begin() ? left_run : subtree_end(*std::prev(it));
  }
  Run* bound = right_run;
  if (auto found = children_b_.find({left, right}); found != children_b_.end()) {
    auto it = found->second.lower_bound(&probe);
    if (it != found->second.begin()) return subtree_end(*std::prev(it));
    if (it != found->second.end()) bound = *it;
  }
  // First in agent order: before the block of its successor (or of R) — the
  // children whose right origins lead there — so right after the subtree of
  // the last child of L before that block.
  const std::uint64_t child_depth = (left.none() ? 0 : left_run->key.depth + left_run->len - 1) + 1;
  Run* q = tree_.last_before(bound, DepthKey{child_depth, bound->key.or_depth});
  if (q && left_run && run_position(q) <= run_position(left_run)) q = nullptr;
  return q ? subtree_end(q) : left_run;
}

Run* Document::Impl::subtree_end(Run* r) {
  // The first item after r with depth <= r's ends r's subtree (P).
  Run* stop = tree_.first_after(r, DepthKey{r->key.depth, kAnyOrDepth});
  return stop ? tree_.last_before(stop, detail::kNoDepthKey) : tree_.back();
}

// ---------------------------------------------------------------------------
// The index

DepthKey Document::Impl::key_of(ItemId id) const {
  if (id.none()) return DepthKey{0, 0};
  auto [r, off] = lookup(id);
  return off == 0 ? r->key : DepthKey{r->key.depth + off, 0};
}

std::uint64_t Document::Impl::run_position(Run* r) {
  return ordinals_ ? ordinals_->at(r) : tree_.raw_index(r);
}

bool Document::Impl::before(ItemId x, ItemId y) {
  auto [rx, ox] = lookup(x);
  auto [ry, oy] = lookup(y);
  if (rx == ry) return ox < oy;
  return run_position(rx) < run_position(ry);
}

bool Document::Impl::agent_less(const Run* x, const Run* y) {
  ++work_;
  if (x->agent == y->agent) return x->seq < y->seq;
  return agents_[x->agent] < agents_[y->agent];
}

bool Document::Impl::a_less(const Run* x, const Run* y) {
  ++work_;
  const ItemId rx = x->origin_right;
  const ItemId ry = y->origin_right;
  if (rx == ry) return agent_less(x, y);
  if (rx.none()) return true;  // "the end" is the furthest right of all
  if (ry.none()) return false;
  return before(ry, rx);  // descending right origin
}

void Document::Impl::drop_index() {
  children_a_.clear();
  children_b_.clear();
  index_state_ = IndexState::kIrregular;
}

void Document::Impl::index_new_run(Run* r, bool right_is_child) {
  const DepthKey key{key_of(r->origin_left).depth + 1,
                     right_is_child ? key_of(r->origin_right).or_depth + 1 : 0};
  tree_.set_key(r, key);
  if (right_is_child) {
    children_b_.try_emplace({r->origin_left, r->origin_right}, ByAgent{this})
        .first->second.insert(r);
  } else {
    children_a_.try_emplace(r->origin_left, ByRightOrigin{this}).first->second.insert(r);
  }
}

void Document::Impl::index_split_tail(Run* tail) {
  // The tail's right origin is its head's, which lies outside the head's
  // subtree: the tail belongs to set A of the head's last item.
  children_a_.try_emplace(tail->origin_left, ByRightOrigin{this}).first->second.insert(tail);
}

void Document::Impl::build_index() {
  std::vector<Run*> runs;
  std::unordered_map<const Run*, std::uint64_t> ordinals;
  for (Run* r = tree_.first(); r; r = detail::RunTree::next(r)) {
    ordinals.emplace(r, runs.size());
    runs.push_back(r);
  }
  ordinals_ = &ordinals;
  auto fail = [&] {
    ordinals_ = nullptr;
    drop_index();
  };

  // Depths, and P: each run's left origin lies on the path from the root to
  // the item just before the run (a stack of runs, each with the last of its
  // items on that path).
  std::vector<std::pair<Run*, std::uint64_t>> path;
  for (Run* r : runs) {
    std::uint64_t depth = 1;
    if (!r->origin_left.none()) {
      auto [p, off] = lookup(r->origin_left);
      while (!path.empty() && path.back().first != p) path.pop_back();
      if (!p || path.empty() || off > path.back().second) return fail();
      path.back().second = off;
      depth = p->key.depth + off + 1;
    } else {
      path.clear();
    }
    r->key.depth = depth;
    path.emplace_back(r, r->len - 1);
  }
  // No dangerous op, and or_depth (from the back: a sibling right origin
  // follows its child).
  for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
    Run* r = *it;
    r->key.or_depth = 0;
    const ItemId left = r->origin_left;
    const ItemId right = r->origin_right;
    if (right.none()) continue;
    if (before(right, r->first_id())) return fail();  // placed after its right origin
    if (!left.none() && before(right, left)) return fail();
    auto [rr, roff] = lookup(right);
    const ItemId right_left = roff > 0 ? ItemId{rr->agent, rr->seq + roff - 1} : rr->origin_left;
    if (right_left == left) {
      r->key.or_depth = (roff > 0 ? 0 : rr->key.or_depth) + 1;
    } else if (!right_left.none() && (left.none() || !before(right_left, left))) {
      return fail();
    }
  }
  // S and R: every set, filled in document order, must come out sorted.
  for (Run* r : runs) {
    const bool child = r->key.or_depth > 0;
    if (child) {
      auto& set =
          children_b_.try_emplace({r->origin_left, r->origin_right}, ByAgent{this}).first->second;
      if (!set.empty() && !set.key_comp()(*set.rbegin(), r)) return fail();
      set.emplace_hint(set.end(), r);
    } else {
      auto& set = children_a_.try_emplace(r->origin_left, ByRightOrigin{this}).first->second;
      if (!set.empty() && !set.key_comp()(*set.rbegin(), r)) return fail();
      set.emplace_hint(set.end(), r);
    }
  }
  ordinals_ = nullptr;
  tree_.refresh();
  index_state_ = IndexState::kRegular;
}

}  // namespace tandem::text
