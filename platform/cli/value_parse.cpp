#include "value_parse.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>

#include "tandem/core/json.hpp"

namespace tandem::cli {
namespace {

std::string_view trim(std::string_view s) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

Error type_error(const FieldSpec& field, std::string_view expected) {
  return make_error(ErrorCode::kWrongType,
                    "field '" + field.name + "' expects " + std::string(expected));
}

Result<Json> parse_scalar_text(const FieldSpec& field, std::string_view text,
                               const TimeZone& zone) {
  switch (field.type) {
    case FieldType::kDateTime: {
      auto ms = parse_local(trim(text), zone);
      if (!ms) return std::move(ms).error();
      return Json(format_datetime_ms(*ms));
    }
    case FieldType::kInt: {
      const std::string_view t = trim(text);
      std::int64_t v = 0;
      const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (t.empty() || ec != std::errc() || end != t.data() + t.size()) {
        return type_error(field, "an integer");
      }
      return Json(v);
    }
    case FieldType::kNumber: {
      const std::string_view t = trim(text);
      double v = 0;
      const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (t.empty() || ec != std::errc() || end != t.data() + t.size() || !std::isfinite(v)) {
        return type_error(field, "a number");
      }
      return Json(v);
    }
    case FieldType::kBool: {
      std::string t(trim(text));
      std::transform(t.begin(), t.end(), t.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (t == "true" || t == "ja" || t == "yes" || t == "1") return Json(true);
      if (t == "false" || t == "nej" || t == "no" || t == "0") return Json(false);
      return type_error(field, "true or false (ja/nej)");
    }
    case FieldType::kJson: {
      auto v = parse_json_text(text);
      if (!v) {
        return make_error(ErrorCode::kInvalidJson,
                          "field '" + field.name + "' expects JSON text: " + v.error().message);
      }
      return std::move(*v);
    }
    default:
      return Json(std::string(text));
  }
}

}  // namespace

Result<const KindSpec*> lookup_kind(std::string_view name) {
  const KindSpec* kind = find_kind(name);
  if (kind == nullptr) {
    return make_error(ErrorCode::kUnknownKind, "unknown kind '" + std::string(name) + "'");
  }
  return kind;
}

Result<const FieldSpec*> lookup_field(const KindSpec& kind, std::string_view name) {
  const FieldSpec* field = kind.field(name);
  if (field == nullptr) {
    return make_error(ErrorCode::kUnknownField,
                      "unknown field '" + std::string(name) + "' for kind '" + kind.name + "'");
  }
  return field;
}

Result<Json> parse_field_text(const FieldSpec& field, std::string_view text, const TimeZone& zone) {
  if (!is_valid_utf8(text)) {
    return make_error(ErrorCode::kInvalidUtf8, "field '" + field.name + "' is not valid UTF-8");
  }
  Json value;
  if (field.is_set()) {
    value = Json::array();
    std::string_view rest = text;
    while (true) {
      const std::size_t comma = rest.find(',');
      const std::string_view item = trim(rest.substr(0, comma));
      if (!item.empty()) value.push_back(std::string(item));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  } else {
    auto parsed = parse_scalar_text(field, text, zone);
    if (!parsed.ok()) return parsed;
    value = std::move(parsed).value();
  }
  return validate_value(field, value);
}

Result<Json> parse_element_text(const FieldSpec& field, std::string_view text) {
  if (!is_valid_utf8(text)) {
    return make_error(ErrorCode::kInvalidUtf8,
                      "element for '" + field.name + "' is not valid UTF-8");
  }
  if (!field.is_set()) {
    return make_error(ErrorCode::kWrongType, "field '" + field.name + "' is not a set field");
  }
  return validate_element(field, Json(std::string(trim(text))));
}

bool split_assignment(std::string_view item, std::string& field, std::string& value) {
  const std::size_t eq = item.find('=');
  if (eq == std::string_view::npos || eq == 0) return false;
  field.assign(item.substr(0, eq));
  value.assign(item.substr(eq + 1));
  return true;
}

}  // namespace tandem::cli
