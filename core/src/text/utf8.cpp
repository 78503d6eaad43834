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
    std::uint32_t cp = 0;
    const std::size_t len = utf8_decode(s, i, &cp);
    if (len == 0) return std::nullopt;
    i += len;
    ++count;
  }
  return count;
}

std::u32string utf8_code_points(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = c;
    std::size_t n = 1;
    if (c >= 0x80) {
      n = utf8_decode(s, i, &cp);
      if (n == 0) {
        cp = 0xFFFD;  // a stray byte: one unknown character
        n = 1;
      }
    }
    out.push_back(static_cast<char32_t>(cp));
    i += n;
  }
  return out;
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
