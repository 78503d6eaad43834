// Human-readable text for records (labels in Danish, values as stored).
// Used only when --json is not given; scripts must use --json.
#pragma once

#include <string>

#include "tandem/core/store.hpp"

namespace tandem::cli {

// A value as a person reads it: strings raw, sets "a, b", the rest as JSON.
std::string format_value(const Json& value);
// A multi-line description: id and kind, then every field in schema order,
// then open conflicts and the delete/purge state.
std::string format_record(const Record& record);
// One line for lists: the id, then a short label (title/name/first text field).
std::string format_record_line(const Record& record);

}  // namespace tandem::cli
