// Rules across fields and records on local writes (record_rules.hpp): blank
// required names, an end not before its start, and the dispatch of an
// entry's coding to its session's frame (coding_rules.cpp).
#include "tandem/core/record_rules.hpp"

#include <algorithm>
#include <initializer_list>

#include "tandem/core/excerpt.hpp"
#include "text/utf8.hpp"

namespace tandem {
namespace {

// Unicode White_Space, and the characters that show nothing (zero-width
// spaces and joiners, word joiner, BOM): a title of these reads as empty.
bool invisible(std::uint32_t cp) {
  return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200D) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x2060 || cp == 0x3000 || cp == 0xFEFF;
}

// A field pair where the second is not before the first.
struct Span {
  const char* kind;
  const char* start;
  const char* end;
};
constexpr Span kSpans[] = {{"session", "started_at", "ended_at"},
                           {"course", "start_date", "end_date"},
                           {"entry", "at", "end"}};

// Both ends present: dates ("YYYY-MM-DD", ordered as text) or date-times
// (compared as instants: "…:00Z" and "…:00.500Z" do not sort as text).
Status check_span(const Span& span, const Json& fields) {
  const std::string start = string_field(fields, span.start);
  const std::string end = string_field(fields, span.end);
  if (start.empty() || end.empty()) return {};
  const auto start_ms = time_field(fields, span.start);
  const auto end_ms = time_field(fields, span.end);
  const bool before = start_ms && end_ms ? *end_ms < *start_ms : end < start;
  if (!before) return {};
  return make_error(ErrorCode::kInvalidValue, std::string(span.end) + " " + excerpt(end) + " is before " +
                                                  span.start + " " + excerpt(start) + " (a " + span.kind +
                                                  " cannot end before it starts)");
}

bool any_written(const std::set<std::string>& written, std::initializer_list<const char*> names) {
  return std::any_of(names.begin(), names.end(), [&](const char* n) { return written.count(n) > 0; });
}

// The fields an entry's coding check reads.
bool any_coding_written(const std::set<std::string>& written) {
  return any_written(written, {"type", "code", "interval", "session"});
}

}  // namespace

bool is_blank(std::string_view text) {
  const std::u32string cps = text::detail::utf8_code_points(text);
  return std::all_of(cps.begin(), cps.end(), [](char32_t cp) { return invisible(cp); });
}

Status check_not_blank(const FieldSpec& field, const Json& value) {
  if (!field.required || (field.type != FieldType::kString && field.type != FieldType::kText)) return {};
  if (!value.is_string() || !is_blank(value.get_ref<const std::string&>())) return {};
  return make_error(ErrorCode::kMissingField, "'" + field.name + "' cannot be empty");
}

bool RecordRules::watches(std::string_view kind, const std::set<std::string>& written) {
  for (const Span& s : kSpans) {
    if (kind == s.kind && any_written(written, {s.start, s.end})) return true;
  }
  return kind == "entry" && any_coding_written(written);
}

Status RecordRules::check(std::string_view kind, const Json& fields, const std::set<std::string>& written) {
  for (const Span& s : kSpans) {
    if (kind == s.kind && any_written(written, {s.start, s.end})) TANDEM_TRY(check_span(s, fields));
  }
  if (kind != "entry" || !any_coding_written(written)) return {};
  const std::string type = string_field(fields, "type");
  if (type.empty() || type == "note") return {};
  auto frame = frame_of(string_field(fields, "session"));
  if (!frame) return std::move(frame).error();
  return check_entry_coding(fields, **frame);
}

Result<const CodingFrame*> RecordRules::frame_of(const std::string& session_id) {
  const auto cached = frames_.find(session_id);
  if (cached != frames_.end()) return &cached->second;
  auto session = lookup_(session_id);
  if (!session) return std::move(session).error();
  const std::string template_id = string_field(session->fields, "template");
  TemplateInfo tmpl;
  if (!template_id.empty()) {
    auto record = lookup_(template_id);
    // Not here (yet): a shipped template by that id, else free coding.
    if (!record && record.error().code != ErrorCode::kNotFound) return std::move(record).error();
    tmpl = template_info(record ? &*record : nullptr, template_id);
  }
  return &frames_.emplace(session_id, coding_frame(session->fields, tmpl)).first->second;
}

}  // namespace tandem
