// Local edits, remote integration (YATA with left+right origins, "YjsMod" /
// FugueMax ordering) and buffering of ops that arrive before their
// dependencies. See tandem/core/text/sequence.hpp for the model.
#include <algorithm>
#include <iterator>
#include <memory>
#include <string>
#include <utility>

#include "tandem/core/text/sequence.hpp"
#include "text/doc_impl.hpp"
#include "text/utf8.hpp"

namespace tandem::text {

using detail::DeleteOp;
using detail::InsertOp;
using detail::ItemId;
using detail::kMaxRunBytes;
using detail::kMaxSeq;
using detail::PendingInsert;
using detail::Run;

// ---------------------------------------------------------------------------
// Impl: ids and runs

std::uint32_t Document::Impl::intern(std::string_view agent) {
  // Local typing interns the same agent for every keystroke.
  if (last_agent_ < agents_.size() && agents_[last_agent_] == agent) return last_agent_;
  if (auto it = agent_ids_.find(agent); it != agent_ids_.end()) {
    last_agent_ = it->second;
    return it->second;
  }
  const auto id = static_cast<std::uint32_t>(agents_.size());
  agents_.emplace_back(agent);
  agent_ids_.emplace(std::string(agent), id);
  index_.emplace_back();
  next_seq_.push_back(0);
  pending_dels_.emplace_back();
  marks_.emplace_back();
  return id;
}

std::pair<Run*, std::uint64_t> Document::Impl::lookup(ItemId id) const {
  if (id.none() || id.agent >= index_.size()) return {nullptr, 0};
  const auto& runs = index_[id.agent];
  auto it = runs.upper_bound(id.seq);
  if (it == runs.begin()) return {nullptr, 0};
  --it;
  Run* r = it->second;
  if (id.seq < r->seq + r->len) return {r, id.seq - r->seq};
  return {nullptr, 0};
}

std::uint64_t Document::Impl::next_known_start(std::uint32_t agent, std::uint64_t seq) const {
  if (agent >= index_.size()) return kMaxSeq;
  const auto& runs = index_[agent];
  auto it = runs.upper_bound(seq);
  return it == runs.end() ? kMaxSeq : it->first;
}

Run* Document::Impl::split_indexed(Run* r, std::uint64_t k) {
  Run* tail = tree_.split(r, k);
  index_[tail->agent].emplace(tail->seq, tail);
  if (regular()) index_split_tail(tail);
  return tail;
}

void Document::Impl::mark_deleted(Run* r, std::uint32_t by) {
  tree_.begin_update(r);
  r->deleted = true;
  r->deleter = by;
  std::string().swap(r->text);  // the deleted content is gone, not just hidden
  tree_.end_update(r);
}

Run* Document::Impl::place(Run* after, std::uint32_t agent, std::uint64_t seq, std::uint64_t len,
                           ItemId left, ItemId right, std::string_view text, bool right_is_child) {
  Run* created = nullptr;
  // Typing continues the run it follows: extend it instead of adding a run.
  // Runs stop growing at kMaxRunBytes so that splitting one (an edit inside
  // it) copies a bounded amount of text; encode() joins them again.
  if (after && after->agent == agent && !after->deleted && after->seq + after->len == seq &&
      left == after->last_id() && after->origin_right == right &&
      after->text.size() + text.size() <= kMaxRunBytes) {
    tree_.begin_update(after);
    after->len += len;
    after->text.append(text);
    tree_.end_update(after);
  } else {
    Run* r = tree_.make_run();
    r->agent = agent;
    r->seq = seq;
    r->len = len;
    r->origin_left = left;
    r->origin_right = right;
    r->text.assign(text);
    tree_.insert_after(after, r);
    index_[agent].emplace(seq, r);
    if (regular()) index_new_run(r, right_is_child);
    created = r;
  }
  next_seq_[agent] = std::max(next_seq_[agent], seq + len);
  apply_buffered_deletes(agent, seq, seq + len);
  wake(agent, seq, seq + len);
  return created;
}

// ---------------------------------------------------------------------------
// Impl: remote ops and buffering

void Document::Impl::submit_insert(InsertOp op) {
  if (!known(op.left) || !known(op.right)) {
    const ItemId missing = known(op.left) ? op.right : op.left;
    buffer_insert(std::move(op), missing);
    return;
  }
  // Integrate the parts of the run that are not known yet (normally all or
  // nothing; a partial overlap is handled the same way).
  const std::uint64_t end = op.seq + op.len;
  std::uint64_t s = op.seq;
  while (s < end) {
    if (auto [r, off] = lookup({op.agent, s}); r) {
      s = std::min(end, r->seq + r->len);
      continue;
    }
    const std::uint64_t u = std::min(end, next_known_start(op.agent, s));
    // op.len counts op.text's code points, so these fit a size_t on 32-bit ARM too.
    const auto len = static_cast<std::size_t>(op.len);
    const std::size_t b0 = detail::utf8_offset(op.text, len, static_cast<std::size_t>(s - op.seq));
    const std::size_t b1 = detail::utf8_offset(op.text, len, static_cast<std::size_t>(u - op.seq));
    const ItemId left = s == op.seq ? op.left : ItemId{op.agent, s - 1};
    integrate(op.agent, s, u - s, left, op.right, std::string_view(op.text).substr(b0, b1 - b0));
    s = u;
  }
}

void Document::Impl::submit_delete(const DeleteOp& op) {
  const std::uint64_t end = op.seq + op.len;
  std::uint64_t s = op.seq;
  while (s < end) {
    auto [r, off] = lookup({op.agent, s});
    if (r) {
      const std::uint64_t u = std::min(end, r->seq + r->len);
      delete_known(op.agent, s, u, op.by);
      s = u;
    } else {
      const std::uint64_t u = std::min(end, next_known_start(op.agent, s));
      buffer_delete(op.agent, s, u, op.by);
      s = u;
    }
  }
}

void Document::Impl::delete_known(std::uint32_t agent, std::uint64_t seq, std::uint64_t end,
                                  std::uint32_t by) {
  while (seq < end) {
    auto [r, off] = lookup({agent, seq});
    if (r->deleted) {
      const std::uint64_t stop = std::min(end, r->seq + r->len);
      // Deleted before by someone else: the two deletes were concurrent
      // (MERGE MARKS in doc_impl.hpp). Unknown deleters (old states) and
      // unknown authors are left alone.
      if (by != detail::kNoAgent && r->deleter != detail::kNoAgent && r->deleter != by)
        note_overlap(r, seq, stop, by);
      seq = stop;
      continue;
    }
    if (off > 0) r = split_indexed(r, off);
    if (r->len > end - seq) split_indexed(r, end - seq);
    mark_deleted(r, by);
    seq += r->len;
  }
}

void Document::Impl::buffer_insert(InsertOp op, ItemId missing) {
  if (!pending_keys_.insert({op.agent, op.seq, op.len}).second) return;  // already waiting
  next_seq_[op.agent] = std::max(next_seq_[op.agent], op.seq + op.len);
  std::size_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = pending_.size();
    pending_.emplace_back();
  }
  pending_[slot].live = true;
  pending_[slot].op = std::move(op);
  waiting_.emplace(std::make_pair(missing.agent, missing.seq), slot);
  ++live_pending_;
}

