// Strict decoding of text ops from JSON (see sequence.hpp for the format).
// Every check happens before anything is applied; nothing here throws on bad
// input and nothing asserts.
#include <string>

#include "tandem/core/excerpt.hpp"
#include "text/doc_impl.hpp"
#include "text/utf8.hpp"

namespace tandem::text::detail {

bool valid_agent(std::string_view agent) {
  if (agent.empty() || agent.size() > kMaxAgentBytes) return false;
  for (char c : agent) {
    if (c <= 0x20 || c >= 0x7F) return false;
  }
  return true;
}

namespace {

Error bad(std::string message) {
  return make_error(ErrorCode::kInvalidArgument, "text op: " + std::move(message));
}

bool read_uint(const Json& j, std::uint64_t* out) {
  if (j.is_number_unsigned()) {
    *out = j.get<std::uint64_t>();
    return true;
  }
  if (j.is_number_integer()) {
    const auto v = j.get<std::int64_t>();
    if (v < 0) return false;
    *out = static_cast<std::uint64_t>(v);
    return true;
  }
  return false;
}

bool read_agent(const Json& j, std::string_view* out) {
  if (!j.is_string()) return false;
  *out = j.get_ref<const std::string&>();
  return valid_agent(*out);
}

// [agent, seq] or null.
Status read_id(const Json& j, const char* what, WireId* out) {
  if (j.is_null()) {
    *out = WireId{};
    return {};
  }
  if (!j.is_array() || j.size() != 2 || !read_agent(j[0], &out->agent) ||
      !read_uint(j[1], &out->seq) || out->seq >= kMaxSeq) {
    return bad(std::string("'") + what + "' must be [agent, seq]");
  }
  out->none = false;
  return {};
}

Status parse_insert(const Json& j, WireOp* op) {
  for (const auto& [key, value] : j.items()) {
    if (key != "op" && key != "id" && key != "left" && key != "right" && key != "text") {
      return bad("unknown member " + excerpt(key) + " in ins");
    }
  }
  if (!j.contains("id") || !j.contains("left") || !j.contains("right") || !j.contains("text")) {
    return bad("ins needs id, left, right and text");
  }
  op->is_insert = true;
  TANDEM_TRY(read_id(j["id"], "id", &op->id));
  if (op->id.none) return bad("ins id must not be null");
  TANDEM_TRY(read_id(j["left"], "left", &op->left));
  TANDEM_TRY(read_id(j["right"], "right", &op->right));
  const Json& text = j["text"];
  if (!text.is_string()) return bad("ins text must be a string");
  op->text = text.get_ref<const std::string&>();
  const auto count = utf8_count(op->text);
  if (!count) return make_error(ErrorCode::kInvalidUtf8, "text op: ins text is not valid UTF-8");
  if (*count == 0) return bad("ins text must not be empty");
  op->len = *count;
  if (op->len > kMaxSeq - op->id.seq) return bad("ins ids exceed 2^53");
  auto inside = [&](const WireId& o) {
    return !o.none && o.agent == op->id.agent && o.seq >= op->id.seq &&
           o.seq - op->id.seq < op->len;
  };
  if (inside(op->left) || inside(op->right)) return bad("ins origin inside its own run");
  if (!op->left.none && !op->right.none && op->left.agent == op->right.agent &&
      op->left.seq == op->right.seq) {
    return bad("ins left and right origin are the same item");
  }
  return {};
}

// The members a del and an ack share: exactly op, by and a non-empty ids
// array (`kind` names the op in messages). Reads `by`; returns the ids.
Result<const Json*> read_by_and_ids(const Json& j, const std::string& kind, WireOp* op) {
  for (const auto& [key, value] : j.items()) {
    if (key != "op" && key != "by" && key != "ids")
      return bad("unknown member " + excerpt(key) + " in " + kind);
  }
  if (!j.contains("by") || !j.contains("ids")) return bad(kind + " needs by and ids");
  op->is_insert = false;
  if (!read_agent(j["by"], &op->by)) return bad(kind + " 'by' must be an agent id");
  const Json& ids = j["ids"];
  if (!ids.is_array() || ids.empty()) return bad(kind + " ids must be a non-empty array");
  return &ids;
}

// [agent, seq, len] with len >= 1 and seq + len <= 2^53 (the first three of r).
bool read_range(const Json& r, std::string_view* agent, std::uint64_t* seq, std::uint64_t* len) {
  return read_agent(r[0], agent) && read_uint(r[1], seq) && read_uint(r[2], len) && *len > 0 &&
         *seq < kMaxSeq && *len <= kMaxSeq - *seq;
}

Status parse_delete(const Json& j, WireOp* op) {
  auto ids = read_by_and_ids(j, "del", op);
  if (!ids) return std::move(ids).error();
  op->ranges.reserve((*ids)->size());
  for (const Json& r : **ids) {
    WireRange range;
    if (!r.is_array() || r.size() != 3 || !read_range(r, &range.agent, &range.seq, &range.len))
      return bad("del ids must be [agent, seq, len] with len >= 1");
    op->ranges.push_back(range);
  }
  return {};
}

// {"op":"ack","by":agent,"ids":[[agent,seq,len,[deleter,...]],...]}
Status parse_ack(const Json& j, WireOp* op) {
  auto ids = read_by_and_ids(j, "ack", op);
  if (!ids) return std::move(ids).error();
  op->is_ack = true;
  op->acks.reserve((*ids)->size());
  for (const Json& r : **ids) {
    WireAck ack;
    if (!r.is_array() || r.size() != 4 || !read_range(r, &ack.agent, &ack.seq, &ack.len) ||
        !r[3].is_array() || r[3].empty()) {
      return bad("ack ids must be [agent, seq, len, [deleter, ...]] with len >= 1");
    }
    for (const Json& a : r[3]) {
      std::string_view name;
      if (!read_agent(a, &name)) return bad("ack deleters must be agent ids");
      ack.deleters.push_back(name);
    }
    op->acks.push_back(std::move(ack));
  }
  return {};
}

Status parse_one(const Json& j, WireOp* op) {
  if (!j.is_object()) return bad("an op must be an object");
  auto it = j.find("op");
  if (it == j.end() || !it->is_string()) return bad("missing 'op'");
  const auto& kind = it->get_ref<const std::string&>();
  if (kind == "ins") return parse_insert(j, op);
  if (kind == "del") return parse_delete(j, op);
  if (kind == "ack") return parse_ack(j, op);
  return bad("unknown op '" + kind + "'");
}

}  // namespace

Status parse_ops(const Json& ops, std::vector<WireOp>* out) {
  out->clear();
  if (ops.is_object()) {
    out->emplace_back();
    return parse_one(ops, &out->back());
  }
  if (!ops.is_array()) return bad("ops must be an object or an array");
  out->reserve(ops.size());
  for (const Json& j : ops) {
    out->emplace_back();
    TANDEM_TRY(parse_one(j, &out->back()));
  }
  return {};
}

}  // namespace tandem::text::detail
