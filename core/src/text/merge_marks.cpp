// Merge marks: which items overlapping concurrent deletes removed, who made
// those deletes, and who acknowledged them (doc_impl.hpp, MERGE MARKS).
// Marks are rare (only overlaps make them), so they live in a per-agent
// interval map beside the run tree; the common delete path pays nothing
// but one comparison of deleters.
#include <algorithm>
#include <iterator>
#include <set>

#include "tandem/core/text/sequence.hpp"
#include "text/doc_impl.hpp"

namespace tandem::text {

using detail::AgentSet;
using detail::Mark;
using detail::Run;

namespace detail {

bool Mark::open() const {
  return deleters.size() >= 2 &&
         !std::includes(acked.begin(), acked.end(), deleters.begin(), deleters.end());
}

}  // namespace detail

namespace {

void add_agent(AgentSet& set, std::uint32_t a) {
  auto it = std::lower_bound(set.begin(), set.end(), a);
  if (it == set.end() || *it != a) set.insert(it, a);
}

bool empty_mark(const Mark& m) { return m.deleters.empty() && m.acked.empty(); }

}  // namespace

void Document::Impl::sort_by_name(AgentSet& set) const {
  std::sort(set.begin(), set.end(),
            [this](std::uint32_t x, std::uint32_t y) { return agents_[x] < agents_[y]; });
}

template <typename F>
void Document::Impl::update_marks(std::uint32_t agent, std::uint64_t seq, std::uint64_t end, F f) {
  auto& marks = marks_[agent];
  // Cut the marks that straddle seq or end, so that [seq, end) is whole pieces.
  auto cut = [&](std::uint64_t x) {
    auto it = marks.upper_bound(x);
    if (it == marks.begin()) return;
    --it;
    if (it->first < x && it->second.end > x) {
      Mark tail = it->second;
      it->second.end = x;
      marks.emplace_hint(std::next(it), x, std::move(tail));
    }
  };
  cut(seq);
  cut(end);
  std::uint64_t pos = seq;
  auto it = marks.lower_bound(seq);
  while (pos < end) {
    ++work_;
    if (it != marks.end() && it->first == pos) {
      f(it->second);
      pos = it->second.end;
      ++it;
      continue;
    }
    const std::uint64_t stop = it != marks.end() && it->first < end ? it->first : end;
    Mark fresh;
    fresh.end = stop;
    f(fresh);
    it = std::next(marks.emplace_hint(it, pos, std::move(fresh)));
    pos = stop;
  }
  // Coalesce equal neighbours (the map stays canonical: replicas that saw
  // the same ops in another order hold, and encode, the same intervals).
  it = marks.lower_bound(seq);
  if (it != marks.begin()) --it;
  while (it != marks.end() && it->first <= end) {
    ++work_;
    if (empty_mark(it->second)) {
      it = marks.erase(it);
      continue;
    }
    auto next = std::next(it);
    if (next != marks.end() && next->first == it->second.end && it->second.same(next->second)) {
      it->second.end = next->second.end;
      marks.erase(next);
      continue;
    }
    it = next;
  }
}

void Document::Impl::note_overlap(Run* r, std::uint64_t seq, std::uint64_t end, std::uint32_t by) {
  // The run keeps the deleter whose delete arrived first (always one of the
  // item's deleters); the mark holds them all, whatever the order.
  const std::uint32_t first = r->deleter;
  update_marks(r->agent, seq, end, [&](Mark& m) {
    if (m.deleters.empty()) add_agent(m.deleters, first);  // its one deleter so far
    add_agent(m.deleters, by);
  });
}

void Document::Impl::acknowledge(std::uint32_t agent, std::uint64_t seq, std::uint64_t end,
                                 const AgentSet& acked) {
  update_marks(agent, seq, end, [&](Mark& m) {
    for (std::uint32_t a : acked) add_agent(m.acked, a);
  });
}

std::vector<std::string> Document::merged_by() const {
  const Impl& d = *impl_;
  std::set<std::string> names;
  for (const auto& marks : d.marks_) {
    for (const auto& [start, m] : marks) {
      if (!m.open()) continue;
      for (std::uint32_t a : m.deleters) names.insert(d.agents_[a]);
    }
  }
  return {names.begin(), names.end()};
}

Result<Json> Document::confirm(std::string_view agent) {
  if (!detail::valid_agent(agent)) {
    return make_error(ErrorCode::kInvalidArgument, "text confirm: bad agent id");
  }
  Impl& d = *impl_;
  struct Open {
    std::uint32_t agent;
    std::uint64_t seq, end;
    AgentSet deleters;
  };
  std::vector<Open> open;
  for (std::uint32_t a = 0; a < d.marks_.size(); ++a) {
    for (const auto& [start, m] : d.marks_[a]) {
      if (m.open()) open.push_back(Open{a, start, m.end, m.deleters});
    }
  }
  if (open.empty()) return Json::array();
  Json ids = Json::array();
  for (const Open& o : open) {
    AgentSet names = o.deleters;
    d.sort_by_name(names);
    Json who = Json::array();
    for (std::uint32_t a : names) who.push_back(d.agents_[a]);
    ids.push_back(Json::array({d.agents_[o.agent], o.seq, o.end - o.seq, std::move(who)}));
    d.acknowledge(o.agent, o.seq, o.end, o.deleters);
  }
  Json op = Json::object();
  op["op"] = "ack";
  op["by"] = std::string(agent);
  op["ids"] = std::move(ids);
  return Json::array({std::move(op)});
}

}  // namespace tandem::text
