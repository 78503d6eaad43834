// Rules a record meets when THIS device writes it, beyond what one field's
// type says (schema.hpp): "coding that checks itself".
//
//   required names   a required string or text field (a course's title, a
//                    person's name, ...) is not blank: whitespace only
//                    (Unicode White_Space and the invisible zero-width
//                    characters) is kMissingField, like an absent one.
//   an end not before its start
//                    session started_at <= ended_at, course start_date <=
//                    end_date, entry at <= end (a duration code). Equal is
//                    fine (a zero-length event). kInvalidValue.
//   codes            an entry's code (code, tick, tally) is one of its
//                    session's template codes, a rating's item one of its
//                    rating items; a code, tick, tally or rating has a
//                    non-blank code (kMissingField). Unknown: kInvalidValue,
//                    the message names up to kMaxCodeSuggestions closest
//                    codes (closest_codes below).
//                    FREE CODING: a session without a template, whose
//                    template record is missing here, or whose template lists
//                    no codes (no rating items) accepts any code (any item).
//                    A template whose definition does not parse refuses coded
//                    entries with its own error (its summary would fail too).
//   intervals        a tick's interval is >= 0 and < summary::kMaxIntervals
//                    (one bogus index must not make the session's summary
//                    unreadable); when the session has started_at, ended_at
//                    and an interval length (its own interval_seconds, else
//                    its template's), also < the interval count
//                    ceil((ended_at - started_at) / length). kInvalidValue.
//
// When: on local writes only (Store::create, set, add, remove, resolve), at
// the commit of the outermost transaction, on the record as it then stands,
// and only the rules that read a field the transaction wrote. So an update
// that sets only an end is checked against the start already saved, one that
// sets both is checked against both new values whatever their order, and a
// record that already breaks a rule (saved by an older version, or merged
// from two devices) can still have its other fields edited. A refusal rolls
// the whole transaction back (several ticks in one command: all or none).
// Remote changes (sync, bundles) are NEVER refused by these rules: what
// another device saved was checked there, and a merge must not lose it.
//
// Thread-safety: RecordRules is used by one thread (the Store's); the free
// functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/error.hpp"
#include "tandem/core/json.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/core/session_summary.hpp"
#include "tandem/core/store.hpp"
#include "tandem/core/templates.hpp"

namespace tandem {

// The most codes an unknown-code message suggests.
inline constexpr std::size_t kMaxCodeSuggestions = 3;

// kMissingField when `field` is required, a string or text, and `value` is a
// string of whitespace only (see above); ok otherwise (types are
// validate_value's business).
Status check_not_blank(const FieldSpec& field, const Json& value);

// True when `text` holds nothing but whitespace and invisible characters
// (also for ""). `text` is valid UTF-8 (invalid bytes count as visible).
bool is_blank(std::string_view text);

// The codes of `known` (template order) closest to `given`, best first, at
// most `max`: those equal to it ignoring case (`I-lec` -> `I-Lec`), and then
// no others; else a namespaced code whose last part is it (`Lec` -> `I-Lec`;
// `AnQ` -> `S-AnQ`, `I-AnQ`) or the same code in another namespace (`S-Lec`
// -> `I-Lec`); then by edit distance ignoring case (insert, delete, replace
// or swap two neighbours: one step each), for distances up to
// max(2, length / 3), nearer first. Ties keep template order. Empty when
// nothing is close.
std::vector<std::string> closest_codes(std::string_view given, std::span<const std::string> known,
                                       std::size_t max = kMaxCodeSuggestions);

// What an entry of a session is checked against.
struct CodingFrame {
  std::string template_name;      // for messages ("" when none)
  std::vector<std::string> codes;  // empty: any code (free coding)
  std::vector<RatingItem> ratings;  // empty: any rating item
  std::optional<std::int64_t> interval_count;  // when the session's length is known
  std::optional<Error> broken;     // the template's definition does not parse
};

// The frame of `session` (its merged fields) with `tmpl` its template
// (template_info, session_summary.hpp).
CodingFrame coding_frame(const Json& session_fields, const TemplateInfo& tmpl);

// Checks an entry's code and interval (its merged fields) against `frame`.
Status check_entry_coding(const Json& entry_fields, const CodingFrame& frame);

// The rules of one local transaction's records. `lookup` reads a record
// (any state; the rules look at live ones only) without the offline lease's
// refusal: a rule must not stop a write the lease allows.
class RecordRules {
 public:
  using Lookup = std::function<Result<Record>(std::string_view id)>;
  explicit RecordRules(Lookup lookup) : lookup_(std::move(lookup)) {}

  // Whether a rule of `kind` reads one of the `written` fields (else check
  // has nothing to do, and the record need not be read).
  static bool watches(std::string_view kind, const std::set<std::string>& written);

  // Checks a record of `kind` whose merged fields are `fields`, of which the
  // transaction wrote `written`. Errors: as listed at the top; a lookup's.
  Status check(std::string_view kind, const Json& fields, const std::set<std::string>& written);

 private:
  Result<const CodingFrame*> frame_of(const std::string& session);

  Lookup lookup_;
  std::map<std::string, CodingFrame> frames_;  // by session id, for one transaction
};

}  // namespace tandem
