// What must hold of every text Document, however it was reached (the text
// fuzz targets check it after each step): its text is valid UTF-8 of size()
// code points, and its encoding is a fixed point of decode/encode that
// restores the same text and the same buffered ops.
#pragma once

#include <string>

#include "fuzz_support.hpp"
#include "tandem/core/text/sequence.hpp"
#include "text/utf8.hpp"

namespace tandem::fuzz {

// Returns doc.encode() (checked).
inline std::string check_document(const text::Document& doc) {
  const std::string text = doc.text();
  const auto count = text::detail::utf8_count(text);
  check(count.has_value(), "text() is not valid UTF-8");
  check(*count == doc.size(), "size() differs from the code points of text()");
  std::string bytes = doc.encode();
  auto again = text::Document::decode(bytes);
  check(again.ok(), "decode(encode()) fails", again.ok() ? "" : again.error().message);
  check(again->encode() == bytes, "encode(decode(encode())) differs from encode()");
  check(again->text() == text, "decode(encode()) has another text");
  check(again->pending_count() == doc.pending_count(), "decode(encode()) buffers other ops");
  check(again->merged_by() == doc.merged_by(), "decode(encode()) has other merge marks");
  return bytes;
}

// A local edit on top of whatever state the input reached, by an agent the
// inputs rarely use, and a peer that receives it: both must end with the same
// text (an edit made here and applied there converges). Errors are allowed
// only where the API documents them (the agent's ids used up).
inline void check_local_edits(text::Document& doc) {
  constexpr const char* kAgent = "fuzz-local-agent";
  text::Document peer = doc;
  auto ins = doc.insert(kAgent, doc.size() / 2, "\xC3\xB8!");  // "ø!"
  check(ins.ok() || ins.error().code == ErrorCode::kTooLong, "a local insert failed",
        ins.ok() ? "" : ins.error().message);
  if (ins.ok()) check(peer.apply(*ins).ok(), "a peer refuses a local insert");
  if (doc.size() > 0) {
    auto del = doc.remove(kAgent, doc.size() / 3, 1);
    check(del.ok(), "a local delete failed", del.ok() ? "" : del.error().message);
    check(peer.apply(*del).ok(), "a peer refuses a local delete");
  }
  check(peer.text() == doc.text(), "a peer that applied the local edits has another text");
  check_document(doc);
}

}  // namespace tandem::fuzz
