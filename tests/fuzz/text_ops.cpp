// Fuzz target: text operations as they arrive in a `text` change's value
// (core/src/text/op_json.cpp decodes them, Document::apply integrates them),
// applied to a document that already holds text typed concurrently by two
// agents, with deletions and an op still waiting for its origin
// (make_text_base, fixtures.hpp).
//
// Input: JSON text (an op object or an array of ops, sequence.hpp).
// Invariants: a refused input changes nothing and is refused with
// kInvalidArgument or kInvalidUtf8; an accepted one leaves a consistent
// document (text_checks.hpp), and applying it again changes nothing
// (idempotence); local edits afterwards work and converge on a peer.
#include <memory>

#include "fixtures.hpp"
#include "text_checks.hpp"

namespace {

using tandem::Json;
using tandem::fuzz::check;
using tandem::text::Document;

const Document* g_base = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  static const Document base = tandem::fuzz::make_text_base();
  g_base = &base;
  tandem::fuzz::check_document(base);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const char* text = reinterpret_cast<const char*>(data);
  const Json ops = Json::parse(text, text + size, nullptr, /*allow_exceptions=*/false);
  if (ops.is_discarded()) return 0;

  Document doc = *g_base;
  const std::string before = doc.encode();
  auto applied = doc.apply(ops);
  if (!applied.ok()) {
    const auto code = applied.error().code;
    check(code == tandem::ErrorCode::kInvalidArgument || code == tandem::ErrorCode::kInvalidUtf8,
          "apply refused with an undocumented code", applied.error().message);
    check(doc.encode() == before, "a refused apply changed the document");
    return 0;
  }
  const std::string after = tandem::fuzz::check_document(doc);
  check(doc.apply(ops).ok(), "applying accepted ops again fails");
  check(doc.encode() == after, "applying the same ops twice changed the document");
  tandem::fuzz::check_local_edits(doc);
  return 0;
}
