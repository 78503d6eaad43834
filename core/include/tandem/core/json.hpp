// JSON text that comes from outside the process (request and response
// bodies, bundle files, values typed at the command line) is parsed here,
// with a bound on nesting: nlohmann_json copies, compares and prints values
// recursively, so a value nested a hundred thousand levels deep exhausts the
// stack wherever it goes next. Deeper text is refused before it is parsed.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string_view>

#include "tandem/core/change.hpp"
#include "tandem/core/error.hpp"

namespace tandem {

// Nesting of arrays and objects accepted from outside. The deepest honest
// text (a bundle holding a change whose value is a template definition) is
// under ten levels.
inline constexpr std::size_t kMaxJsonDepth = 64;

// Parses `text` as one JSON value. Nesting deeper than `max_depth` is refused
// by a linear pre-scan, before the parser runs. Errors: kInvalidJson (syntax,
// invalid UTF-8, too deep); the message never quotes the text.
Result<Json> parse_json_text(std::string_view text, std::size_t max_depth = kMaxJsonDepth);

}  // namespace tandem
