// The domain of DOMAIN.md as a table. Adding a field is adding a line here;
// the store, the merge rules, the CLI and the server follow from its type.
#include "tandem/core/schema.hpp"

#include <algorithm>
#include <span>

#include "civil.hpp"
#include "tandem/core/excerpt.hpp"
#include "tandem/core/local_time.hpp"
#include "tandem/core/templates.hpp"
#include "tandem/core/text/limits.hpp"

namespace tandem {
namespace {

using T = FieldType;
using detail::civil_from_days;
using detail::days_from_civil;
using detail::days_in_month;

FieldSpec f(std::string name, FieldType type, bool required = false) {
  FieldSpec s;
  s.name = std::move(name);
  s.type = type;
  s.required = required;
  return s;
}
FieldSpec e(std::string name, std::vector<std::string> values, bool required = false) {
  FieldSpec s = f(std::move(name), T::kEnum, required);
  s.values = std::move(values);
  return s;
}
FieldSpec ref(std::string name, std::string kind, bool required = false) {
  FieldSpec s = f(std::move(name), T::kRef, required);
  s.ref_kind = std::move(kind);
  return s;
}
FieldSpec refs(std::string name, std::string kind) {
  FieldSpec s = f(std::move(name), T::kRefSet);
  s.ref_kind = std::move(kind);
  return s;
}
FieldSpec tags(std::string name, std::vector<std::string> values = {}, bool open = true) {
  FieldSpec s = f(std::move(name), T::kStringSet);
  s.values = std::move(values);
  s.open_vocabulary = open;
  return s;
}
FieldSpec str(std::string name, bool required = false, std::size_t max_len = 0) {
  FieldSpec s = f(std::move(name), T::kString, required);
  s.max_len = max_len;
  return s;
}

std::vector<KindSpec> build_schema() {
  const std::vector<std::string> roles = {"resource_person", "teacher", "pedagogue",
                                          "leader",          "external", "admin"};
  std::vector<KindSpec> k;
  k.push_back({"school", "", {str("name", true), str("municipality"), tags("focus_areas")}});
  k.push_back({"person", "",
               {str("name", true), e("role", roles, true), str("profession"), str("initials", false, 10)}});
  k.push_back({"group", "", {str("name", true), e("type", {"class", "group"}), f("grade", T::kInt)}});
  k.push_back({"child", "", {str("pseudonym", true, 40), ref("group", "group")}});
  k.push_back({"consent", "child",
               {ref("child", "child", true), f("given_on", T::kDate, true), ref("recorded_by", "person"),
                e("scope", {"resource_team", "external_professionals", "observation_notes"}, true),
                f("withdrawn_on", T::kDate), ref("withdrawn_by", "person"), str("note")}});
  k.push_back(
      {"course", "",
       {e("kind", {"co_teaching", "observation", "guidance", "action_learning", "supervision", "uiu"}, true),
        str("title", true), e("target", {"child", "group", "professionals"}),
        e("horizon", {"short", "long"}), e("character", {"preventive", "anticipatory", "intervening"}),
        tags("focus_areas"), f("goals", T::kText), f("frame", T::kText), f("roles", T::kText),
        ref("tovholder", "person"), refs("participants", "person"), refs("groups", "group"),
        refs("children", "child"), e("status", {"planned", "active", "completed", "evaluated"}),
        f("start_date", T::kDate), f("end_date", T::kDate), f("evaluation", T::kText),
        e("environment_changed", {"yes", "partly", "no"}), tags("tags")}});
  k.push_back({"session", "course",
               {ref("course", "course", true), f("started_at", T::kDateTime), f("ended_at", T::kDateTime),
                e("approach", {"one_teach_one_observe", "one_teach_one_assist", "station", "parallel",
                               "alternative", "team"}),
                ref("template", "template"), f("interval_seconds", T::kInt), str("focus"),
                ref("observer", "person"), f("log", T::kText)}});
  k.push_back({"reflection", "session",
               {ref("session", "session", true), ref("author", "person", true), f("text", T::kText)}});
  k.push_back({"entry", "session",
               {ref("session", "session", true), e("type", {"note", "code", "tick", "tally", "rating"}, true),
                f("at", T::kDateTime), f("end", T::kDateTime), str("code", false, kMaxCodeLength), f("interval", T::kInt),
                f("count", T::kInt), f("value", T::kNumber), f("text", T::kText), ref("child", "child"),
                ref("group", "group"), ref("author", "person")}});
  k.push_back({"template", "",
               {str("name", true), e("kind", {"interval", "event", "focus", "reflection"}),
                f("interval_seconds", T::kInt), f("definition", T::kJson)}});
  k.push_back({"action", "",
               {f("text", T::kText, true), ref("tovholder", "person"), f("due", T::kDate), f("done", T::kBool),
                ref("source", "")}});
  k.push_back({"meeting", "",
               {f("date", T::kDate, true), str("title"), refs("participants", "person"), f("minutes", T::kText),
                tags("themes")}});
  k.push_back({"agenda_item", "meeting",
               {ref("meeting", "meeting", true),
                e("need", {"pedagogical_development", "staff_learning", "parent_collaboration",
                           "group_intervention", "child_intervention"}, true),
                str("title"), f("notes", T::kText), ref("child", "child"), ref("group", "group"),
                f("position", T::kInt)}});
  return k;
}

bool is_slug(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

bool parse_date_parts(std::string_view s, int& y, int& m, int& d) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') return false;
  if (!digits(s, 0, 4, y) || !digits(s, 5, 2, m) || !digits(s, 8, 2, d)) return false;
  return y >= 1900 && y <= 2999 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

Error type_error(const FieldSpec& field, const char* expected) {
  return make_error(ErrorCode::kWrongType, "field '" + field.name + "' expects " + expected);
}

Result<Json> validate_string(const FieldSpec& field, const Json& v, std::size_t limit) {
  if (!v.is_string()) return type_error(field, "a string");
  const auto& s = v.get_ref<const std::string&>();
  if (!is_valid_utf8(s)) return make_error(ErrorCode::kInvalidUtf8, "field '" + field.name + "' is not valid UTF-8");
  if (utf8_length(s) > limit) {
    return make_error(ErrorCode::kTooLong,
                      "field '" + field.name + "' is longer than " + std::to_string(limit) + " characters");
  }
  return v;
}

}  // namespace

std::string_view field_type_name(FieldType t) noexcept {
  switch (t) {
    case T::kString: return "string";
    case T::kText: return "text";
    case T::kEnum: return "enum";
    case T::kDate: return "date";
    case T::kDateTime: return "datetime";
    case T::kInt: return "int";
    case T::kNumber: return "number";
    case T::kBool: return "bool";
    case T::kRef: return "ref";
    case T::kStringSet: return "string_set";
    case T::kRefSet: return "ref_set";
    case T::kJson: return "json";
  }
  return "unknown";
}

const FieldSpec* KindSpec::field(std::string_view field_name) const {
  for (const auto& fs : fields) {
    if (fs.name == field_name) return &fs;
  }
  return nullptr;
}

const std::vector<KindSpec>& schema() {
  static const std::vector<KindSpec> kSchema = build_schema();
  return kSchema;
}

const KindSpec* find_kind(std::string_view name) {
  for (const auto& k : schema()) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

const std::vector<std::string>& builtin_focus_areas() {
  static const std::vector<std::string> kAreas = {
      "systemic", "relations", "classroom_management", "inclusion_plan",
      "reading",  "differentiation", "language", "transitions", "wellbeing", "mathematics"};
  return kAreas;
}

bool is_valid_date(std::string_view text) {
  int y = 0, m = 0, d = 0;
  return text.size() == 10 && parse_date_parts(text, y, m, d);
}

Result<std::int64_t> parse_datetime_ms(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
  auto bad = [&] {
    return make_error(ErrorCode::kInvalidDate, excerpt(s) + " is not a valid ISO 8601 date-time");
  };
  if (!parse_date_parts(s, y, mo, d) || s.size() < 16 || (s[10] != 'T' && s[10] != ' ')) return bad();
  if (!digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || h > 23 || mi > 59) return bad();
  std::size_t p = 16;
  if (p < s.size() && s[p] == ':') {
    if (!digits(s, p + 1, 2, sec) || sec > 59) return bad();
    p += 3;
    if (p < s.size() && s[p] == '.') {
      std::size_t q = p + 1;
      int scale = 100;
      while (q < s.size() && s[q] >= '0' && s[q] <= '9') {
        ms += (s[q] - '0') * scale;
        scale /= 10;
        ++q;
      }
      if (q == p + 1 || q - p - 1 > 9) return bad();
      p = q;
    }
  }
  std::int64_t offset_min = 0;
  if (p < s.size() && s[p] == 'Z' && p + 1 == s.size()) {
    offset_min = 0;
  } else if (p + 6 == s.size() && (s[p] == '+' || s[p] == '-') && s[p + 3] == ':') {
    int oh = 0, om = 0;
    if (!digits(s, p + 1, 2, oh) || !digits(s, p + 4, 2, om) || oh > 14 || om > 59) return bad();
    offset_min = (oh * 60 + om) * (s[p] == '-' ? -1 : 1);
  } else {
    return bad();
  }
  const std::int64_t days = days_from_civil(y, mo, d);
  return ((days * 24 + h) * 60 + mi - offset_min) * 60000 + sec * 1000 + ms;
}

std::string format_datetime_ms(std::int64_t ms) {
  std::int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  std::int64_t rem = ms - days * 86400000;
  int y = 0, m = 0, d = 0;
  civil_from_days(days, y, m, d);
  char buf[40];
  const auto h = static_cast<int>(rem / 3600000), mi = static_cast<int>(rem / 60000 % 60),
             s = static_cast<int>(rem / 1000 % 60), milli = static_cast<int>(rem % 1000);
  if (milli) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, h, mi, s, milli);
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, h, mi, s);
  }
  return buf;
}

