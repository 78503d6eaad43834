#include "text/run_tree.hpp"

#include "text/utf8.hpp"

namespace tandem::text::detail {

Run* RunTree::make_run() { return &pool_.emplace_back(); }

void RunTree::rotate(Run* x) {
  ++steps_;
  Run* p = x->parent;
  Run* g = p->parent;
  if (p->left == x) {
    p->left = x->right;
    if (x->right) x->right->parent = p;
    x->right = p;
  } else {
    p->right = x->left;
    if (x->left) x->left->parent = p;
    x->left = p;
  }
  p->parent = x;
  x->parent = g;
  if (g) {
    if (g->left == p) {
      g->left = x;
    } else {
      g->right = x;
    }
  } else {
    root_ = x;
  }
  pull(p);
  pull(x);
}

void RunTree::splay(Run* x) {
  while (x->parent) {
    Run* p = x->parent;
    Run* g = p->parent;
    if (g) rotate((g->left == p) == (p->left == x) ? p : x);
    rotate(x);
  }
}

Run* RunTree::find_visible(std::uint64_t pos, std::uint64_t* offset) {
  Run* x = root_;
  while (x) {
    const std::uint64_t lv = x->left ? x->left->sub_vis : 0;
    if (pos < lv) {
      x = x->left;
    } else if (pos < lv + x->vis()) {
      *offset = pos - lv;
      splay(x);
      return x;
    } else {
      pos -= lv + x->vis();
      x = x->right;
    }
  }
  return nullptr;  // unreachable when the precondition holds
}

std::uint64_t RunTree::raw_index(Run* r) {
  splay(r);
  return r->left ? r->left->sub_len : 0;
}

Run* RunTree::first() const {
  Run* x = root_;
  while (x && x->left) x = x->left;
  return x;
}

Run* RunTree::last() const {
  Run* x = root_;
  while (x && x->right) x = x->right;
  return x;
}

Run* RunTree::front() {
  Run* x = first();
  if (x) splay(x);
  return x;
}

Run* RunTree::back() {
  Run* x = last();
  if (x) splay(x);
  return x;
}

Run* RunTree::next(Run* r) {
  if (r->right) {
    r = r->right;
    while (r->left) r = r->left;
    return r;
  }
  while (r->parent && r->parent->right == r) r = r->parent;
  return r->parent;
}

Run* RunTree::prev(Run* r) {
  if (r->left) {
    r = r->left;
    while (r->right) r = r->right;
    return r;
  }
  while (r->parent && r->parent->left == r) r = r->parent;
  return r->parent;
}

void RunTree::insert_after(Run* after, Run* r) {
  r->left = r->right = nullptr;
  if (!root_) {
    r->parent = nullptr;
    root_ = r;
    pull(r);
    return;
  }
  if (!after) {
    // New first run: becomes the root with the old tree on its right.
    r->right = root_;
    root_->parent = r;
    r->parent = nullptr;
    root_ = r;
    pull(r);
    return;
  }
  splay(after);
  r->right = after->right;
  if (r->right) r->right->parent = r;
  after->right = r;
  r->parent = after;
  pull(r);
  pull(after);
}

Run* RunTree::split(Run* r, std::uint64_t k) {
  Run* tail = make_run();
  tail->agent = r->agent;
  tail->seq = r->seq + k;
  tail->len = r->len - k;
  tail->origin_left = ItemId{r->agent, r->seq + k - 1};
  tail->origin_right = r->origin_right;
  tail->deleted = r->deleted;
  tail->deleter = r->deleter;
  tail->key = DepthKey{r->key.depth + k, 0};
  begin_update(r);
  if (!r->deleted) {
    const std::size_t cut =
        utf8_offset(r->text, static_cast<std::size_t>(r->len), static_cast<std::size_t>(k));
    tail->text.assign(r->text, cut, std::string::npos);
    r->text.resize(cut);
  }
  r->len = k;
  end_update(r);
  insert_after(r, tail);
  return tail;
}

Run* RunTree::first_after(Run* r, DepthKey max) {
  Run* x = root_;
  if (r) {
    splay(r);
    x = r->right;
  }
  if (!x || max < x->sub_min) return nullptr;
  // The leftmost node of x's subtree with key <= max (one exists).
  for (;;) {
    ++steps_;
    if (x->left && !(max < x->left->sub_min)) {
      x = x->left;
    } else if (!(max < x->key)) {
      break;
    } else {
      x = x->right;
    }
  }
  splay(x);
  return x;
}

Run* RunTree::last_before(Run* r, DepthKey max) {
  Run* x = root_;
  if (r) {
    splay(r);
    x = r->left;
  }
  if (!x || max < x->sub_min) return nullptr;
  for (;;) {
    ++steps_;
    if (x->right && !(max < x->right->sub_min)) {
      x = x->right;
    } else if (!(max < x->key)) {
      break;
    } else {
      x = x->left;
    }
  }
  splay(x);
  return x;
}

void RunTree::set_key(Run* r, DepthKey key) {
  splay(r);
  r->key = key;
  pull(r);
}

void RunTree::refresh() {
  // Post-order without recursion: a splay tree may be as deep as it is long.
  Run* x = root_;
  Run* from = nullptr;  // where the walk came from (x's parent when descending)
  while (x) {
    if (from == x->parent) {
      if (x->left) {
        from = x;
        x = x->left;
        continue;
      }
      if (x->right) {
        from = x;
        x = x->right;
        continue;
      }
    } else if (from == x->left && x->right) {
      from = x;
      x = x->right;
      continue;
    }
    pull(x);
    from = x;
    x = x->parent;
  }
}

Run* RunTree::build_range(const std::vector<Run*>& runs, std::size_t lo, std::size_t hi,
                          Run* parent) {
  if (lo >= hi) return nullptr;
  const std::size_t mid = lo + (hi - lo) / 2;
  Run* x = runs[mid];
  x->parent = parent;
  x->left = build_range(runs, lo, mid, x);
  x->right = build_range(runs, mid + 1, hi, x);
  pull(x);
  return x;
}

void RunTree::build(const std::vector<Run*>& runs) {
  root_ = build_range(runs, 0, runs.size(), nullptr);
}

}  // namespace tandem::text::detail
