#include "tandem/core/excerpt.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "text/utf8.hpp"

namespace tandem {
namespace {

using text::detail::utf8_decode;

// Code points beyond ASCII that must not reach a terminal as they are.
bool is_hidden_control(std::uint32_t cp) {
  return (cp >= 0x80 && cp <= 0x9F) ||      // C1 (U+009B is a terminal CSI)
         cp == 0x061C ||                    // Arabic letter mark
         (cp >= 0x200B && cp <= 0x200F) ||  // zero-width spaces/joiners, LRM/RLM
         (cp >= 0x2028 && cp <= 0x202E) ||  // line/paragraph separators, bidi embeddings
         (cp >= 0x2060 && cp <= 0x206F) ||  // word joiner, bidi isolates, deprecated formats
         cp == 0xFEFF;                      // zero-width no-break space (BOM)
}

void append_byte_escape(std::string& out, unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(c) & 0xFFu);
  out += buf;
}

struct EscapeStyle {
  bool backslash;               // escape '\' itself (unambiguous output)
  std::size_t max_code_points;  // 0: no limit
  std::size_t max_bytes;        // of the output; 0: no limit
};

// Appends `text` escaped to `out`; true when all of it fit the limits.
bool escape_into(std::string& out, std::string_view text, EscapeStyle style) {
  std::size_t code_points = 0;
  std::size_t i = 0;
  const std::size_t start = out.size();
  while (i < text.size()) {
    if (style.max_code_points && code_points == style.max_code_points) return false;
    const std::size_t before = out.size();
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = 1;
    if (c < 0x80) {
      if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else if (c < 0x20 || c == 0x7F) {
        append_byte_escape(out, c);
      } else if (c == '\\' && style.backslash) {
        out += "\\\\";
      } else {
        out += static_cast<char>(c);
      }
    } else {
      std::uint32_t cp = 0;
      len = utf8_decode(text, i, &cp);
      if (len == 0) {
        len = 1;
        append_byte_escape(out, c);
      } else if (is_hidden_control(cp)) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "\\u{%04X}", static_cast<unsigned>(cp));
        out += buf;
      } else {
        out.append(text.substr(i, len));
      }
    }
    if (style.max_bytes && out.size() - start > style.max_bytes) {
      out.resize(before);
      return false;
    }
    i += len;
    ++code_points;
  }
  return true;
}

}  // namespace

std::string escape_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  escape_into(out, text, {true, 0, 0});
  return out;
}

std::string excerpt(std::string_view text) {
  std::string out = "'";
  const bool whole = escape_into(out, text, {true, kMaxExcerptCodePoints, 0});
  out += whole ? "'" : "...'";
  return out;
}

std::string bounded_message(std::string_view message) {
  std::string out;
  out.reserve(std::min(message.size(), kMaxErrorMessageBytes));
  constexpr std::string_view kCut = "...";
  if (!escape_into(out, message, {false, 0, kMaxErrorMessageBytes - kCut.size()})) out += kCut;
  return out;
}

std::string json_escape_controls(std::string_view json_text) {
  std::string out;
  out.reserve(json_text.size());
  std::size_t i = 0;
  while (i < json_text.size()) {
    const auto c = static_cast<unsigned char>(json_text[i]);
    if (c < 0x80) {
      if (c == 0x7F) {
        out += "\\u007f";
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    std::uint32_t cp = 0;
    const std::size_t len = utf8_decode(json_text, i, &cp);
    if (len == 0) {  // not UTF-8 (a JSON writer never makes it): left alone
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (is_hidden_control(cp)) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(json_text.substr(i, len));
    }
    i += len;
  }
  return out;
}

}  // namespace tandem
