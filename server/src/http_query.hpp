// application/x-www-form-urlencoded parameters, as found in a request
// target's query or a form body: `name=value&...`, '+' for space and
// %XX escapes. Bounded: at most kMaxFormFields fields are looked at.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tandem::server {

inline constexpr std::size_t kMaxFormFields = 64;

// The decoded value of the first field `name` in `form` (a query string
// without '?', or a form body); nullopt when absent or badly escaped.
std::optional<std::string> form_value(std::string_view form, std::string_view name);
// The query part of a request target ("" when none).
std::string_view query_of(std::string_view target);
// Decodes one form component ('+' is a space); nullopt on a bad %XX escape.
std::optional<std::string> form_decode(std::string_view text);

}  // namespace tandem::server
