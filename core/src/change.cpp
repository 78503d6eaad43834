#include "tandem/core/change.hpp"

#include <array>

#include "tandem/core/excerpt.hpp"

namespace tandem {
namespace {
constexpr std::array<std::string_view, 7> kOps = {"create", "set",   "add", "remove",
                                                  "delete", "purge", "text"};
Result<std::string> get_string(const Json& j, const char* key, bool required) {
  auto it = j.find(key);
  if (it == j.end()) {
    if (required) return make_error(ErrorCode::kMissingField, std::string("change lacks '") + key + "'");
    return std::string();
  }
  if (!it->is_string()) return make_error(ErrorCode::kWrongType, std::string("'") + key + "' must be a string");
  return it->get<std::string>();
}
}  // namespace

std::string_view op_name(Op op) noexcept { return kOps[static_cast<std::size_t>(op)]; }

Result<Op> op_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kOps.size(); ++i) {
    if (kOps[i] == name) return static_cast<Op>(i);
  }
  return make_error(ErrorCode::kInvalidValue, "unknown op " + excerpt(name));
}

Json Change::to_json() const {
  Json j = Json::object();
  j["hlc"] = hlc.str();
  j["record"] = record;
  j["kind"] = kind;
  j["school"] = school;
  j["op"] = op_name(op);
  if (!field.empty()) j["field"] = field;
  if (!value.is_null()) j["value"] = value;
  if (!seen.empty()) j["seen"] = seen;
  return j;
}

Result<Change> Change::from_json(const Json& j) {
  if (!j.is_object()) return make_error(ErrorCode::kWrongType, "a change must be a JSON object");
  for (const auto& [key, _] : j.items()) {
    if (key != "hlc" && key != "record" && key != "kind" && key != "school" && key != "op" &&
        key != "field" && key != "value" && key != "seen") {
      return make_error(ErrorCode::kUnknownField, "unknown member " + excerpt(key) + " in change");
    }
  }
  Change c;
  auto hlc = get_string(j, "hlc", true);
  if (!hlc) return std::move(hlc).error();
  auto parsed = Hlc::parse(*hlc);
  if (!parsed) return std::move(parsed).error();
  c.hlc = std::move(*parsed);
  auto record = get_string(j, "record", true);
  if (!record) return std::move(record).error();
  c.record = std::move(*record);
  auto kind = get_string(j, "kind", true);
  if (!kind) return std::move(kind).error();
  c.kind = std::move(*kind);
  auto school = get_string(j, "school", false);
  if (!school) return std::move(school).error();
  c.school = std::move(*school);
  auto op = get_string(j, "op", true);
  if (!op) return std::move(op).error();
  auto op_value = op_from_name(*op);
  if (!op_value) return std::move(op_value).error();
  c.op = *op_value;
  auto field = get_string(j, "field", false);
  if (!field) return std::move(field).error();
  c.field = std::move(*field);
  if (auto it = j.find("value"); it != j.end()) c.value = *it;
  if (auto it = j.find("seen"); it != j.end()) {
    if (!it->is_array()) return make_error(ErrorCode::kWrongType, "'seen' must be an array");
    for (const auto& s : *it) {
      if (!s.is_string() || !Hlc::parse(s.get<std::string>()).ok()) {
        return make_error(ErrorCode::kWrongType, "'seen' must hold HLC stamps");
      }
      c.seen.push_back(s.get<std::string>());
    }
  }
  if (c.record.empty() || c.record.size() > 64) {
    return make_error(ErrorCode::kInvalidArgument, "record id must be 1..64 characters");
  }
  const bool needs_field = c.op == Op::kSet || c.op == Op::kAdd || c.op == Op::kRemove || c.op == Op::kText;
  if (needs_field && c.field.empty()) return make_error(ErrorCode::kMissingField, "change lacks 'field'");
  if (!needs_field && !c.field.empty()) return make_error(ErrorCode::kInvalidArgument, "'field' not allowed for this op");
  return c;
}

}  // namespace tandem
