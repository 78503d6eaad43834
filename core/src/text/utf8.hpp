// UTF-8 helpers for the text CRDT: strict validation and code point offsets.
// Strict means: no overlong forms, no surrogates (U+D800..DFFF), nothing above
// U+10FFFF, no truncated sequences. Stateless and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tandem::text::detail {

// Number of code points in `s`, or nullopt when `s` is not valid UTF-8.
std::optional<std::size_t> utf8_count(std::string_view s) noexcept;

// Decodes the non-ASCII sequence starting at byte `i` of `s` (REQUIRES:
// i < s.size()). Returns its length in bytes (2..4) and sets *cp, or 0 when
// the bytes there are not one strict UTF-8 sequence (also for an ASCII byte).
inline std::size_t utf8_decode(std::string_view s, std::size_t i, std::uint32_t* cp) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char c = p[i];
  std::size_t extra = 0;
  std::uint32_t v = 0;
  std::uint32_t min = 0;
  if ((c & 0xE0) == 0xC0) {
    extra = 1;
    v = c & 0x1Fu;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    extra = 2;
    v = c & 0x0Fu;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    extra = 3;
    v = c & 0x07u;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + extra >= s.size()) return 0;  // truncated sequence
  for (std::size_t k = 1; k <= extra; ++k) {
    const unsigned char cc = p[i + k];
    if ((cc & 0xC0) != 0x80) return 0;
    v = (v << 6) | (cc & 0x3Fu);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return extra + 1;
}

// The code points of `s`; a byte that starts no strict sequence becomes
// U+FFFD (for comparing and classifying text, never for storing it).
std::u32string utf8_code_points(std::string_view s);

// Byte offset of code point `index` in valid UTF-8 `s` holding `count` code
// points. REQUIRES: index <= count. O(1) when `s` is ASCII (size == count).
std::size_t utf8_offset(std::string_view s, std::size_t count, std::size_t index) noexcept;

}  // namespace tandem::text::detail
