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

Result<Json> parse_scalar_text(const FieldSpec& field, std::string_view text) {
  switch (field.type) {
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

// Code-point start offsets of `s` (valid UTF-8), plus s.size() at the end.
std::vector<std::size_t> code_point_offsets(std::string_view s) {
  std::vector<std::size_t> offsets;
  offsets.reserve(s.size() + 1);
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) offsets.push_back(i);
  }
  offsets.push_back(s.size());
  return offsets;
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

Result<Json> parse_field_text(const FieldSpec& field, std::string_view text) {
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
    auto parsed = parse_scalar_text(field, text);
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

Status write_field(Store& store, const Record& current, const FieldSpec& field, const Json& value) {
  const auto it = current.fields.find(field.name);
  const bool present = it != current.fields.end() && !it->is_null();
  if (field.is_set()) {
    const Json old_value = present && it->is_array() ? *it : Json::array();
    for (const Json& element : old_value) {
      if (std::find(value.begin(), value.end(), element) == value.end()) {
        TANDEM_TRY(store.remove(current.id, field.name, element));
      }
    }
    for (const Json& element : value) {
      if (std::find(old_value.begin(), old_value.end(), element) == old_value.end()) {
        TANDEM_TRY(store.add(current.id, field.name, element));
      }
    }
    return {};
  }
  if (field.type == FieldType::kText && value.is_string()) {
    const std::string old_text = present && it->is_string() ? it->get<std::string>() : "";
    const std::string& new_text = value.get_ref<const std::string&>();
    const auto a = code_point_offsets(old_text);
    const auto b = code_point_offsets(new_text);
    const std::size_t na = a.size() - 1;
    const std::size_t nb = b.size() - 1;
    // Common prefix / suffix in whole code points (compared as byte ranges).
    const auto cp = [](std::string_view s, const std::vector<std::size_t>& off, std::size_t i) {
      return s.substr(off[i], off[i + 1] - off[i]);
    };
    std::size_t prefix = 0;
    while (prefix < na && prefix < nb && cp(old_text, a, prefix) == cp(new_text, b, prefix)) {
      ++prefix;
    }
    std::size_t suffix = 0;
    while (suffix < na - prefix && suffix < nb - prefix &&
           cp(old_text, a, na - 1 - suffix) == cp(new_text, b, nb - 1 - suffix)) {
      ++suffix;
    }
    const std::size_t del = na - prefix - suffix;
    const std::size_t ins_begin = b[prefix];
    const std::size_t ins_end = b[nb - suffix];
    if (del > 0) TANDEM_TRY(store.text_delete(current.id, field.name, prefix, del));
    if (ins_end > ins_begin) {
      TANDEM_TRY(
          store.text_insert(current.id, field.name, prefix,
                            std::string_view(new_text).substr(ins_begin, ins_end - ins_begin)));
    }
    return {};
  }
  return store.set(current.id, field.name, value);
}

}  // namespace tandem::cli
