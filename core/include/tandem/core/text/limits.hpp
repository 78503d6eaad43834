// Cost limits of text operations (the ops of tandem::text::Document, see
// sequence.hpp) in one change: what a hostile device could otherwise make the
// server's commit thread, and every tablet that pulls the change, pay for.
// validate_change (schema.hpp) refuses a change over them with
// kTextTooLarge — on the server before a push is queued and on every device
// that merges a pulled change; the server also caps a whole push
// (server/include/tandem/server/limits.hpp).
//
// Why these numbers: an honest local edit is ONE change holding one `ins`
// (typing, or pasting any amount of text: one run) and/or one `del` whose
// ranges are the runs of other text it removes (one per author and run). The
// Store writes a delete that crosses more runs or authors than fit as several
// changes (split_ops below), so honest devices never reach a limit.
//   ops:      one change costs at most a few milliseconds to merge at
//             O(log n) per op, and a delete of a long note written in small
//             pieces takes few changes.
//   agents:   an `ins` names its author and its two neighbours' authors; a
//             `del` the authors of what it removes. Each new agent stays in
//             the document's agent table for good, so a change may not bring
//             thousands.
//   inserted: a create carries at most four text fields (a course's goals,
//             frame, roles and evaluation) of kMaxTextLen (200,000) code
//             points each; a local edit never makes a field longer than that.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tandem/core/change.hpp"
#include "tandem/core/error.hpp"

namespace tandem::text {

// `ins` ops plus `del` ranges in one change.
inline constexpr std::uint64_t kMaxOpsPerChange = 4096;
// Distinct agent ids named in one change (ids, origins, deleters, ranges).
inline constexpr std::uint64_t kMaxAgentsPerChange = 256;
// Code points inserted by one change.
inline constexpr std::uint64_t kMaxInsertedPerChange = 1'000'000;

struct TextCost {
  std::uint64_t ops = 0;       // `ins` ops + `del` ranges
  std::uint64_t agents = 0;    // distinct agent ids
  std::uint64_t inserted = 0;  // code points in `ins` texts
};

// The cost of the ops in `values` (each an op object or an array of them, as
// Document::apply takes it), counted together: a create's text fields are one
// change. Errors: those of Document::apply for malformed ops (kInvalidArgument,
// kInvalidUtf8), nothing else.
Result<TextCost> measure_ops(std::span<const Json* const> values);

// kTextTooLarge, naming the limit, when `cost` is over one of the limits above.
Status check_change_cost(const TextCost& cost);

// The ops of one local edit (an array, as Document::insert/remove return
// them) as one or more arrays each within the limits, in order: a `del` whose
// ranges do not fit is cut into several. An `ins` is never cut (a local edit
// never inserts more than the limit). REQUIRES: well-formed ops.
std::vector<Json> split_ops(const Json& ops);

}  // namespace tandem::text
