// Observation templates are data, not code (DOMAIN.md, "Observations"): a
// school can define its own, and Tandem ships three. This header gives the
// shipped ones and the one parser that turns a template's `definition` into
// what the summary functions take.
//
// A definition is a JSON object; every member is optional:
//   {"label":   {"da":"…","en":"…"},
//    "groups":  [{"group":"students","label":{…}}, …],
//    "codes":   [{"code":"I-Lec","group":"instructor","label":{"da":"…","en":"…"}}, …],
//    "categories": [{"name":"Presenting","group":"instructor","label":{…},
//                    "codes":["I-Lec","I-RtW","I-D/V"]}, …],
//    "ratings": [{"item":"R-Structure","min":1,"max":5,"label":{…}}, …],
//    "prompts": [{"id":"goals","label":{…}}, …]}
// Invariants the parser enforces (kInvalidValue otherwise, naming the path):
//   - codes, rating items and prompt ids are non-empty and unique;
//   - when "groups" is given, every code's group is listed there;
//   - a category names only existing codes of its own group, none twice;
//     (group, name) is unique;
//   - the categories of a group PARTITION its codes: a group with any
//     category has every one of its codes in exactly one category, so the
//     per-group tick shares of a summary sum to 100 %;
//   - labels are objects of strings (language -> text); rating min < max.
// Members not listed above are allowed and ignored (room for a school's own).
//
// Thread-safety: builtin_templates() is initialised once, thread-safely, and
// is immutable afterwards; the parsers are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/change.hpp"
#include "tandem/core/error.hpp"
#include "tandem/core/summary.hpp"

namespace tandem {

// Fixed ids of the shipped templates (stable across releases and devices).
inline constexpr std::string_view kTemplateCopus = "template_copus";
inline constexpr std::string_view kTemplateKlasseledelse = "template_klasseledelse";
inline constexpr std::string_view kTemplateCoteachingReflection = "template_coteaching_reflection";

// Hard limits on one definition.
inline constexpr std::size_t kMaxTemplateCodes = 500;
inline constexpr std::size_t kMaxTemplateItems = 200;  // categories, ratings, prompts each
// Code points; also the limit of an entry's `code` field (schema.cpp). 128:
// real GORP event names ("Category-Group-Code") run past 64.
inline constexpr std::size_t kMaxCodeLength = 128;

struct TemplateDef {
  std::string id;
  std::string name;
  std::string kind;                   // "interval" | "event" | "focus" | "reflection"
  std::int64_t interval_seconds = 0;  // > 0 for "interval", 0 otherwise
  Json definition;

  // {"id","name","kind","interval_seconds","definition"}
  Json to_json() const;
};

// The templates Tandem ships, in a stable order: COPUS, klasseledelse,
// co-teaching reflection. The reference stays valid for the program's life.
const std::vector<TemplateDef>& builtin_templates();
// nullptr when `id` is not a shipped template.
const TemplateDef* find_builtin_template(std::string_view id);

// Codes and categories of a definition, in definition order, validated as
// above. Errors: kInvalidValue (message names the offending member);
// kTooLong past kMaxTemplateCodes / kMaxTemplateItems, or for a code or
// rating item longer than kMaxCodeLength (entries could not record it).
Result<summary::CodingScheme> parse_coding_scheme(const Json& definition);

struct RatingItem {
  std::string item;
  double min = 1.0;
  double max = 5.0;
};

// Rating items of a definition (empty when it has none). Same errors.
Result<std::vector<RatingItem>> parse_rating_items(const Json& definition);

// Checks a whole template: id and name non-empty, a known kind,
// interval_seconds > 0 exactly for "interval" (which also needs codes), and
// the definition (codes, categories, ratings, prompts). Error: kInvalidValue.
Status validate_template(const TemplateDef& t);

}  // namespace tandem
