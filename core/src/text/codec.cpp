// Binary encoding of a text Document (format version 2; version 1 decodes).
//
//   "TDTX" u8:version
//   varint:agent_count  { string:agent }*
//   varint:run_count    { run }*            runs in document order
//   varint:pending_count { pending op }*
//   varint:mark_count   { mark }*           version 2 (merge marks)
//
// run := varint:flags
//        [varint:agent]             unless kSameAgent
//        zigzag:seq - cursor[agent] cursor = end of the agent's previous run
//        varint:len                 items (code points)
//        [varint:agent zigzag:seq-run.seq]  left origin when kLeftExplicit
//        [varint:agent zigzag:seq-run.seq]  right origin when kRightExplicit
//        [varint:bytes]             visible, non-ASCII runs
//        [bytes]                    visible runs: the UTF-8 text
//        [varint:deleter+1]         deleted runs, version 2 (0: not known)
// Origin kinds (2 bits each): left 0 none, 1 the previous run's last item,
// 2 explicit, 3 (own agent, seq - 1); right 0 none, 1 the next run's first
// item, 2 explicit, 3 the previous run's right origin.
// Deleted runs carry no text. Adjacent runs that continue each other are
// merged before writing, so a document typed by one person is mostly a
// handful of runs per cursor jump.
//
// pending op := u8:0 varint:agent varint:seq string:text id:left id:right
//             | u8:1 varint:agent varint:seq varint:len [varint:deleter+1]
//               (the deleter from version 2 on; 0: not known)
// mark := varint:agent varint:seq varint:len agents:deleters agents:acked
//         (by agent, then seq; agents := varint:count { varint:agent }*)
// id := u8:0 | u8:1 varint:agent varint:seq
// Version 1 kept no deleters: its deleted runs and pending deletes decode
// with the deleter unknown, which never makes a merge mark.
#include <algorithm>
#include <iterator>
#include <string>
#include <tuple>
#include <utility>

#include "text/binary_io.hpp"
#include "text/doc_impl.hpp"
#include "text/utf8.hpp"

namespace tandem::text {

using detail::ByteReader;
using detail::ByteWriter;
using detail::ItemId;
using detail::kMaxSeq;
using detail::Run;

namespace {

constexpr char kMagic[4] = {'T', 'D', 'T', 'X'};
constexpr std::uint8_t kVersion = 2;
constexpr std::uint8_t kVersionNoDeleters = 1;

enum : std::uint64_t {
  kDeleted = 1u << 0,
  kSameAgent = 1u << 1,
  kLeftShift = 2,   // 2 bits: OriginKind
  kRightShift = 4,  // 2 bits: OriginKind
  kAscii = 1u << 6,
};
enum OriginKind : std::uint64_t {
  kNone = 0,
  kNeighbour = 1,  // left: the previous run's last item; right: the next run's first
  kExplicit = 2,
  kSameRight = 3,  // right: the previous run's right origin
  kOwnPrev = 3,    // left: (own agent, seq - 1), the head of a split run
};

// A maximal chain of runs that continue each other.
struct Chain {
  Run* first;
  Run* last;
  std::uint64_t len;
};

void write_id(ByteWriter& w, ItemId id) {
  if (id.none()) {
    w.byte(0);
  } else {
    w.byte(1);
    w.varint(id.agent);
    w.varint(id.seq);
  }
}

void write_agent_or_unknown(ByteWriter& w, std::uint32_t agent) {
  w.varint(agent == detail::kNoAgent ? 0 : std::uint64_t{agent} + 1);
}

Error corrupt(const char* what) {
  return make_error(ErrorCode::kCorrupt, std::string("text document: ") + what);
}

bool read_agent_or_unknown(ByteReader& in, std::uint64_t agent_count, std::uint32_t* out) {
  const std::uint64_t v = in.varint();
  if (!in.ok() || v > agent_count) return false;
  *out = v == 0 ? detail::kNoAgent : static_cast<std::uint32_t>(v - 1);
  return true;
}

// Reads a sorted agent set (two and more deleters, or any acked agents).
bool read_set(ByteReader& in, std::uint64_t agent_count, detail::AgentSet* out) {
  const std::uint64_t n = in.varint();
  if (!in.ok() || n > agent_count) return false;
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t a = in.varint();
    if (!in.ok() || a >= agent_count || (!out->empty() && a <= out->back())) return false;
    out->push_back(static_cast<std::uint32_t>(a));
  }
  return true;
}

}  // namespace

