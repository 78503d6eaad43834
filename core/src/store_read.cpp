// Reading records back: the merged view of a record and the canonical dump.
#include <algorithm>

#include "store_impl.hpp"

namespace tandem {

Json Record::to_json() const {
  Json j = Json::object();
  j["id"] = id;
  j["kind"] = kind;
  j["school"] = school;
  if (!purged.empty()) {
    j["purged"] = true;
    return j;
  }
  if (!deleted.empty()) {
    j["deleted"] = true;
    return j;
  }
  j["fields"] = fields;
  Json cs = Json::array();
  for (const auto& c : conflicts) cs.push_back(Json{{"field", c.field}, {"value", c.value}, {"hlc", c.hlc}});
  j["conflicts"] = std::move(cs);
  // Only when there is one: dumps of records without merges stay as they were.
  if (!merged.empty()) j["merged"] = merged;
  return j;
}

Result<Record> Store::Impl::load(std::string_view id) const {
  auto& self = const_cast<Impl&>(*this);  // statement cache is logically const
  auto row = self.record_row(id);
  if (!row) return std::move(row).error();
  if (!*row) return make_error(ErrorCode::kNotFound, "no record '" + std::string(id.substr(0, 64)) + "'");
  Record r;
  r.id = std::string(id);
  r.kind = (*row)->kind;
  r.school = (*row)->school;
  r.created = (*row)->created;
  r.deleted = (*row)->deleted;
  r.purged = (*row)->purged;
  if (!r.purged.empty()) return r;
  if ((*row)->lazy) {
    // Nothing written since the create: its values are the record's.
    auto values = self.create_values(**row);
    if (!values) return std::move(values).error();
    const KindSpec* kind = find_kind(r.kind);
    for (auto& [name, v] : values->items()) {
      const FieldSpec* fs = kind ? kind->field(name) : nullptr;
      if (!fs || fs->is_set()) continue;
      if (fs->type == FieldType::kText) {
        text::Document doc;
        TANDEM_TRY(doc.apply(v));
        r.fields[name] = doc.text();
      } else {
        r.fields[name] = std::move(v);
        r.stamps[name] = r.created;
      }
    }
  } else {
    // Heads per field, greatest first: the first is the value, the rest conflicts.
    auto st = self.stmt(
        "SELECT field, hlc, value FROM field_writes WHERE record=? AND dominated=0 ORDER BY field, hlc DESC");
    if (!st) return std::move(st).error();
    (*st)->bind(1, id);
    std::string last_field;
    for (;;) {
      auto step = (*st)->step();
      if (!step) return std::move(step).error();
      if (!*step) break;
      std::string field = (*st)->text(0);
      Json value = Json::parse((*st)->text(2), nullptr, false);
      if (field != last_field) {
        r.fields[field] = std::move(value);
        r.stamps[field] = (*st)->text(1);
        last_field = field;
      } else {
        r.conflicts.push_back(Conflict{field, std::move(value), (*st)->text(1)});
      }
    }
  }
  {
    auto st = self.stmt(
        "SELECT field, element FROM set_elements WHERE record=? AND present=1 ORDER BY field, element");
    if (!st) return std::move(st).error();
    (*st)->bind(1, id);
    for (;;) {
      auto step = (*st)->step();
      if (!step) return std::move(step).error();
      if (!*step) break;
      auto& arr = r.fields[(*st)->text(0)];
      if (!arr.is_array()) arr = Json::array();
      arr.push_back((*st)->text(1));
    }
  }
  {
    auto st = self.stmt("SELECT field, text, merged FROM texts WHERE record=? ORDER BY field");
    if (!st) return std::move(st).error();
    (*st)->bind(1, id);
    for (;;) {
      auto step = (*st)->step();
      if (!step) return std::move(step).error();
      if (!*step) break;
      r.fields[(*st)->text(0)] = (*st)->text(1);
      if (const std::string merged = (*st)->text(2); !merged.empty()) {
        Json by = Json::parse(merged, nullptr, false);
        auto& authors = r.merged[(*st)->text(0)];
        for (const Json& a : by.is_array() ? by : Json::array({nullptr})) {
          if (!a.is_string())
            return make_error(ErrorCode::kCorrupt, "unreadable merge marks of a text");
          authors.push_back(a.get<std::string>());
        }
      }
    }
  }
  std::sort(r.conflicts.begin(), r.conflicts.end(), [](const Conflict& a, const Conflict& b) {
    return std::tie(a.field, a.hlc) < std::tie(b.field, b.hlc);
  });
  return r;
}

Result<Record> Store::get(std::string_view id) const {
  auto locked = impl_->lease_locked();
  if (!locked) return std::move(locked).error();
  auto r = impl_->load(id);
  if (r) TANDEM_TRY(Impl::check_lease(*r, *locked));
  return r;
}

Result<std::vector<Record>> Store::list(std::string_view kind, bool include_deleted) const {
  // records_kind covers every kind but entries (see migration 3).
  const char* sql =
      kind.empty() ? "SELECT id FROM records WHERE (?1 OR (deleted='' AND purged='')) ORDER BY id"
      : kind == "entry"
          ? "SELECT id FROM records WHERE kind=?2 AND (?1 OR (deleted='' AND purged='')) ORDER BY id"
          : "SELECT id FROM records WHERE kind=?2 AND kind<>'entry' AND (?1 OR (deleted='' AND purged='')) "
            "ORDER BY id";
  auto locked = impl_->lease_locked();  // before the snapshot: it may write
  if (!locked) return std::move(locked).error();
  ReadSnapshot snapshot(impl_->db);
  std::vector<std::string> ids;
  {
    auto st = impl_->stmt(sql);
    if (!st) return std::move(st).error();
    (*st)->bind(1, std::int64_t{include_deleted});
    if (!kind.empty()) (*st)->bind(2, kind);
    auto read = (*st)->texts();
    if (!read) return std::move(read).error();
    ids = std::move(*read);
  }
  std::vector<Record> out;
  out.reserve(ids.size());
  for (const auto& id : ids) {
    auto r = impl_->load(id);
    if (!r) return std::move(r).error();
    TANDEM_TRY(Impl::check_lease(*r, *locked));
    out.push_back(std::move(*r));
  }
  return out;
}

Result<std::vector<Record>> Store::list_under(std::string_view kind_name, std::string_view parent) const {
  const KindSpec* kind = find_kind(kind_name);
  if (!kind) return make_error(ErrorCode::kUnknownKind, "unknown kind '" + std::string(kind_name.substr(0, 64)) + "'");
  const std::string& field = kind->parent_field;
  if (field.empty()) return make_error(ErrorCode::kInvalidArgument, kind->name + " records hang under nothing");
  // The field list repeats the index's condition word for word: SQLite uses
  // a partial index only for a query that states its condition.
  auto st = impl_->stmt(
      "SELECT DISTINCT f.record FROM field_writes f JOIN records r ON r.id = f.record "
      "WHERE (CASE f.field WHEN 'session' THEN 1 WHEN 'course' THEN 1 WHEN 'meeting' THEN 1 "
      "WHEN 'child' THEN 1 ELSE 0 END) = 1 AND f.dominated = 0 "
      "AND f.field = ?1 AND f.value = ?2 AND r.kind = ?3 AND r.deleted = '' AND r.purged = '' "
      "ORDER BY f.record");
  if (!st) return std::move(st).error();
  auto locked = impl_->lease_locked();  // before the snapshot: it may write
  if (!locked) return std::move(locked).error();
  ReadSnapshot snapshot(impl_->db);
  (*st)->bind(1, field).bind(2, Json(std::string(parent)).dump()).bind(3, kind->name);
  auto ids = (*st)->texts();
  if (!ids) return std::move(ids).error();
  std::vector<Record> out;
  out.reserve(ids->size());
  for (const auto& id : *ids) {
    auto r = impl_->load(id);
    if (!r) return std::move(r).error();
    TANDEM_TRY(Impl::check_lease(*r, *locked));
    // A conflict on the parent leaves a row for each value: the merged value decides.
    const auto it = r->fields.find(field);
    if (it != r->fields.end() && it->is_string() && it->get_ref<const std::string&>() == parent) {
      out.push_back(std::move(*r));
    }
  }
  return out;
}

Result<std::vector<std::string>> Store::conflicted() const {
  auto st = impl_->stmt(
      "SELECT f.record FROM field_writes f JOIN records r ON r.id = f.record "
      "WHERE f.dominated = 0 AND r.deleted = '' AND r.purged = '' "
      "GROUP BY f.record, f.field HAVING count(*) > 1 ORDER BY f.record");
  if (!st) return std::move(st).error();
  std::vector<std::string> ids;
  for (;;) {
    auto step = (*st)->step();
    if (!step) return std::move(step).error();
    if (!*step) break;
    if (ids.empty() || ids.back() != (*st)->text(0)) ids.push_back((*st)->text(0));
  }
  return ids;
}

Result<std::string> Store::canonical_dump() const {
  auto all = list("", true);
  if (!all) return std::move(all).error();
  std::string out = "[\n";
  bool first = true;
  for (const auto& r : *all) {
    if (!first) out += ",\n";
    first = false;
    out += r.to_json().dump(-1, ' ', false, Json::error_handler_t::strict);
  }
  out += first ? "]\n" : "\n]\n";
  return out;
}

}  // namespace tandem