void Document::Impl::buffer_delete(std::uint32_t agent, std::uint64_t seq, std::uint64_t end,
                                   std::uint32_t by) {
  // Union [seq, end) into the deleter's interval set for the agent, merging
  // touching intervals.
  auto& set = pending_dels_[agent][by];
  auto it = set.upper_bound(seq);
  if (it != set.begin()) {
    auto before = std::prev(it);
    if (before->second >= seq) {
      seq = before->first;
      end = std::max(end, before->second);
      it = set.erase(before);
      --pending_del_ranges_;
    }
  }
  while (it != set.end() && it->first <= end) {
    end = std::max(end, it->second);
    it = set.erase(it);
    --pending_del_ranges_;
  }
  set.emplace_hint(it, seq, end);
  ++pending_del_ranges_;
}

void Document::Impl::apply_buffered_deletes(std::uint32_t agent, std::uint64_t seq,
                                            std::uint64_t end) {
  auto& by_deleter = pending_dels_[agent];
  for (auto d = by_deleter.begin(); d != by_deleter.end();) {
    apply_buffered_deletes_of(agent, d->first, d->second, seq, end);
    d = d->second.empty() ? by_deleter.erase(d) : std::next(d);
  }
}

void Document::Impl::apply_buffered_deletes_of(std::uint32_t agent, std::uint32_t by,
                                               std::map<std::uint64_t, std::uint64_t>& set,
                                               std::uint64_t seq, std::uint64_t end) {
  auto it = set.upper_bound(seq);
  if (it != set.begin() && std::prev(it)->second > seq) --it;
  while (it != set.end() && it->first < end) {
    const std::uint64_t s = it->first;
    const std::uint64_t e = it->second;
    it = set.erase(it);
    --pending_del_ranges_;
    // Keep the parts outside [seq, end); they are still not integrated.
    if (s < seq) {
      set.emplace_hint(it, s, seq);
      ++pending_del_ranges_;
    }
    if (e > end) {
      it = set.emplace_hint(it, end, e);
      ++pending_del_ranges_;
    }
    delete_known(agent, std::max(s, seq), std::min(e, end), by);
  }
}