Status Document::Impl::decode_marks(ByteReader& in, std::uint64_t agent_count, Impl& d) {
  const std::uint64_t count = in.varint();
  if (!in.ok() || count > in.remaining()) return corrupt("bad mark count");
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t a = in.varint();
    const std::uint64_t seq = in.varint();
    const std::uint64_t len = in.varint();
    if (!in.ok() || a >= agent_count || seq >= kMaxSeq || len == 0 || len > kMaxSeq - seq)
      return corrupt("bad mark");
    detail::Mark m;
    m.end = seq + len;
    if (!read_set(in, agent_count, &m.deleters) || !read_set(in, agent_count, &m.acked) ||
        m.deleters.size() == 1 || (m.deleters.empty() && m.acked.empty())) {
      return corrupt("bad mark agents");
    }
    auto& marks = d.marks_[static_cast<std::size_t>(a)];
    // In order, disjoint and coalesced, as encode() writes them.
    if (!marks.empty()) {
      const detail::Mark& last = marks.rbegin()->second;
      if (seq < last.end || (seq == last.end && last.same(m))) return corrupt("marks out of order");
    }
    marks.emplace_hint(marks.end(), seq, std::move(m));
  }
  return {};
}

std::string Document::Impl::encode() const {
  std::vector<Chain> chains;
  for (Run* r = tree_.first(); r; r = detail::RunTree::next(r)) {
    if (!chains.empty()) {
      Chain& c = chains.back();
      // Compare with the chain as one run: its first item's origins, last id.
      if (r->agent == c.last->agent && r->seq == c.last->seq + c.last->len &&
          r->origin_left == c.last->last_id() && r->origin_right == c.first->origin_right &&
          r->deleted == c.first->deleted && r->deleter == c.first->deleter) {
        c.last = r;
        c.len += r->len;
        continue;
      }
    }
    chains.push_back({r, r, r->len});
  }

  ByteWriter w;
  w.bytes(std::string_view(kMagic, 4));
  w.byte(kVersion);
  w.varint(agents_.size());
  for (const auto& a : agents_) w.string(a);

  w.varint(chains.size());
  std::vector<std::uint64_t> cursor(agents_.size(), 0);
  for (std::size_t i = 0; i < chains.size(); ++i) {
    const Chain& c = chains[i];
    const Run* r = c.first;
    const ItemId first{r->agent, r->seq};
    std::uint64_t flags = 0;
    if (r->deleted) flags |= kDeleted;
    const Chain* prev = i > 0 ? &chains[i - 1] : nullptr;
    if (prev && prev->first->agent == r->agent) flags |= kSameAgent;
    OriginKind lk = kExplicit;
    if (r->origin_left.none()) {
      lk = kNone;
    } else if (prev && r->origin_left == prev->last->last_id()) {
      lk = kNeighbour;
    } else if (r->origin_left == ItemId{r->agent, first.seq - 1}) {
      lk = kOwnPrev;
    }
    OriginKind rk = kExplicit;
    if (r->origin_right.none()) {
      rk = kNone;
    } else if (i + 1 < chains.size() && r->origin_right == chains[i + 1].first->first_id()) {
      rk = kNeighbour;
    } else if (prev && r->origin_right == prev->first->origin_right) {
      rk = kSameRight;
    }
    flags |= std::uint64_t{lk} << kLeftShift;
    flags |= std::uint64_t{rk} << kRightShift;
    std::uint64_t bytes = 0;
    if (!r->deleted) {
      for (const Run* x = c.first;; x = detail::RunTree::next(const_cast<Run*>(x))) {
        bytes += x->text.size();
        if (x == c.last) break;
      }
      if (bytes == c.len) flags |= kAscii;
    }
    w.varint(flags);
    if (!(flags & kSameAgent)) w.varint(r->agent);
    w.zigzag(static_cast<std::int64_t>(first.seq - cursor[r->agent]));
    cursor[r->agent] = first.seq + c.len;
    w.varint(c.len);
    if (lk == kExplicit) {
      w.varint(r->origin_left.agent);
      w.zigzag(static_cast<std::int64_t>(r->origin_left.seq - first.seq));
    }
    if (rk == kExplicit) {
      w.varint(r->origin_right.agent);
      w.zigzag(static_cast<std::int64_t>(r->origin_right.seq - first.seq));
    }
    if (!r->deleted) {
      if (!(flags & kAscii)) w.varint(bytes);
      for (const Run* x = c.first;; x = detail::RunTree::next(const_cast<Run*>(x))) {
        w.bytes(x->text);
        if (x == c.last) break;
      }
    } else {
      write_agent_or_unknown(w, r->deleter);
    }
  }

  w.varint(live_pending_ + pending_del_ranges_);
  // Buffered inserts in id order, so that the encoding does not depend on the
  // order in which they arrived.
  std::vector<const detail::InsertOp*> inserts;
  inserts.reserve(live_pending_);
  for (const detail::PendingInsert& p : pending_) {
    if (p.live) inserts.push_back(&p.op);
  }
  std::sort(inserts.begin(), inserts.end(),
            [](const detail::InsertOp* x, const detail::InsertOp* y) {
              return std::tie(x->agent, x->seq) < std::tie(y->agent, y->seq);
            });
  for (const detail::InsertOp* op : inserts) {
    const detail::InsertOp& p = *op;
    w.byte(0);
    w.varint(p.agent);
    w.varint(p.seq);
    w.string(p.text);
    write_id(w, p.left);
    write_id(w, p.right);
  }
  for (std::uint32_t a = 0; a < pending_dels_.size(); ++a) {
    for (const auto& [by, set] : pending_dels_[a]) {
      for (const auto& [start, end] : set) {
        w.byte(1);
        w.varint(a);
        w.varint(start);
        w.varint(end - start);
        write_agent_or_unknown(w, by);
      }
    }
  }
  std::uint64_t mark_count = 0;
  for (const auto& marks : marks_) mark_count += marks.size();
  w.varint(mark_count);
  auto write_set = [&](const detail::AgentSet& set) {
    w.varint(set.size());
    for (std::uint32_t a : set) w.varint(a);
  };
  for (std::uint32_t a = 0; a < marks_.size(); ++a) {
    for (const auto& [start, m] : marks_[a]) {
      w.varint(a);
      w.varint(start);
      w.varint(m.end - start);
      write_set(m.deleters);
      write_set(m.acked);
    }
  }
  return w.take();
}

