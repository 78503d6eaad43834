// The domain schema as data: every record kind of DOMAIN.md, its fields,
// their types, allowed values and limits. The Store validates every local
// write and every remote change against it; the CLI and the server use it to
// parse and check input. One table, so the merge rules follow from the type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/change.hpp"
#include "tandem/core/error.hpp"

namespace tandem {

namespace text {
struct TextCost;
}

enum class FieldType {
  kString,    // short text, LWW register
  kText,      // long text: sequence CRDT (merges character by character)
  kEnum,      // one of `values`
  kDate,      // "YYYY-MM-DD"
  kDateTime,  // ISO 8601, normalised to UTC "YYYY-MM-DDTHH:MM:SS[.sss]Z"
  kInt,
  kNumber,
  kBool,
  kRef,       // id of a record of kind `ref_kind`
  kStringSet, // set of strings (add/remove per element); values from `values` if non-empty
  kRefSet,    // set of ids of kind `ref_kind`
  kJson,      // structured data (template definitions), LWW register
};

std::string_view field_type_name(FieldType t) noexcept;

struct FieldSpec {
  std::string name;
  FieldType type = FieldType::kString;
  std::vector<std::string> values;  // enum / set vocabulary
  std::string ref_kind;             // kRef / kRefSet
  bool required = false;            // must be given at create
  bool open_vocabulary = false;     // set also accepts the school's own values
  std::size_t max_len = 0;          // code points (strings/text) or elements (sets); 0 = default

  bool is_set() const { return type == FieldType::kStringSet || type == FieldType::kRefSet; }
};

struct KindSpec {
  std::string name;
  std::string parent_field;  // the ref whose record gives the school ("" = has own `school`)
  std::vector<FieldSpec> fields;
  const FieldSpec* field(std::string_view field_name) const;
};

// All kinds, in a stable order.
const std::vector<KindSpec>& schema();
const KindSpec* find_kind(std::string_view name);

// Built-in focus areas (municipality-wide and common local ones).
const std::vector<std::string>& builtin_focus_areas();

inline constexpr std::size_t kMaxStringLen = 500;     // code points
inline constexpr std::size_t kMaxTextLen = 200000;    // code points
inline constexpr std::size_t kMaxSetSize = 1000;      // elements
inline constexpr std::size_t kMaxJsonBytes = 256 * 1024;

// Checks that `value` is a valid value for `field` and returns it normalised
// (dates/datetimes canonical). Errors: kWrongType, kInvalidValue, kInvalidDate,
// kInvalidUtf8, kTooLong. Refs are only checked for syntax here.
Result<Json> validate_value(const FieldSpec& field, const Json& value);
// Checks one element of a set field.
Result<Json> validate_element(const FieldSpec& field, const Json& element);

// Domain validation of a remote change: known kind, known field, op fits the
// field's type, values valid, text ops well formed and within the per-change
// cost limits (text/limits.hpp; kTextTooLarge). Used by Store::apply and by
// the server. When `text_cost` is given, it receives the cost of the change's
// text ops (zero for a change without any) on success.
Status validate_change(const Change& change, text::TextCost* text_cost = nullptr);

// Dates and times. parse_datetime_ms accepts "YYYY-MM-DDTHH:MM[:SS[.fff]]" with
// "Z" or "+HH:MM"/"-HH:MM" and returns Unix milliseconds; kInvalidDate otherwise.
Result<std::int64_t> parse_datetime_ms(std::string_view text);
std::string format_datetime_ms(std::int64_t ms);  // "YYYY-MM-DDTHH:MM:SS[.sss]Z"
bool is_valid_date(std::string_view text);         // "YYYY-MM-DD", a real calendar day
// The calendar date in Denmark at a UTC instant, as "YYYY-MM-DD":
// local_date(utc_ms, copenhagen_zone()) (local_time.hpp has the rule). Dates
// in the domain (consent given_on/withdrawn_on, due dates) are Danish dates.
std::string copenhagen_date(std::int64_t utc_ms);

// Record ids: 1..64 chars of [a-z0-9_-].
bool is_valid_id(std::string_view id) noexcept;

// UTF-8 helpers (code points, validity).
bool is_valid_utf8(std::string_view s) noexcept;
std::size_t utf8_length(std::string_view s) noexcept;

}  // namespace tandem
