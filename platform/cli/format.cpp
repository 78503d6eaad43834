#include "format.hpp"

#include <set>

#include "cli_context.hpp"
#include "tandem/core/schema.hpp"

namespace tandem::cli {
namespace {

// At most `max_cp` code points of s, on one line.
std::string short_text(const std::string& s, std::size_t max_cp) {
  std::string out;
  std::size_t cps = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const bool starts_cp = (c & 0xC0) != 0x80;
    if (starts_cp && ++cps > max_cp) {
      out += "…";
      break;
    }
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : s[i];
  }
  return out;
}

}  // namespace

std::string format_value(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array()) {
    std::string out;
    for (const Json& v : value) {
      if (!out.empty()) out += ", ";
      out += v.is_string() ? v.get<std::string>() : json_text(v);
    }
    return out;
  }
  return json_text(value);
}

std::string format_record(const Record& record) {
  std::string out = record.id + "  (" + record.kind + ")\n";
  std::set<std::string> shown;
  const auto line = [&out](const std::string& name, const Json& v) {
    std::string text = format_value(v);
    // Indent continuation lines of long text so the layout stays readable.
    std::string indented;
    for (char c : text) {
      indented += c;
      if (c == '\n') indented += "      ";
    }
    out += "  " + name + ": " + indented + "\n";
  };
  if (const KindSpec* kind = find_kind(record.kind)) {
    for (const FieldSpec& f : kind->fields) {
      const auto it = record.fields.find(f.name);
      if (it == record.fields.end()) continue;
      line(f.name, *it);
      shown.insert(f.name);
    }
  }
  for (const auto& [name, v] : record.fields.items()) {
    if (shown.count(name) == 0) line(name, v);
  }
  for (const Conflict& c : record.conflicts) {
    out += "  konflikt i " + c.field + ": " + format_value(c.value) + "  (" + c.hlc + ")\n";
  }
  if (!record.purged.empty()) out += "  udslettet: " + record.purged + "\n";
  if (!record.deleted.empty()) out += "  slettet: " + record.deleted + "\n";
  return out;
}

std::string format_record_line(const Record& record) {
  std::string label;
  if (const KindSpec* kind = find_kind(record.kind)) {
    for (const FieldSpec& f : kind->fields) {
      if (f.type != FieldType::kString && f.type != FieldType::kText) continue;
      const auto it = record.fields.find(f.name);
      if (it == record.fields.end() || !it->is_string() || it->get<std::string>().empty()) continue;
      label = short_text(it->get<std::string>(), 60);
      break;
    }
  }
  std::string out = record.id;
  if (!label.empty()) out += "  " + label;
  const auto status = record.fields.find("status");
  if (status != record.fields.end() && status->is_string()) {
    out += "  [" + status->get<std::string>() + "]";
  }
  if (!record.live()) out += record.purged.empty() ? "  (slettet)" : "  (udslettet)";
  return out;
}

}  // namespace tandem::cli