void Document::Impl::wake(std::uint32_t agent, std::uint64_t seq, std::uint64_t end) {
  if (waiting_.empty()) return;
  auto it = waiting_.lower_bound({agent, seq});
  while (it != waiting_.end() && it->first.first == agent && it->first.second < end) {
    ready_.push_back(it->second);
    it = waiting_.erase(it);
  }
}

void Document::Impl::drain() {
  while (!ready_.empty()) {
    const std::size_t slot = ready_.back();
    ready_.pop_back();
    InsertOp op = std::move(pending_[slot].op);
    pending_[slot] = PendingInsert{};
    free_slots_.push_back(slot);
    --live_pending_;
    pending_keys_.erase({op.agent, op.seq, op.len});
    submit_insert(std::move(op));
  }
}

// ---------------------------------------------------------------------------
// Document

namespace {

Json id_json(std::string_view agent, std::uint64_t seq) { return Json::array({agent, seq}); }

}  // namespace

Document::Document() : impl_(std::make_unique<Impl>()) {}
Document::~Document() = default;
Document::Document(Document&& other) noexcept = default;
Document& Document::operator=(Document&& other) noexcept = default;

Document::Document(const Document& other) {
  auto copy = Impl::decode(other.impl_->encode());
  impl_ = std::move(copy.value());  // decode of our own encoding cannot fail
}

Document& Document::operator=(const Document& other) {
  if (this != &other) *this = Document(other);
  return *this;
}

std::string Document::text() const {
  std::string out;
  out.reserve(static_cast<std::size_t>(impl_->tree_.total_vis()));
  for (Run* r = impl_->tree_.first(); r; r = detail::RunTree::next(r)) out += r->text;
  return out;
}

std::size_t Document::size() const { return static_cast<std::size_t>(impl_->tree_.total_vis()); }

std::size_t Document::pending_count() const {
  return impl_->live_pending_ + impl_->pending_del_ranges_;
}

std::uint64_t Document::work() const { return impl_->work_ + impl_->tree_.steps(); }

namespace {
Json insert_op(std::string_view agent, std::uint64_t seq, Json left, Json right,
               std::string_view utf8) {
  Json op = Json::object();
  op["op"] = "ins";
  op["id"] = id_json(agent, seq);
  op["left"] = std::move(left);
  op["right"] = std::move(right);
  op["text"] = std::string(utf8);
  return Json::array({std::move(op)});
}
}  // namespace

Result<Json> Document::initial_ops(std::string_view agent, std::string_view utf8) {
  if (!detail::valid_agent(agent)) {
    return make_error(ErrorCode::kInvalidArgument, "text insert: bad agent id");
  }
  const auto count = detail::utf8_count(utf8);
  if (!count) return make_error(ErrorCode::kInvalidUtf8, "text insert: invalid UTF-8");
  if (*count == 0) return Json::array();
  if (*count > kMaxSeq)
    return make_error(ErrorCode::kTooLong, "text insert: agent has used up its ids");
  return insert_op(agent, 0, nullptr, nullptr, utf8);
}

