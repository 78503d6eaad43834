// The text CRDT's integration as it was before issue 11 (commit b25542c,
// core/src/text/document.cpp): the YjsMod loop over whole runs, with its
// buffering of ops whose origins are missing. Kept here, frozen, as the
// reference the search-based integration must agree with byte for byte
// (tests/property/text_integration_test.cpp). It runs on a real Document with
// the document's integration index switched off, so both sides share the
// unchanged parts (parser, run tree, deletes, encoder) and can be compared
// through encode().
#pragma once

#include <cstdint>

#include "tandem/core/error.hpp"
#include "tandem/core/text/sequence.hpp"

namespace tandem::text {

// Test access to a Document's private state.
struct DocumentInternals {
  using Impl = Document::Impl;
  static Impl& impl(Document& doc);
  // Makes every remote insert of `doc` find its place by search (the index
  // is built on the first one) instead of after a long scan.
  static void always_search(Document& doc);
  // Whether `doc` keeps its integration index (searches), has not built it
  // yet, or gave it up after a dangerous op.
  enum class Index { kUnbuilt, kRegular, kIrregular };
  static Index index(const Document& doc);
};

namespace reference {

// Applies remote ops like Document::apply did before issue 11. Local edits
// on a reference document use Document::insert/remove as they are (placing
// a local insert never scanned). Once used on `doc`, keep using it for every
// remote op of `doc`.
Status apply(Document& doc, const Json& ops);

}  // namespace reference
}  // namespace tandem::text
