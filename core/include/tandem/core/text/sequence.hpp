// tandem::text::Document — the sequence CRDT behind every long text field
// (lesson logs, notes, reflections, minutes, goals).
//
// ALGORITHM
//   YATA with left *and* right origins, in the "YjsMod" variant of Seph
//   Gentle's reference-crdts / diamond-types, which is equivalent to FugueMax
//   (Weidner & Kleppmann, "The Art of the Fugue", 2023). Every inserted code
//   point is an item with a unique id (agent, seq) and remembers the items that
//   were immediately to its left and right when it was typed (its origins).
//   A remote item is placed between its origins; items concurrently inserted
//   in the same gap are ordered by comparing their own origins, and only a
//   true tie (same left and right origin) is decided by agent name. This is
//   what keeps two people typing at the same place from interleaving
//   character by character: a forward-typed run is a chain of left origins and
//   always stays contiguous.
//
// POSITIONS are Unicode code points of the UTF-8 text ("æ", "ø", "å" and
// 4-byte characters such as emoji are one position each). Text is always
// valid UTF-8.
//
// OPERATIONS (the Json returned by insert/remove, accepted by apply) are a
// JSON array of op objects; apply() also accepts a single op object.
//   {"op":"ins","id":[agent,seq],"left":[agent,seq]|null,"right":[agent,seq]|null,
//    "text":"one run of typed text"}
//   {"op":"del","by":agent,"ids":[[agent,seq,len],...]}
//   {"op":"ack","by":agent,"ids":[[agent,seq,len,[deleter,...]],...]}
// A run of inserted text is one "ins" op whose code points get the ids
// seq, seq+1, ...; inside the run each code point's left origin is the one
// before it. An "ack" says that `by` has seen the overlap of the listed
// deleters' deletes on those ids (MERGE MARKS); it changes no text; ops made
// before "ack" existed all still apply. Agents are 1..64 printable ASCII
// characters (site ids); seq and
// seq+len stay below 2^53 so that they survive any JSON implementation.
// Unknown members, wrong types, bad UTF-8 and self-referencing origins are
// rejected with kInvalidArgument and change nothing (an array is validated
// completely before any of it is applied).
//
// DELIVERY: apply() is idempotent and commutative. Ops may arrive in any order
// and duplicated. An op whose origins (ins) or targets (del) are not known yet
// is buffered inside the Document — and kept across encode()/decode() — until
// they arrive. If the same id arrives twice with different content, the first
// one wins everywhere it arrived first; ids are never reused by honest peers
// because an agent continues after the highest seq the document knows for it.
//
// MERGE MARKS: an item removed by the deletes of two different agents was
// deleted concurrently (a delete only targets text its author could see), as
// when two people rewrite the same sentence offline; the merged text there
// may read oddly. merged_by() names the authors of such overlaps until an
// "ack" op (confirm(), made by the Store on every later local edit of the
// field and on an explicit confirmation) covers them. The marks are a
// function of the set of ops received, like the text: every replica shows
// the same ones whatever the order. Concurrent edits that delete different
// items, and concurrent inserts, make no mark. Deletes of an old state
// (format version 1, which did not keep who deleted what) make none either.
//
// TOMBSTONES: deleting keeps the deleted items' ids, origins and lengths (a
// tombstone run) because concurrent and future inserts may use them as origins
// and because a late delete must still find its target. The deleted CONTENT
// is dropped immediately, in memory and in encode(). Tombstone runs could be
// compacted (dropped, or merged into a single placeholder) once every replica
// that will ever send ops for this document has seen the delete — i.e. once
// the sync layer knows a causal stability point. That needs knowledge of all
// replicas, which a Document does not have; compaction is therefore NOT done
// yet (planned together with server-side snapshots).
//
// ENCODING (encode/decode): compact binary, version 2 (version 1, without
// deleters and marks, still decodes). A table of agents, then
// the runs in document order, run-length encoded (one run = consecutive ids of
// one agent with chained origins and the same deleted state), LEB128 varints,
// origins stored implicitly when they are the neighbouring run, deleted runs
// as ids + length + deleter, followed by the buffered (not yet applicable)
// ops and the merge marks.
//
// COMPLEXITY: runs live in a splay tree ordered by document position with
// subtree counts (visible code points, all items), plus a per-agent id index,
// so local edits cost O(log runs) amortised. A remote insert is placed by the
// YjsMod loop while that stops within a few runs; past that (many agents at
// one place) the Document builds an index of each item's children and finds
// the same place by search: O(log n) amortised comparisons per insert, also
// when thousands of agents insert at one position (docs/text-integration.md).
// text() and encode() are O(length).
//
// THREAD-SAFETY: a Document is not thread-safe. Const members (text, size,
// encode) do not modify anything and may run concurrently with each other, but
// not with a non-const member. Distinct Documents are independent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/change.hpp"
#include "tandem/core/error.hpp"

