#include "text/utf8.hpp"

namespace tandem::text::detail {

std::optional<std::size_t> utf8_count(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < n) {
    // Fast path: eight ASCII bytes at a time are the common case.
    while (i + 8 <= n) {
      std::uint64_t word = 0;
      for (int k = 0; k < 8; ++k) word |= static_cast<std::uint64_t>(p[i + k]) << (8 * k);
      if (word & 0x8080808080808080ULL) break;
      i += 8;
      count += 8;
    }
    if (i >= n) break;
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      ++count;
      continue;
    }
    std::size_t extra = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1Fu;
      min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0Fu;
      min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07u;
      min = 0x10000;
    } else {
      return std::nullopt;
    }
    if (i + extra >= n) return std::nullopt;  // truncated sequence
    for (std::size_t k = 1; k <= extra; ++k) {
      const unsigned char cc = p[i + k];
      if ((cc & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    i += extra + 1;
    ++count;
  }
  return count;
}

std::size_t utf8_offset(std::string_view s, std::size_t count, std::size_t index) noexcept {
  if (s.size() == count || index == 0) return index;
  if (index >= count) return s.size();
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t i = 0;
  std::size_t seen = 0;
  // Count lead bytes (anything that is not a continuation byte).
  while (i < s.size()) {
    if ((p[i] & 0xC0) != 0x80) {
      if (seen == index) return i;
      ++seen;
    }
    ++i;
  }
  return s.size();
}

}  // namespace tandem::text::detail
