// Showing untrusted text (excerpt.hpp): escapes that leave no control
// character, excerpts that stay short, messages that stay bounded.
#include "tandem/core/excerpt.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

using namespace tandem;

namespace {

// True when `s` holds a byte a terminal would act on: C0, DEL, or the lead
// of a C1 (U+0080..009F) or of a bidi/format character (U+2028..202E,
// U+2066..2069) in UTF-8.
bool has_control(const std::string& s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xA0) return true;
    if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        static_cast<unsigned char>(s[i + 2]) >= 0xA8 &&
        static_cast<unsigned char>(s[i + 2]) <= 0xAE)
      return true;
    if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x81 &&
        static_cast<unsigned char>(s[i + 2]) >= 0xA6 &&
        static_cast<unsigned char>(s[i + 2]) <= 0xA9)
      return true;
  }
  return false;
}

}  // namespace

TEST_CASE("excerpt: control characters are escaped, printable text is kept", "[core][excerpt]") {
  CHECK(escape_controls("Skovbakkeskolen æøå ✓") == "Skovbakkeskolen æøå ✓");
  CHECK(escape_controls("a\tb\nc\rd") == "a\\tb\\nc\\rd");
  CHECK(escape_controls("\x1b[31mred") == "\\x1B[31mred");
  CHECK(escape_controls(std::string("nul\0x", 5)) == "nul\\x00x");
  CHECK(escape_controls("del\x7f") == "del\\x7F");
  CHECK(escape_controls("csi\xc2\x9b"
                        "2J") == "csi\\u{009B}2J");  // C1 CSI
  CHECK(escape_controls("evil\xe2\x80\xae"
                        "gpj.exe") == "evil\\u{202E}gpj.exe");  // RLO
  CHECK(escape_controls("iso\xe2\x81\xa6x") == "iso\\u{2066}x");
  CHECK(escape_controls("bad\xff\xc3") == "bad\\xFF\\xC3");     // not UTF-8
  CHECK(escape_controls("\xed\xa0\x80") == "\\xED\\xA0\\x80");  // a surrogate
  // Unambiguous: a backslash is escaped, so "\x1B" typed cannot pass for ESC.
  CHECK(escape_controls("\\x1B") == "\\\\x1B");
  CHECK_FALSE(has_control(escape_controls("\x01\x1b\x7f\xc2\x80\xe2\x80\xa8\xe2\x81\xa9")));
}

TEST_CASE("excerpt: a quote of outside data is short, cut on a code point", "[core][excerpt]") {
  CHECK(excerpt("kind") == "'kind'");
  CHECK(excerpt("") == "''");
  const std::string long_ascii(10000, 'k');
  const std::string e = excerpt(long_ascii);
  CHECK(e == "'" + std::string(kMaxExcerptCodePoints, 'k') + "...'");
  // Two-byte characters: cut after 40 of them, never inside one.
  std::string danish;
  for (int i = 0; i < 100; ++i) danish += "ø";
  const std::string d = excerpt(danish);
  std::string forty;
  for (std::size_t i = 0; i < kMaxExcerptCodePoints; ++i) forty += "ø";
  CHECK(d == "'" + forty + "...'");
  // Escapes count as the one character they stand for.
  const std::string esc = excerpt(std::string(100, '\x1b'));
  CHECK(esc.size() == 2 + 4 * kMaxExcerptCodePoints + 3);
  CHECK_FALSE(has_control(esc));
}

TEST_CASE("excerpt: a message leaving the process is bounded and escaped", "[core][excerpt]") {
  CHECK(bounded_message("push.changes[3]: unknown member 'x'") ==
        "push.changes[3]: unknown member 'x'");
  // Backslashes already in a message (from an excerpt) are left as they are.
  CHECK(bounded_message("unknown kind 'a\\\\b'") == "unknown kind 'a\\\\b'");
  const std::string huge = "unknown member '" + std::string(100000, '\x07') + "'";
  const std::string m = bounded_message(huge);
  CHECK(m.size() <= kMaxErrorMessageBytes);
  CHECK(m.substr(m.size() - 3) == "...");
  CHECK_FALSE(has_control(m));
  std::string wide;
  for (int i = 0; i < 1000; ++i) wide += "€";  // 3 bytes each
  const std::string w = bounded_message(wide);
  CHECK(w.size() <= kMaxErrorMessageBytes);
  CHECK((w.size() - 3) % 3 == 0);  // whole characters, then "..."
}

TEST_CASE("excerpt: JSON text is made safe for a terminal without changing its meaning",
          "[core][excerpt]") {
  const std::string dumped =
      "{\"name\":\"x\x7f\xc2\x9b\xe2\x80\xae"
      "y æ\"}";
  const std::string safe = json_escape_controls(dumped);
  CHECK(safe == "{\"name\":\"x\\u007f\\u009b\\u202ey æ\"}");
  CHECK_FALSE(has_control(safe));
  CHECK(nlohmann::json::parse(safe) == nlohmann::json::parse(dumped));
}
