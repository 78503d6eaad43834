// See text_reference.hpp. The functions below are the pre-issue-11 bodies of
// Document::Impl::integrate, submit_insert and drain, and of the insert loop
// of Document::apply, changed only to run outside Document::Impl.
#include "text_reference.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "text/doc_impl.hpp"
#include "text/utf8.hpp"

namespace tandem::text {

DocumentInternals::Impl& DocumentInternals::impl(Document& doc) { return *doc.impl_; }

void DocumentInternals::always_search(Document& doc) { doc.impl_->scan_limit_ = 0; }

DocumentInternals::Index DocumentInternals::index(const Document& doc) {
  switch (doc.impl_->index_state_) {
    case Impl::IndexState::kUnbuilt:
      return Index::kUnbuilt;
    case Impl::IndexState::kRegular:
      return Index::kRegular;
    case Impl::IndexState::kIrregular:
      break;
  }
  return Index::kIrregular;
}

namespace reference {
namespace {

using detail::InsertOp;
using detail::ItemId;
using detail::Run;
using Impl = DocumentInternals::Impl;

void integrate(Impl& d, std::uint32_t agent, std::uint64_t seq, std::uint64_t len, ItemId left,
               ItemId right, std::string_view text) {
  Run* left_run = nullptr;
  if (!left.none()) {
    auto [r, off] = d.lookup(left);
    if (off + 1 < r->len) d.split_indexed(r, off + 1);
    left_run = r;
  }
  Run* right_run = nullptr;
  if (!right.none()) {
    auto [r, off] = d.lookup(right);
    right_run = off > 0 ? d.split_indexed(r, off) : r;
  }
  std::uint64_t left_pos = 0;  // positions are shifted by one: "before the start" is 0
  if (!left.none()) {
    // Looked up again: for a malformed op whose right origin precedes its left
    // one, the right split may have cut the left run.
    auto [r, off] = d.lookup(left);
    left_run = r;
    left_pos = d.tree_.raw_index(r) + off + 1;
  }
  const std::uint64_t total = d.tree_.total_len();
  const std::uint64_t right_pos = right_run ? d.tree_.raw_index(right_run) + 1 : total + 1;
  auto pos_of = [&](ItemId id) -> std::uint64_t {
    auto [r, off] = d.lookup(id);
    return d.tree_.raw_index(r) + off + 1;
  };

  Run* dest = left_run;  // insert after this run (nullptr: at the front)
  Run* prev = left_run;
  Run* o = left_run ? detail::RunTree::next(left_run) : d.tree_.front();
  bool scanning = false;
  while (true) {
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
        const int c = d.agents_[agent].compare(d.agents_[o->agent]);
        if (c < 0 || (c == 0 && seq < o->seq)) break;
        scanning = false;
      } else {
        scanning = false;
      }
    }
    prev = o;
    o = detail::RunTree::next(o);
  }
  d.place(dest, agent, seq, len, left, right, text, false);
}

void submit_insert(Impl& d, InsertOp op) {
  if (!d.known(op.left) || !d.known(op.right)) {
    const ItemId missing = d.known(op.left) ? op.right : op.left;
    d.buffer_insert(std::move(op), missing);
    return;
  }
  const std::uint64_t end = op.seq + op.len;
  std::uint64_t s = op.seq;
  while (s < end) {
    if (auto [r, off] = d.lookup({op.agent, s}); r) {
      s = std::min(end, r->seq + r->len);
      continue;
    }
    const std::uint64_t u = std::min(end, d.next_known_start(op.agent, s));
    const std::size_t b0 = detail::utf8_offset(op.text, op.len, s - op.seq);
    const std::size_t b1 = detail::utf8_offset(op.text, op.len, u - op.seq);
    const ItemId left = s == op.seq ? op.left : ItemId{op.agent, s - 1};
    integrate(d, op.agent, s, u - s, left, op.right, std::string_view(op.text).substr(b0, b1 - b0));
    s = u;
  }
}

void drain(Impl& d) {
  while (!d.ready_.empty()) {
    const std::size_t slot = d.ready_.back();
    d.ready_.pop_back();
    InsertOp op = std::move(d.pending_[slot].op);
    d.pending_[slot] = detail::PendingInsert{};
    d.free_slots_.push_back(slot);
    --d.live_pending_;
    d.pending_keys_.erase({op.agent, op.seq, op.len});
    submit_insert(d, std::move(op));
  }
}

}  // namespace

Status apply(Document& doc, const Json& ops) {
  Impl& d = DocumentInternals::impl(doc);
  d.drop_index();  // the shared helpers keep no index: only the loop decides
  std::vector<detail::WireOp> parsed;
  TANDEM_TRY(detail::parse_ops(ops, &parsed));
  for (const detail::WireOp& w : parsed) {
    if (w.is_insert) {
      InsertOp op;
      op.agent = d.intern(w.id.agent);
      op.seq = w.id.seq;
      op.len = w.len;
      if (!w.left.none) op.left = ItemId{d.intern(w.left.agent), w.left.seq};
      if (!w.right.none) op.right = ItemId{d.intern(w.right.agent), w.right.seq};
      op.text.assign(w.text);
      submit_insert(d, std::move(op));
    } else {
      // Deletes are shared with Document (they record their deleter since
      // merge marks, issue 16); only the integration of inserts is frozen.
      const std::uint32_t by = w.is_ack ? detail::kNoAgent : d.intern(w.by);
      for (const detail::WireRange& range : w.ranges) {
        d.submit_delete(detail::DeleteOp{d.intern(range.agent), range.seq, range.len, by});
      }
    }
    drain(d);
  }
  return {};
}

}  // namespace reference
}  // namespace tandem::text