namespace tandem::text {

class Document {
 public:
  Document();
  ~Document();
  // Copies the full CRDT state (including buffered ops).
  Document(const Document& other);
  Document& operator=(const Document& other);
  // A moved-from Document may only be destroyed or assigned to.
  Document(Document&& other) noexcept;
  Document& operator=(Document&& other) noexcept;

  // Restores a document from encode() bytes without replaying history.
  // kCorrupt on truncated, malformed or inconsistent input; kUnsupportedVersion
  // for a newer format version.
  static Result<Document> decode(std::string_view bytes);
  // The compact binary form (see ENCODING above). Never contains deleted text.
  std::string encode() const;

  // The materialised UTF-8 text (a fresh copy; O(length)).
  std::string text() const;
  // Length in code points. O(1).
  std::size_t size() const;

  // Local edit by `agent` (this replica's site id). On success the edit is
  // applied and the returned Json array holds the op(s) to ship to the other
  // replicas (empty when nothing changed, e.g. an empty insert).
  // Errors (nothing changed): kInvalidArgument for pos > size() or a bad agent,
  // kInvalidUtf8 when `utf8` is not valid UTF-8, kTooLong when the agent has
  // used up its 2^53 ids.
  Result<Json> insert(std::string_view agent, std::size_t pos, std::string_view utf8);
  // What insert(agent, 0, utf8) returns on an empty document, without
  // building one (a new record's text: the common case when recording).
  static Result<Json> initial_ops(std::string_view agent, std::string_view utf8);
  // Deletes `len` code points starting at `pos`.
  // Errors: kInvalidArgument when pos + len > size() or the agent is bad.
  Result<Json> remove(std::string_view agent, std::size_t pos, std::size_t len);

  // Applies remote op(s): an op object or an array of them, as produced by
  // insert/remove on any replica. Idempotent and commutative; ops whose
  // dependencies are missing are buffered. kInvalidArgument (or kInvalidUtf8)
  // for a malformed op; then nothing of `ops` was applied.
  Status apply(const Json& ops);

  // The authors (agents, sorted) of the overlapping concurrent deletes not
  // acknowledged yet (MERGE MARKS); empty when there are none. O(marks).
  std::vector<std::string> merged_by() const;
  // Acknowledges every open overlap as `agent` (a local confirmation): on
  // success the marks are settled here and the returned Json array holds the
  // "ack" op to ship (empty when nothing was open).
  // Errors: kInvalidArgument for a bad agent.
  Result<Json> confirm(std::string_view agent);

  // Number of ops buffered because their dependencies have not arrived.
  std::size_t pending_count() const;

  // Elementary steps done since this Document was made (tree rotations and
  // descents, comparisons, runs scanned): deterministic, so tests and
  // benchmarks can assert how integration cost grows without a clock.
  std::uint64_t work() const;

 private:
  struct Impl;
  friend struct DocumentInternals;  // tests: tests/property/text_reference.cpp
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem::text