Result<Json> Document::insert(std::string_view agent, std::size_t pos, std::string_view utf8) {
  if (!detail::valid_agent(agent)) {
    return make_error(ErrorCode::kInvalidArgument, "text insert: bad agent id");
  }
  const auto count = detail::utf8_count(utf8);
  if (!count) return make_error(ErrorCode::kInvalidUtf8, "text insert: invalid UTF-8");
  Impl& d = *impl_;
  if (pos > d.tree_.total_vis()) {
    return make_error(ErrorCode::kInvalidArgument, "text insert: position past the end");
  }
  if (*count == 0) return Json::array();
  const std::uint32_t a = d.intern(agent);
  const std::uint64_t seq = d.next_seq_[a];
  if (seq + *count > kMaxSeq) {
    return make_error(ErrorCode::kTooLong, "text insert: agent has used up its ids");
  }

  Run* after = nullptr;
  ItemId left;
  ItemId right;
  if (pos == d.tree_.total_vis()) {
    after = d.tree_.back();
    if (after) left = after->last_id();
  } else {
    std::uint64_t off = 0;
    Run* n = d.tree_.find_visible(pos, &off);
    if (off > 0) {
      Run* tail = d.split_indexed(n, off);
      after = n;
      right = tail->first_id();
    } else {
      after = detail::RunTree::prev(n);
      right = n->first_id();
    }
    if (after) left = after->last_id();
  }
  // A local insert goes between neighbours: never a dangerous op; its right
  // origin is L's first child when L has children.
  const bool right_is_child = !right.none() && d.lookup(right).first->origin_left == left;
  d.place(after, a, seq, *count, left, right, utf8, right_is_child);
  d.drain();

  return insert_op(agent, seq,
                   left.none() ? Json(nullptr) : id_json(d.agents_[left.agent], left.seq),
                   right.none() ? Json(nullptr) : id_json(d.agents_[right.agent], right.seq), utf8);
}

Result<Json> Document::remove(std::string_view agent, std::size_t pos, std::size_t len) {
  if (!detail::valid_agent(agent)) {
    return make_error(ErrorCode::kInvalidArgument, "text remove: bad agent id");
  }
  Impl& d = *impl_;
  const std::uint64_t size = d.tree_.total_vis();
  if (pos > size || len > size - pos) {
    return make_error(ErrorCode::kInvalidArgument, "text remove: range past the end");
  }
  if (len == 0) return Json::array();
  const std::uint32_t by = d.intern(agent);
  Json ids = Json::array();
  ItemId last_start;  // start of the range at the back of `ids`
  std::uint64_t last_len = 0;
  auto flush = [&] {
    if (last_len)
      ids.push_back(Json::array({d.agents_[last_start.agent], last_start.seq, last_len}));
  };
  std::uint64_t remaining = len;
  while (remaining > 0) {
    std::uint64_t off = 0;
    Run* r = d.tree_.find_visible(pos, &off);
    if (off > 0) r = d.split_indexed(r, off);
    if (r->len > remaining) d.split_indexed(r, remaining);
    d.mark_deleted(r, by);
    remaining -= r->len;
    if (last_len && r->agent == last_start.agent && last_start.seq + last_len == r->seq) {
      last_len += r->len;
    } else {
      flush();
      last_start = r->first_id();
      last_len = r->len;
    }
  }
  flush();
  Json op = Json::object();
  op["op"] = "del";
  op["by"] = std::string(agent);
  op["ids"] = std::move(ids);
  return Json::array({std::move(op)});
}

Status Document::apply(const Json& ops) {
  std::vector<detail::WireOp> parsed;
  TANDEM_TRY(detail::parse_ops(ops, &parsed));
  Impl& d = *impl_;
  for (const detail::WireOp& w : parsed) {
    if (w.is_insert) {
      InsertOp op;
      op.agent = d.intern(w.id.agent);
      op.seq = w.id.seq;
      op.len = w.len;
      if (!w.left.none) op.left = ItemId{d.intern(w.left.agent), w.left.seq};
      if (!w.right.none) op.right = ItemId{d.intern(w.right.agent), w.right.seq};
      op.text.assign(w.text);
      d.submit_insert(std::move(op));
    } else if (w.is_ack) {
      for (const detail::WireAck& ack : w.acks) {
        detail::AgentSet acked;
        for (std::string_view a : ack.deleters) acked.push_back(d.intern(a));
        std::sort(acked.begin(), acked.end());
        acked.erase(std::unique(acked.begin(), acked.end()), acked.end());
        d.acknowledge(d.intern(ack.agent), ack.seq, ack.seq + ack.len, acked);
      }
    } else {
      const std::uint32_t by = d.intern(w.by);
      for (const detail::WireRange& range : w.ranges) {
        d.submit_delete(DeleteOp{d.intern(range.agent), range.seq, range.len, by});
      }
    }
    d.drain();
  }
  return {};
}

Result<Document> Document::decode(std::string_view bytes) {
  auto impl = Impl::decode(bytes);
  if (!impl.ok()) return std::move(impl).error();
  Document doc;
  doc.impl_ = std::move(impl.value());
  return doc;
}

std::string Document::encode() const { return impl_->encode(); }

}  // namespace tandem::text
