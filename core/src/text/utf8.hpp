// UTF-8 helpers for the text CRDT: strict validation and code point offsets.
// Strict means: no overlong forms, no surrogates (U+D800..DFFF), nothing above
// U+10FFFF, no truncated sequences. Stateless and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tandem::text::detail {

// Number of code points in `s`, or nullopt when `s` is not valid UTF-8.
std::optional<std::size_t> utf8_count(std::string_view s) noexcept;

// Byte offset of code point `index` in valid UTF-8 `s` holding `count` code
// points. REQUIRES: index <= count. O(1) when `s` is ASCII (size == count).
std::size_t utf8_offset(std::string_view s, std::size_t count, std::size_t index) noexcept;

}  // namespace tandem::text::detail