std::string copenhagen_date(std::int64_t utc_ms) { return local_date(utc_ms, copenhagen_zone()); }

bool is_valid_id(std::string_view id) noexcept {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool is_valid_utf8(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
    else return false;
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;  // overlong, out of range or a surrogate
    }
    i += n + 1;
  }
  return true;
}

std::size_t utf8_length(std::string_view s) noexcept {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

Result<Json> validate_element(const FieldSpec& field, const Json& element) {
  if (!element.is_string()) return type_error(field, "string elements");
  const auto& s = element.get_ref<const std::string&>();
  if (field.type == T::kRefSet) {
    if (!is_valid_id(s))
      return make_error(ErrorCode::kInvalidValue, excerpt(s) + " is not a record id");
    return element;
  }
  if (!field.values.empty() && !field.open_vocabulary &&
      std::find(field.values.begin(), field.values.end(), s) == field.values.end()) {
    return make_error(ErrorCode::kInvalidValue,
                      excerpt(s) + " is not allowed in '" + field.name + "'");
  }
  if (field.open_vocabulary && !is_slug(s)) {
    return make_error(ErrorCode::kInvalidValue,
                      excerpt(s) + " must be lowercase letters, digits and '_' (e.g. reading)");
  }
  return element;
}

Result<Json> validate_value(const FieldSpec& field, const Json& v) {
  switch (field.type) {
    case T::kString:
      return validate_string(field, v, field.max_len ? field.max_len : kMaxStringLen);
    case T::kText:
      return validate_string(field, v, kMaxTextLen);
    case T::kEnum: {
      if (!v.is_string()) return type_error(field, "a string");
      const auto& s = v.get_ref<const std::string&>();
      if (std::find(field.values.begin(), field.values.end(), s) == field.values.end()) {
        std::string allowed;
        for (const auto& a : field.values) allowed += (allowed.empty() ? "" : ", ") + a;
        return make_error(ErrorCode::kInvalidValue,
                          "'" + field.name + "' must be one of: " + allowed);
      }
      return v;
    }
    case T::kDate:
      if (!v.is_string()) return type_error(field, "a date YYYY-MM-DD");
      if (!is_valid_date(v.get_ref<const std::string&>())) {
        return make_error(ErrorCode::kInvalidDate, "'" + field.name + "' is not a valid date (YYYY-MM-DD)");
      }
      return v;
    case T::kDateTime: {
      if (!v.is_string()) return type_error(field, "an ISO 8601 date-time");
      auto ms = parse_datetime_ms(v.get_ref<const std::string&>());
      if (!ms) return std::move(ms).error();
      return Json(format_datetime_ms(*ms));
    }
    case T::kInt:
      if (!v.is_number_integer()) return type_error(field, "an integer");
      return v;
    case T::kNumber:
      if (!v.is_number()) return type_error(field, "a number");
      return v;
    case T::kBool:
      if (!v.is_boolean()) return type_error(field, "true or false");
      return v;
    case T::kRef:
      if (v.is_null()) return v;  // clearing a reference
      if (!v.is_string() || !is_valid_id(v.get_ref<const std::string&>())) return type_error(field, "a record id");
      return v;
    case T::kStringSet:
    case T::kRefSet: {
      if (!v.is_array()) return type_error(field, "a list");
      if (v.size() > kMaxSetSize) return make_error(ErrorCode::kTooLong, "'" + field.name + "' has too many elements");
      Json out = Json::array();
      for (const auto& el : v) {
        auto ok = validate_element(field, el);
        if (!ok) return std::move(ok).error();
        out.push_back(*ok);
      }
      return out;
    }
    case T::kJson:
      if (v.dump().size() > kMaxJsonBytes) return make_error(ErrorCode::kTooLong, "'" + field.name + "' is too large");
      return v;
  }
  return make_error(ErrorCode::kInternal, "unhandled field type");
}

namespace {

Error unknown_field(const std::string& name, const std::string& kind) {
  return make_error(ErrorCode::kUnknownField, "unknown field " + excerpt(name) + " of " + kind);
}

// Text ops are checked whole before anything is merged: well formed, and
// within the per-change cost limits.
Status check_text_ops(std::span<const Json* const> values, text::TextCost* text_cost) {
  auto cost = text::measure_ops(values);
  if (!cost) return std::move(cost).error();
  TANDEM_TRY(text::check_change_cost(*cost));
  if (text_cost) *text_cost = *cost;
  return {};
}

}  // namespace

Status validate_change(const Change& c, text::TextCost* text_cost) {
  if (text_cost) *text_cost = text::TextCost{};
  const KindSpec* kind = find_kind(c.kind);
  if (!kind) return make_error(ErrorCode::kUnknownKind, "unknown kind " + excerpt(c.kind));
  if (!is_valid_id(c.record)) return make_error(ErrorCode::kInvalidArgument, "malformed record id");
  if (!c.school.empty() && !is_valid_id(c.school)) return make_error(ErrorCode::kInvalidArgument, "malformed school id");
  switch (c.op) {
    case Op::kCreate: {
      if (!c.value.is_object()) return make_error(ErrorCode::kWrongType, "create needs an object of fields");
      std::vector<const Json*> texts;
      for (const auto& [name, v] : c.value.items()) {
        const FieldSpec* fs = kind->field(name);
        if (!fs) return unknown_field(name, c.kind);
        if (fs->type == T::kText) {
          // Text fields travel as sequence-CRDT operations, never as plain text.
          if (!v.is_object() && !v.is_array()) return type_error(*fs, "text operations");
          texts.push_back(&v);
          continue;
        }
        TANDEM_TRY(validate_value(*fs, v));
      }
      if (!c.seen.empty()) return make_error(ErrorCode::kInvalidArgument, "'seen' only applies to set");
      if (!texts.empty()) TANDEM_TRY(check_text_ops(texts, text_cost));
      return {};
    }
    case Op::kSet: {
      const FieldSpec* fs = kind->field(c.field);
      if (!fs) return unknown_field(c.field, c.kind);
      if (fs->is_set()) return make_error(ErrorCode::kInvalidArgument, "'" + c.field + "' is a set: use add/remove");
      if (fs->type == T::kText) return make_error(ErrorCode::kInvalidArgument, "'" + c.field + "' is text: use text ops");
      TANDEM_TRY(validate_value(*fs, c.value));
      return {};
    }
    case Op::kAdd:
    case Op::kRemove: {
      const FieldSpec* fs = kind->field(c.field);
      if (!fs) return unknown_field(c.field, c.kind);
      if (!fs->is_set()) return make_error(ErrorCode::kInvalidArgument, "'" + c.field + "' is not a set");
      TANDEM_TRY(validate_element(*fs, c.value));
      return {};
    }
    case Op::kText: {
      const FieldSpec* fs = kind->field(c.field);
      if (!fs) return unknown_field(c.field, c.kind);
      if (fs->type != T::kText) return make_error(ErrorCode::kInvalidArgument, "'" + c.field + "' is not a text field");
      if (!c.value.is_object() && !c.value.is_array()) return make_error(ErrorCode::kWrongType, "text ops must be JSON");
      const Json* ops = &c.value;
      return check_text_ops(std::span<const Json* const>(&ops, 1), text_cost);
    }
    case Op::kDelete:
    case Op::kPurge:
      if (!c.value.is_null()) return make_error(ErrorCode::kInvalidArgument, "delete/purge carry no value");
      return {};
  }
  return {};
}

}  // namespace tandem
