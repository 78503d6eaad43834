// A Change is one user-visible edit of one record: the unit that is stored in
// the outbox, exported in bundles, sent over the wire and merged everywhere.
//
// JSON form (the same in bundles and in the /v1 protocol):
//   {"hlc":"0192a3b4c5d6-000001-0123456789abcdef",  // also the change id
//    "record":"course_1f2e...", "kind":"course", "school":"school_ab12...",
//    "op":"create|set|add|remove|delete|purge|text",
//    "field":"title",            // set/add/remove/text
//    "value":...,                // create: object of initial fields;
//                                // set: the new value; add/remove: the element;
//                                // text: the sequence-CRDT operations
//    "seen":["<hlc>",...]}       // set: the field's values the writer had seen
// Members that do not apply are omitted. Unknown members are an error.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/error.hpp"
#include "tandem/core/hlc.hpp"

namespace tandem {

using Json = nlohmann::json;

enum class Op { kCreate, kSet, kAdd, kRemove, kDelete, kPurge, kText };

std::string_view op_name(Op op) noexcept;
Result<Op> op_from_name(std::string_view name);

struct Change {
  Hlc hlc;
  std::string record;
  std::string kind;
  std::string school;
  Op op = Op::kSet;
  std::string field;
  Json value;
  std::vector<std::string> seen;

  std::string id() const { return hlc.str(); }
  Json to_json() const;
  // Structural decoding only (types, members, HLC syntax). Domain validation
  // (kinds, fields, enum values) is validate_change() in schema.hpp.
  static Result<Change> from_json(const Json& j);
};

}  // namespace tandem
