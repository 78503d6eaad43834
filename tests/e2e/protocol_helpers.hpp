// Helpers of the in-process codec tests (protocol_bounds.cpp,
// protocol_visibility.cpp): decoding text as one message, a sample change.
#pragma once

#include <cstdint>
#include <string>

#include "tandem/sync/protocol.hpp"

namespace tandem::test {

// The error code of decoding `text` as message T (kOk when it decodes).
template <typename T>
ErrorCode decode_as(const std::string& text) {
  auto j = sync::parse_json(text);
  if (!j) return j.error().code;
  auto r = T::from_json(*j);
  return r ? ErrorCode::kOk : r.error().code;
}

// A valid change stamped at `ms`.
inline Change change_at(std::int64_t ms) {
  Change c;
  c.hlc = Hlc{ms, 0, "0123456789abcdef"};
  c.record = "course_1";
  c.kind = "course";
  c.school = "school_1";
  c.op = Op::kSet;
  c.field = "title";
  c.value = "Dansk";
  return c;
}

}  // namespace tandem::test