Result<std::unique_ptr<Document::Impl>> Document::Impl::decode(std::string_view bytes) {
  ByteReader in(bytes);
  if (in.bytes(4) != std::string_view(kMagic, 4)) return corrupt("bad magic");
  const std::uint8_t version = in.byte();
  if (!in.ok()) return corrupt("truncated header");
  if (version != kVersion && version != kVersionNoDeleters) {
    return make_error(ErrorCode::kUnsupportedVersion, "text document: unknown format version");
  }
  const bool deleters = version >= kVersion;
  auto impl = std::make_unique<Impl>();
  Impl& d = *impl;

  const std::uint64_t agent_count = in.varint();
  if (!in.ok() || agent_count > in.remaining()) return corrupt("bad agent count");
  for (std::uint64_t i = 0; i < agent_count; ++i) {
    const std::string_view name = in.string();
    if (!in.ok() || !detail::valid_agent(name)) return corrupt("bad agent id");
    if (d.agent_ids_.count(name)) return corrupt("duplicate agent id");
    d.intern(name);
  }

  const std::uint64_t run_count = in.varint();
  if (!in.ok() || run_count > in.remaining() / 3) return corrupt("bad run count");
  std::vector<Run*> runs;
  runs.reserve(static_cast<std::size_t>(run_count));
  // agent_count <= in.remaining() (above): it fits a size_t on 32-bit ARM too.
  std::vector<std::uint64_t> cursor(static_cast<std::size_t>(agent_count), 0);
  bool right_is_next = false;  // the previous run's right origin is this run's first id
  std::size_t prev_begin = 0;  // the previous run's first piece in `runs`
  for (std::uint64_t i = 0; i < run_count; ++i) {
    const std::uint64_t flags = in.varint();
    if (flags >> 7) return corrupt("unknown run flags");
    Run* prev = runs.empty() ? nullptr : runs.back();
    Run* r = d.tree_.make_run();
    r->deleted = flags & kDeleted;
    if (flags & kSameAgent) {
      if (!prev) return corrupt("first run has no previous agent");
      r->agent = prev->agent;
    } else {
      const std::uint64_t a = in.varint();
      if (a >= agent_count) return corrupt("agent index out of range");
      r->agent = static_cast<std::uint32_t>(a);
    }
    const std::int64_t delta = in.zigzag();
    const std::uint64_t base = cursor[r->agent];
    if (delta < 0 && static_cast<std::uint64_t>(-(delta + 1)) >= base) return corrupt("bad seq");
    r->seq = base + static_cast<std::uint64_t>(delta);
    r->len = in.varint();
    if (!in.ok() || r->seq >= kMaxSeq || r->len == 0 || r->len > kMaxSeq - r->seq) {
      return corrupt("bad run ids");
    }
    cursor[r->agent] = r->seq + r->len;
    if (right_is_next) {
      for (std::size_t j = prev_begin; j < runs.size(); ++j) runs[j]->origin_right = r->first_id();
    }
    auto read_origin = [&](ItemId* out) -> bool {
      const std::uint64_t a = in.varint();
      const std::int64_t rel = in.zigzag();
      if (!in.ok() || a >= agent_count) return false;
      const auto seq = static_cast<std::int64_t>(r->seq) + rel;
      if (seq < 0 || static_cast<std::uint64_t>(seq) >= kMaxSeq) return false;
      *out = ItemId{static_cast<std::uint32_t>(a), static_cast<std::uint64_t>(seq)};
      return true;
    };
    switch ((flags >> kLeftShift) & 3) {
      case kNone:
        break;
      case kNeighbour:
        if (!prev) return corrupt("first run refers to a previous run");
        r->origin_left = prev->last_id();
        break;
      case kExplicit:
        if (!read_origin(&r->origin_left)) return corrupt("bad left origin");
        break;
      case kOwnPrev:
        if (r->seq == 0) return corrupt("bad left origin");
        r->origin_left = ItemId{r->agent, r->seq - 1};
        break;
    }
    right_is_next = false;
    switch ((flags >> kRightShift) & 3) {
      case kNone:
        break;
      case kNeighbour:
        right_is_next = true;
        break;
      case kExplicit:
        if (!read_origin(&r->origin_right)) return corrupt("bad right origin");
        break;
      case kSameRight:
        if (!prev) return corrupt("first run refers to a previous run");
        r->origin_right = prev->origin_right;
        break;
    }
    if (!r->deleted) {
      std::uint64_t n = r->len;
      if (!(flags & kAscii)) n = in.varint();
      const std::string_view text = in.bytes(n);
      if (!in.ok()) return corrupt("truncated text");
      const auto count = detail::utf8_count(text);
      if (!count || *count != r->len) return corrupt("text does not match its run");
      if ((flags & kAscii) && text.size() != r->len) return corrupt("bad ASCII run");
      r->text.assign(text);
    } else if (flags & kAscii) {
      return corrupt("deleted run with text flag");
    } else if (deleters && !read_agent_or_unknown(in, agent_count, &r->deleter)) {
      return corrupt("bad deleter");
    }
    if (!in.ok()) return corrupt("truncated run");
    prev_begin = runs.size();
    runs.push_back(r);
    // Long visible runs are cut into pieces of at most kMaxRunBytes (each
    // piece is a valid run; encode() joins them again).
    while (r->text.size() > detail::kMaxRunBytes) {
      std::uint64_t k = 0;
      std::size_t cut = 0;
      while (cut < detail::kMaxRunBytes / 2) {  // whole code points only
        ++cut;
        while (cut < r->text.size() && (static_cast<unsigned char>(r->text[cut]) & 0xC0) == 0x80)
          ++cut;
        ++k;
      }
      Run* tail = d.tree_.make_run();
      tail->agent = r->agent;
      tail->seq = r->seq + k;
      tail->len = r->len - k;
      tail->origin_left = ItemId{r->agent, r->seq + k - 1};
      tail->origin_right = r->origin_right;
      tail->text.assign(r->text, cut, std::string::npos);
      r->text.resize(cut);
      r->len = k;
      runs.push_back(tail);
      r = tail;
    }
  }
  if (right_is_next) return corrupt("last run refers to a next run");

  // Index the runs; ids of one agent must not overlap.
  for (Run* r : runs) {
    auto& m = d.index_[r->agent];
    auto it = m.lower_bound(r->seq);
    if (it != m.end() && it->first < r->seq + r->len) return corrupt("duplicate ids");
    if (it != m.begin()) {
      const Run* before = std::prev(it)->second;
      if (before->seq + before->len > r->seq) return corrupt("duplicate ids");
    }
    m.emplace_hint(it, r->seq, r);
    d.next_seq_[r->agent] = std::max(d.next_seq_[r->agent], r->seq + r->len);
  }
  for (Run* r : runs) {
    for (ItemId o : {r->origin_left, r->origin_right}) {
      if (o.none()) continue;
      if (!d.lookup(o).first) return corrupt("origin refers to an unknown item");
      if (o.agent == r->agent && o.seq >= r->seq && o.seq < r->seq + r->len) {
        return corrupt("origin inside its own run");
      }
    }
    if (!r->origin_left.none() && r->origin_left == r->origin_right) {
      return corrupt("left and right origin are the same item");
    }
  }
  d.tree_.build(runs);

  const std::uint64_t pending_count = in.varint();
  if (!in.ok() || pending_count > in.remaining()) return corrupt("bad pending count");
  auto read_id = [&](ItemId* out) -> bool {
    const std::uint8_t present = in.byte();
    if (present == 0) {
      *out = ItemId{};
      return in.ok();
    }
    const std::uint64_t a = in.varint();
    const std::uint64_t seq = in.varint();
    if (present != 1 || !in.ok() || a >= agent_count || seq >= kMaxSeq) return false;
    *out = ItemId{static_cast<std::uint32_t>(a), seq};
    return true;
  };
  for (std::uint64_t i = 0; i < pending_count; ++i) {
    const std::uint8_t kind = in.byte();
    const std::uint64_t a = in.varint();
    const std::uint64_t seq = in.varint();
    if (!in.ok() || a >= agent_count || seq >= kMaxSeq) return corrupt("bad pending op");
    const auto agent = static_cast<std::uint32_t>(a);
    if (kind == 0) {
      detail::InsertOp op;
      op.agent = agent;
      op.seq = seq;
      const std::string_view text = in.string();
      const auto count = detail::utf8_count(text);
      if (!in.ok() || !count || *count == 0 || *count > kMaxSeq - seq) {
        return corrupt("bad pending insert");
      }
      op.len = *count;
      op.text.assign(text);
      if (!read_id(&op.left) || !read_id(&op.right)) return corrupt("bad pending origin");
      for (ItemId o : {op.left, op.right}) {
        if (!o.none() && o.agent == agent && o.seq >= seq && o.seq - seq < op.len) {
          return corrupt("pending origin inside its own run");
        }
      }
      if (!op.left.none() && op.left == op.right) return corrupt("bad pending origins");
      d.submit_insert(std::move(op));
    } else if (kind == 1) {
      const std::uint64_t len = in.varint();
      if (!in.ok() || len == 0 || len > kMaxSeq - seq) return corrupt("bad pending delete");
      std::uint32_t by = detail::kNoAgent;
      if (deleters && !read_agent_or_unknown(in, agent_count, &by)) return corrupt("bad deleter");
      d.submit_delete(detail::DeleteOp{agent, seq, len, by});
    } else {
      return corrupt("unknown pending op kind");
    }
    d.drain();
  }
  if (deleters) TANDEM_TRY(decode_marks(in, agent_count, d));
  if (!in.ok() || !in.at_end()) return corrupt("trailing bytes");
  return impl;
}

}  // namespace tandem::text
