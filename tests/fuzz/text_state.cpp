// Fuzz target: Document::decode of the binary text state (core/src/text/
// codec.cpp), the form every text field is stored in (the `texts` table) and
// read back from on each edit.
//
// Input: the bytes of a stored state ("TDTX" 1 ...).
// Invariants: anything that is not a valid state is refused with kCorrupt or
// kUnsupportedVersion; a state that decodes is consistent (text_checks.hpp)
// and takes local edits that converge on a peer.
#include "text_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using tandem::fuzz::check;
  auto doc =
      tandem::text::Document::decode(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!doc.ok()) {
    const auto code = doc.error().code;
    check(code == tandem::ErrorCode::kCorrupt || code == tandem::ErrorCode::kUnsupportedVersion,
          "decode refused with an undocumented code", doc.error().message);
    return 0;
  }
  tandem::fuzz::check_document(*doc);
  tandem::fuzz::check_local_edits(*doc);
  return 0;
}
