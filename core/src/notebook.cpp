// Queries behind an app's screens: open and overdue actions, open conflicts
// with who and when, and what hangs under a course or a meeting.
#include "tandem/core/notebook.hpp"

#include <algorithm>

#include "tandem/core/session_summary.hpp"

namespace tandem {
namespace {

// Kinds that hang under a record of `kind` (their parent_field names it),
// observation entries aside (counted, not listed).
std::vector<const KindSpec*> kinds_under(std::string_view kind) {
  std::vector<const KindSpec*> out;
  for (const KindSpec& k : schema()) {
    if (k.name == "entry" || k.parent_field.empty()) continue;
    const FieldSpec* parent = k.field(k.parent_field);
    if (parent != nullptr && parent->ref_kind == kind && k.name != "consent") out.push_back(&k);
  }
  return out;
}

Result<RecordTree> tree_of(const Store& store, Record record, const std::vector<Record>& actions) {
  RecordTree tree;
  for (const Record& a : actions) {
    if (string_field(a.fields, "source") == record.id) tree.actions.push_back(a);
  }
  if (record.kind == "session") {
    auto entries = store.list_under("entry", record.id);
    if (!entries) return std::move(entries).error();
    tree.entries = static_cast<std::int64_t>(entries->size());
  }
  for (const KindSpec* k : kinds_under(record.kind)) {
    auto children = store.list_under(k->name, record.id);
    if (!children) return std::move(children).error();
    for (Record& child : *children) {
      auto sub = tree_of(store, std::move(child), actions);
      if (!sub) return std::move(sub).error();
      tree.children.push_back(std::move(*sub));
    }
  }
  tree.record = std::move(record);
  return tree;
}

}  // namespace

Result<std::vector<OpenAction>> open_actions(const Store& store, const ActionQuery& query) {
  if (query.overdue_only && !is_valid_date(query.today)) {
    return make_error(ErrorCode::kInvalidDate, "today must be a date (YYYY-MM-DD)");
  }
  auto actions = store.list("action");
  if (!actions) return std::move(actions).error();
  std::vector<OpenAction> out;
  for (Record& a : *actions) {
    const auto done = a.fields.find("done");
    if (done != a.fields.end() && done->is_boolean() && done->get<bool>()) continue;
    if (!query.person.empty() && string_field(a.fields, "tovholder") != query.person) continue;
    OpenAction item;
    item.due = string_field(a.fields, "due");
    // Dates compare as text ("YYYY-MM-DD").
    item.overdue = !item.due.empty() && !query.today.empty() && item.due < query.today;
    if (query.overdue_only && !item.overdue) continue;
    item.record = std::move(a);
    out.push_back(std::move(item));
  }
  std::stable_sort(out.begin(), out.end(), [](const OpenAction& x, const OpenAction& y) {
    if (x.due.empty() != y.due.empty()) return y.due.empty();
    return x.due < y.due;
  });
  return out;
}

Result<std::vector<OpenConflict>> open_conflicts(const Store& store) {
  auto ids = store.conflicted();
  if (!ids) return std::move(ids).error();
  std::vector<OpenConflict> out;
  for (const std::string& id : *ids) {
    auto r = store.get(id);
    if (!r) return std::move(r).error();
    for (const Conflict& c : r->conflicts) {
      OpenConflict item;
      item.record = r->id;
      item.kind = r->kind;
      item.field = c.field;
      item.label = record_label(*r);
      item.current = r->fields.value(c.field, Json());
      item.value = c.value;
      item.hlc = c.hlc;
      // The change log keeps no author: the stamp says which device wrote
      // the value, and when.
      if (auto stamp = Hlc::parse(c.hlc); stamp.ok()) {
        item.at_ms = stamp->ms;
        item.site = stamp->site;
        item.this_device = stamp->site == store.site_id();
      }
      out.push_back(std::move(item));
    }
  }
  return out;
}

std::vector<MergedText> merged_texts(const Store& store, const Record& record,
                                     std::string_view self_name) {
  std::vector<MergedText> out;
  for (const auto& [field, sites] : record.merged) {
    MergedText m;
    m.field = field;
    for (const std::string& site : sites) {
      const bool here = site == store.site_id();
      m.by.push_back(MergeAuthor{site, here ? std::string(self_name) : std::string(), here});
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::string merge_notice(const MergedText& merged, bool danish) {
  std::string who;
  for (std::size_t i = 0; i < merged.by.size(); ++i) {
    if (i > 0) who += i + 1 == merged.by.size() ? (danish ? " og " : " and ") : ", ";
    who += merged.by[i].name.empty() ? merged.by[i].site : merged.by[i].name;
  }
  return (danish ? "flettet sammen af samtidige ændringer fra "
                 : "merged from concurrent edits by ") +
         who;
}

Result<RecordTree> record_tree(const Store& store, std::string_view id) {
  auto record = store.get(id);
  if (!record) return std::move(record).error();
  if (!record->live())
    return make_error(ErrorCode::kNotFound, "record '" + record->id + "' is gone");
  auto actions = store.list("action");
  if (!actions) return std::move(actions).error();
  return tree_of(store, std::move(*record), *actions);
}

}  // namespace tandem
