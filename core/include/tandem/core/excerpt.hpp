// Showing untrusted text: what an error message, a log line or a terminal may
// show of bytes that came from outside (a request, a name typed on a device).
//
// Two rules, one place:
//  - an error message quotes at most a short excerpt of request data
//    (kMaxExcerptCodePoints), never the data itself;
//  - nothing printed carries a control character: C0, DEL, C1, invalid
//    UTF-8, and the invisible format characters that reorder or hide text
//    (bidi embeddings/overrides/isolates, marks, line/paragraph separators)
//    are written as escapes. Printable UTF-8 (æøå, emoji) is kept as is.
//
// Stateless and thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tandem {

// The longest excerpt of outside data an error message quotes (code points).
inline constexpr std::size_t kMaxExcerptCodePoints = 40;
// The longest error message sent to a client (bytes), whatever it quotes.
inline constexpr std::size_t kMaxErrorMessageBytes = 300;

// `text` with control characters, invalid UTF-8 bytes and backslashes
// escaped: \n \r \t \\ \xNN (a byte) \u{XXXX} (a code point). Unambiguous:
// two different texts never escape to the same line.
std::string escape_controls(std::string_view text);

// A short quote of untrusted `text` for an error message: '...' around its
// first kMaxExcerptCodePoints code points (cut on a code point, "..."
// appended when cut), escaped as escape_controls does.
std::string excerpt(std::string_view text);

// An error message as it may leave the process: control characters and
// invalid UTF-8 escaped (backslashes kept: the message may hold excerpts
// escaped already), cut to kMaxErrorMessageBytes on a code point.
std::string bounded_message(std::string_view message);

// JSON text (e.g. nlohmann's dump) with DEL, C1 and the format characters
// above written as \uXXXX escapes, so that printing it on a terminal is safe
// too (dump escapes only U+0000..001F). Those characters can only occur
// inside JSON strings, where the escape means the same character.
std::string json_escape_controls(std::string_view json_text);

}  // namespace tandem
