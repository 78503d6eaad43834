// Schema-driven input for the CLI: turning command-line text into field
// values, and writing a field of an existing record the way its type merges.
//
// The schema (tandem/core/schema.hpp) is the only source of truth: the type
// of a field decides how its text is parsed, and validate_value() decides
// whether the result is acceptable, so the CLI reports exactly the codes the
// store and the server would (wrong_type, invalid_value, invalid_date,
// invalid_utf8, too_long, ...).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/error.hpp"
#include "tandem/core/local_time.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/core/store.hpp"

namespace tandem::cli {

// The kind called `name`, or kUnknownKind.
Result<const KindSpec*> lookup_kind(std::string_view name);
// The field `name` of `kind`, or kUnknownField.
Result<const FieldSpec*> lookup_field(const KindSpec& kind, std::string_view name);

// Parses the text form of a whole field value and validates it:
//   int / number / bool from their text ("ja"/"nej", "true"/"false", "1"/"0"),
//   sets from a comma-separated list ("a,b,c"; blanks around items trimmed),
//   json fields from JSON text, date-times as local time in `zone` unless they
//   carry an offset or Z (local_time.hpp), everything else as the string itself.
// Returns the normalised value, or the schema's error code.
Result<Json> parse_field_text(const FieldSpec& field, std::string_view text,
                              const TimeZone& zone = copenhagen_zone());
// Parses and validates one element of a set field (no comma splitting).
Result<Json> parse_element_text(const FieldSpec& field, std::string_view text);

// Splits "FIELD=VALUE" at the first '='; false when there is no '=' or the
// field name is empty.
bool split_assignment(std::string_view item, std::string& field, std::string& value);

}  // namespace tandem::cli
