#include "format.hpp"

#include <set>

#include "cli_context.hpp"
#include "tandem/core/notebook.hpp"
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

ShownValues shown_values(const Record& record, const Store& store, const TimeZone& zone,
                         std::map<std::string, std::string>* labels) {
  ShownValues out;
  const KindSpec* kind = find_kind(record.kind);
  if (kind == nullptr) return out;
  for (const FieldSpec& f : kind->fields) {
    const auto it = record.fields.find(f.name);
    if (it == record.fields.end()) continue;
    if (f.type == FieldType::kDateTime && it->is_string()) {
      auto ms = parse_datetime_ms(it->get<std::string>());
      if (ms.ok()) out.local[f.name] = format_local(*ms, zone);
    } else if (f.type == FieldType::kRef || f.type == FieldType::kRefSet) {
      for (const Json& id : it->is_array() ? *it : Json::array({*it})) {
        if (!id.is_string() || out.names.contains(id.get<std::string>())) continue;
        const std::string& ref = id.get_ref<const std::string&>();
        if (labels != nullptr && labels->count(ref) > 0) {
          if (!(*labels)[ref].empty()) out.names[ref] = (*labels)[ref];
          continue;
        }
        auto target = store.get(ref);
        std::string label;
        if (target.ok() && target->live() && nameable_kind(target->kind))
          label = record_label(*target);
        if (!label.empty()) out.names[ref] = label;
        if (labels != nullptr) (*labels)[ref] = label;  // "" = no name: not looked up again
      }
    }
  }
  return out;
}

std::string format_record(const Record& record, const ShownValues& shown, const TimeZone& zone) {
  std::string out = record.id + "  (" + record.kind + ")\n";
  std::set<std::string> shown_fields;
  const auto line = [&out](const std::string& name, const std::string& text) {
    // Indent continuation lines of long text so the layout stays readable.
    std::string indented;
    for (char c : text) {
      indented += c;
      if (c == '\n') indented += "      ";
    }
    out += "  " + name + ": " + indented + "\n";
  };
  // A reference as "Name (id)" when the name is known.
  const auto named = [&shown](const Json& id) {
    const std::string text = format_value(id);
    const auto it = id.is_string() ? shown.names.find(id.get<std::string>()) : shown.names.end();
    return it == shown.names.end() ? text : it->get<std::string>() + " (" + text + ")";
  };
  const auto text_of = [&](const std::string& name, const Json& v) {
    if (const auto local = shown.local.find(name); local != shown.local.end())
      return local->get<std::string>();
    if (v.is_string() && shown.names.contains(v.get<std::string>())) return named(v);
    if (v.is_array() && !v.empty() && v.front().is_string() &&
        shown.names.contains(v.front().get<std::string>())) {
      std::string joined;
      for (const Json& id : v) joined += (joined.empty() ? "" : ", ") + named(id);
      return joined;
    }
    return format_value(v);
  };
  if (const KindSpec* kind = find_kind(record.kind)) {
    for (const FieldSpec& f : kind->fields) {
      const auto it = record.fields.find(f.name);
      if (it == record.fields.end()) continue;
      line(f.name, text_of(f.name, *it));
      shown_fields.insert(f.name);
    }
  }
  for (const auto& [name, v] : record.fields.items()) {
    if (shown_fields.count(name) == 0) line(name, format_value(v));
  }
  for (const Conflict& c : record.conflicts) {
    auto stamp = Hlc::parse(c.hlc);
    const std::string when = stamp.ok() ? format_local(stamp->ms, zone) : c.hlc;
    out += "  konflikt i " + c.field + ": " + format_value(c.value) + "  (" + when + ", " + c.hlc +
           ")\n";
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

std::string pad_right(const std::string& text, std::size_t width) {
  const std::size_t n = utf8_length(text);
  return n >= width ? text : text + std::string(width - n, ' ');
}

}  // namespace tandem::cli
