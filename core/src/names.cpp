// Records by name (people, groups, children, courses...) and whole-value
// edits: the parts of notebook.hpp a host uses to turn what a person typed
// into changes.
#include <algorithm>

#include "fold.hpp"
#include "tandem/core/excerpt.hpp"
#include "tandem/core/notebook.hpp"
#include "tandem/core/session_summary.hpp"

namespace tandem {
namespace {

// Matches an ambiguity message lists (the message stays short).
constexpr std::size_t kMaxListedMatches = 10;

// The field that names a record of each nameable kind.
struct NameField {
  const char* kind;
  const char* field;
};
constexpr NameField kNameFields[] = {
    {"person", "name"}, {"group", "name"},    {"child", "pseudonym"}, {"course", "title"},
    {"school", "name"}, {"template", "name"}, {"meeting", "title"}};

const char* name_field(std::string_view kind) {
  for (const auto& n : kNameFields) {
    if (kind == n.kind) return n.field;
  }
  return nullptr;
}

using detail::fold_case;

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::string trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

}  // namespace

Status write_value(Store& store, const Record& current, const FieldSpec& field, const Json& value) {
  if (!field.is_set())
    return store.set(current.id, field.name, value);  // text: minimal replacement
  const auto it = current.fields.find(field.name);
  const Json old_value = it != current.fields.end() && it->is_array() ? *it : Json::array();
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

bool nameable_kind(std::string_view kind) { return name_field(kind) != nullptr; }

std::string record_label(const Record& record) {
  const char* field = name_field(record.kind);
  std::string label = field ? string_field(record.fields, field) : std::string();
  if (label.empty()) return record.id;
  const std::string initials =
      record.kind == "person" ? string_field(record.fields, "initials") : "";
  return initials.empty() ? label : label + " (" + initials + ")";
}

Result<std::vector<ReferenceMatch>> find_references(const Store& store, std::string_view kind,
                                                    std::string_view text) {
  const char* field = name_field(kind);
  if (field == nullptr) {
    return make_error(ErrorCode::kInvalidArgument,
                      excerpt(kind) + " records are not referred to by name");
  }
  const std::string wanted = fold_case(trimmed(text));
  if (wanted.empty()) return make_error(ErrorCode::kInvalidArgument, "an empty name");
  if (is_valid_id(text)) {
    // An id is taken as given, whatever its record's kind or state: the
    // store's answer (deleted, purged, a record of another kind) says more
    // than "no such name".
    auto exact = store.get(text);
    if (exact.ok()) return std::vector<ReferenceMatch>{{exact->id, record_label(*exact)}};
    // Locked by the offline lease (lease.hpp): the id still names it, so a
    // note about a child can be written while offline; nothing is shown.
    if (exact.error().code == ErrorCode::kLeaseExpired)
      return std::vector<ReferenceMatch>{{std::string(text), std::string(text)}};
  }
  auto records = store.list(kind);
  if (!records) return std::move(records).error();
  // Tier 1: the whole name or the initials; tier 2: a word of the name or its beginning.
  std::vector<ReferenceMatch> tiers[2];
  for (const Record& r : *records) {
    const std::string name = fold_case(string_field(r.fields, field));
    const std::string initials = fold_case(string_field(r.fields, "initials"));
    if (name == wanted || (kind == "person" && initials == wanted)) {
      tiers[0].push_back({r.id, record_label(r)});
      continue;
    }
    const auto w = words(name);
    if (name.rfind(wanted, 0) == 0 || std::find(w.begin(), w.end(), wanted) != w.end()) {
      tiers[1].push_back({r.id, record_label(r)});
    }
  }
  return tiers[0].empty() ? std::move(tiers[1]) : std::move(tiers[0]);
}

Result<std::string> resolve_reference(const Store& store, std::string_view kind,
                                      std::string_view text) {
  auto matches = find_references(store, kind, text);
  if (!matches) return std::move(matches).error();
  if (matches->empty()) {
    return make_error(ErrorCode::kNotFound, "no " + std::string(kind) + " called " + excerpt(text));
  }
  if (matches->size() == 1) return matches->front().id;
  std::string list;
  for (std::size_t i = 0; i < matches->size(); ++i) {
    if (i == kMaxListedMatches) {
      list += ", and " + std::to_string(matches->size() - i) + " more";
      break;
    }
    const ReferenceMatch& m = (*matches)[i];
    list += (list.empty() ? "" : ", ") + m.id;
    // A child's pseudonym stays out of messages (they may reach a log).
    if (kind != "child") list += " " + excerpt(m.label);
  }
  return make_error(ErrorCode::kAmbiguous, excerpt(text) + " fits " +
                                               std::to_string(matches->size()) + " " +
                                               std::string(kind) + " records: " + list);
}

}  // namespace tandem
