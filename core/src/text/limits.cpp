// Cost of text ops and the per-change limits (tandem/core/text/limits.hpp).
#include "tandem/core/text/limits.hpp"

#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "text/doc_impl.hpp"
#include "text/utf8.hpp"

namespace tandem::text {

Result<TextCost> measure_ops(std::span<const Json* const> values) {
  TextCost cost;
  std::unordered_set<std::string_view> agents;  // views into `values`
  std::vector<detail::WireOp> parsed;
  for (const Json* value : values) {
    TANDEM_TRY(detail::parse_ops(*value, &parsed));
    for (const detail::WireOp& op : parsed) {
      if (op.is_insert) {
        ++cost.ops;
        cost.inserted += op.len;
        agents.insert(op.id.agent);
        if (!op.left.none) agents.insert(op.left.agent);
        if (!op.right.none) agents.insert(op.right.agent);
      } else if (op.is_ack) {
        cost.ops += op.acks.size();
        agents.insert(op.by);
        for (const detail::WireAck& a : op.acks) {
          agents.insert(a.agent);
          agents.insert(a.deleters.begin(), a.deleters.end());
        }
      } else {
        cost.ops += op.ranges.size();
        agents.insert(op.by);
        for (const detail::WireRange& r : op.ranges) agents.insert(r.agent);
      }
    }
  }
  cost.agents = agents.size();
  return cost;
}

Status check_change_cost(const TextCost& cost) {
  auto over = [](const char* what, std::uint64_t n, std::uint64_t limit) {
    return make_error(ErrorCode::kTextTooLarge, std::string("text ops name ") + std::to_string(n) +
                                                    " " + what + "; at most " +
                                                    std::to_string(limit) + " per change");
  };
  if (cost.ops > kMaxOpsPerChange)
    return over("ops and deleted ranges", cost.ops, kMaxOpsPerChange);
  if (cost.agents > kMaxAgentsPerChange) return over("agents", cost.agents, kMaxAgentsPerChange);
  if (cost.inserted > kMaxInsertedPerChange) {
    return over("inserted code points", cost.inserted, kMaxInsertedPerChange);
  }
  return {};
}

namespace {

// One output array being filled, with what it costs so far.
class Chunker {
 public:
  explicit Chunker(std::vector<Json>* out) : out_(out) {}

  // Whether `ops` more ops naming `names` and inserting `inserted` fit; an
  // empty chunk takes anything (an op cannot be cut further).
  bool fits(std::uint64_t ops, std::span<const std::string_view> names,
            std::uint64_t inserted) const {
    if (chunk_.empty() && open_del_.is_null()) return true;
    std::uint64_t agents = agents_.size();
    for (std::string_view name : names) {
      if (!name.empty() && !agents_.count(std::string(name))) ++agents;
    }
    return cost_.ops + ops <= kMaxOpsPerChange && agents <= kMaxAgentsPerChange &&
           cost_.inserted + inserted <= kMaxInsertedPerChange;
  }
  void count(std::uint64_t ops, std::span<const std::string_view> names, std::uint64_t inserted) {
    cost_.ops += ops;
    cost_.inserted += inserted;
    for (std::string_view name : names) {
      if (!name.empty()) agents_.emplace(name);
    }
  }
  void add(Json op) { chunk_.push_back(std::move(op)); }
  // A `del` (or `ack`) being filled range by range.
  Json& open_del(const std::string& kind, const std::string& by) {
    if (open_del_.is_null()) open_del_ = Json{{"op", kind}, {"by", by}, {"ids", Json::array()}};
    return open_del_["ids"];
  }
  void close_del() {
    if (!open_del_.is_null()) chunk_.push_back(std::move(open_del_));
    open_del_ = nullptr;
  }
  void flush() {
    close_del();
    if (!chunk_.empty()) out_->push_back(std::move(chunk_));
    chunk_ = Json::array();
    cost_ = {};
    agents_.clear();
  }

 private:
  std::vector<Json>* out_;
  Json chunk_ = Json::array();
  Json open_del_;
  TextCost cost_;
  std::unordered_set<std::string> agents_;
};

// The agent of an id ([agent, seq]); empty for null (the document's ends).
std::string_view agent_of(const Json& id) {
  return id.is_array() ? std::string_view(id[0].get_ref<const std::string&>()) : std::string_view();
}

}  // namespace

std::vector<Json> split_ops(const Json& ops) {
  std::vector<Json> out;
  Chunker chunk(&out);
  for (const Json& op : ops) {
    if (op.at("op") == "ins") {
      const std::string_view text = op.at("text").get_ref<const std::string&>();
      const std::uint64_t len = detail::utf8_count(text).value_or(text.size());
      const std::string_view names[] = {agent_of(op.at("id")), agent_of(op.at("left")),
                                        agent_of(op.at("right"))};
      if (!chunk.fits(1, names, len)) chunk.flush();
      chunk.count(1, names, len);
      chunk.add(op);
      continue;
    }
    const std::string& kind = op.at("op").get_ref<const std::string&>();
    const std::string& by = op.at("by").get_ref<const std::string&>();
    for (const Json& range : op.at("ids")) {
      std::vector<std::string_view> names = {by, agent_of(range)};
      if (kind == "ack") {  // [agent, seq, len, [deleter, ...]]
        for (const Json& a : range.at(3)) names.push_back(a.get_ref<const std::string&>());
      }
      if (!chunk.fits(1, names, 0)) chunk.flush();
      chunk.count(1, names, 0);
      chunk.open_del(kind, by).push_back(range);
    }
    chunk.close_del();
  }
  chunk.flush();
  return out;
}

}  // namespace tandem::text
