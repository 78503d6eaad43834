// Local writes: validate against the schema and the local records, stamp with
// the hybrid logical clock, then merge + log + outbox in one transaction; the
// record rules (record_rules.hpp) over what the transaction wrote before its
// outermost commit.
#include <algorithm>
#include <cstdio>
#include <unordered_map>
#include <utility>

#include "store_impl.hpp"
#include "tandem/core/excerpt.hpp"
#include "tandem/core/record_rules.hpp"

namespace tandem {
namespace {

// Stamps skipped for one save before giving up (each costs one lookup in the
// log's unique index; a run of reused stamps is as long as one withdrawn
// burst of saves within a millisecond).
constexpr std::uint32_t kMaxStampRetries = 1u << 24;

Error not_found(std::string_view id) {
  return make_error(ErrorCode::kNotFound, "no record '" + std::string(id.substr(0, 64)) + "'");
}

Status check_live(std::string_view id, const std::optional<RecordRow>& row) {
  if (!row) return not_found(id);
  if (!row->purged.empty()) return make_error(ErrorCode::kPurged, "record '" + std::string(id) + "' has been erased");
  if (!row->deleted.empty()) return make_error(ErrorCode::kDeleted, "record '" + std::string(id) + "' has been deleted");
  return {};
}

}  // namespace

Status Store::Impl::write_local(Change c) {
  auto apply_local = [&]() -> Status {
    // A stamp is normally new: the clock never goes backwards. One that the
    // log already holds (a stamp withdrawn and issued again, see
    // restamp_outbox_after, or a file whose clock row was lost) is skipped,
    // never a reason to refuse a save: the next tick is greater. apply_change
    // notices the duplicate before it writes anything.
    for (std::uint32_t attempt = 0;; ++attempt) {
      c.hlc = hybrid->tick();
      clock_dirty = true;
      auto r = apply_change(c, true);
      if (!r) return std::move(r).error();
      if (*r == ApplyOutcome::kApplied) {
        note_written(c);
        return {};
      }
      if (*r != ApplyOutcome::kDuplicate || attempt >= kMaxStampRetries) {
        return make_error(ErrorCode::kInternal, "local change not applied");
      }
    }
  };
  // A user's work is durable when the call returns: never inside a
  // transaction whose commit may be undone by a power loss.
  if (deferred) {
    return make_error(ErrorCode::kInvalidArgument, "local writes cannot join a deferred transaction");
  }
  // Inside a caller's transaction (bulk recording): the change was validated
  // before this point and apply_change refuses before its first write, so no
  // savepoint per write is needed; an I/O error fails the whole transaction.
  if (tx_depth > 0) return apply_local();
  return in_transaction(apply_local);
}

void Store::Impl::note_written(const Change& c) {
  Written w{c.record, c.kind, {}, std::nullopt};
  if (c.op == Op::kCreate) {
    // The values the rules may read: every field but text (operations, and
    // possibly long).
    const KindSpec* kind = find_kind(c.kind);
    w.created = Json::object();
    for (const auto& [name, v] : c.value.items()) {
      w.fields.insert(name);
      const FieldSpec* fs = kind ? kind->field(name) : nullptr;
      if (fs && fs->type != FieldType::kText) (*w.created)[name] = v;
    }
  } else if (!c.field.empty()) {
    w.fields.insert(c.field);
  }
  // Deletes and purges are not noted: a record made and removed in one
  // transaction is checked as it was made.
  if (RecordRules::watches(w.kind, w.fields)) written.push_back(std::move(w));
}

Status Store::Impl::check_written() {
  // One entry per record, in the order first written: the fields of all its
  // writes, and its create's values only when that was its one write.
  std::vector<Written> records;
  std::unordered_map<std::string, std::size_t> index;
  for (Written& w : std::exchange(written, {})) {
    const auto [at, fresh] = index.emplace(w.record, records.size());
    if (fresh) {
      records.push_back(std::move(w));
      continue;
    }
    Written& same = records[at->second];
    same.fields.insert(w.fields.begin(), w.fields.end());
    same.created.reset();
  }
  RecordRules rules([this](std::string_view id) -> Result<Record> {
    auto r = load(id);
    if (r && !r->live()) return make_error(ErrorCode::kNotFound, "no live record " + excerpt(id));
    return r;
  });
  for (const Written& w : records) {
    if (w.created) {
      TANDEM_TRY(rules.check(w.kind, *w.created, w.fields));
      continue;
    }
    auto r = load(w.record);
    if (!r) return std::move(r).error();
    if (!r->live()) continue;
    TANDEM_TRY(rules.check(w.kind, r->fields, w.fields));
  }
  return {};
}

namespace {

// Checks what only this replica can check: referenced records exist, are live,
// have the right kind and belong to the same school; focus areas are known.
// `looked_up`: a record the caller has already read (id and row), or null.
Status check_local_refs(Store::Impl& m, const std::string& school, const std::string& kind,
                        const FieldSpec& fs, const Json& value,
                        const std::pair<std::string, RecordRow>* looked_up = nullptr) {
  auto check_one = [&](const std::string& id) -> Status {
    Result<std::optional<RecordRow>> row = std::optional<RecordRow>();
    if (looked_up && looked_up->first == id) {
      row = std::optional<RecordRow>(looked_up->second);
    } else {
      row = m.record_row(id);
    }
    if (!row) return std::move(row).error();
    TANDEM_TRY(check_live(id, *row));
    if (!fs.ref_kind.empty() && (*row)->kind != fs.ref_kind) {
      return make_error(ErrorCode::kInvalidValue,
                        "'" + fs.name + "' must refer to a " + fs.ref_kind + ", '" + id + "' is a " + (*row)->kind);
    }
    if (!(*row)->school.empty() && (*row)->school != school) return not_found(id);  // other schools are invisible
    return {};
  };
  if (fs.type == FieldType::kRef && value.is_string()) return check_one(value.get<std::string>());
  if (fs.type == FieldType::kRefSet) {
    for (const auto& el : value.is_array() ? value : Json::array({value})) TANDEM_TRY(check_one(el.get<std::string>()));
  }
  if (kind == "course" && fs.name == "focus_areas") {
    std::vector<std::string> known = builtin_focus_areas();
    auto st = m.stmt(
        "SELECT element FROM set_elements WHERE record=? AND field='focus_areas' AND present=1");
    if (!st) return std::move(st).error();
    (*st)->bind(1, school);
    auto added = (*st)->texts();
    if (!added) return std::move(added).error();
    known.insert(known.end(), added->begin(), added->end());
    for (const auto& el : value.is_array() ? value : Json::array({value})) {
      if (std::find(known.begin(), known.end(), el.get<std::string>()) == known.end()) {
        return make_error(ErrorCode::kInvalidValue,
                          "unknown focus area '" + el.get<std::string>() +
                              "': add it to the school's focus_areas first");
      }
    }
  }
  return {};
}

}  // namespace

Result<std::string> Store::create(std::string_view kind_name, const Json& fields, std::string_view given_id) {
  Impl& m = *impl_;
  const KindSpec* kind = find_kind(kind_name);
  if (!kind) return make_error(ErrorCode::kUnknownKind, "unknown kind '" + std::string(kind_name.substr(0, 64)) + "'");
  if (!fields.is_object()) return make_error(ErrorCode::kWrongType, "fields must be a JSON object");

  std::string id;
  if (!given_id.empty()) {
    if (!is_valid_id(given_id)) return make_error(ErrorCode::kInvalidArgument, "malformed record id");
    auto row = m.record_row(given_id);
    if (!row) return std::move(row).error();
    if (*row) return make_error(ErrorCode::kAlreadyExists, "record '" + std::string(given_id) + "' exists");
    id = std::string(given_id);
  } else {
    // Time-ordered ids: 10 hex of the clock's ms, then 64 unpredictable
    // bits (16 hex). New records append to the B-trees instead of splitting
    // pages all over (bulk recording writes about the data's size), and no
    // device can guess another's ids: it can neither probe whether a record
    // exists in another school nor take an id before its owner creates it.
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "%010llx%016llx",
                  static_cast<unsigned long long>(m.hybrid->last().ms) & 0xffffffffffULL,
                  static_cast<unsigned long long>(m.random.next()));
    id = std::string(kind_name) + "_" + stamp;
  }

  // The school: a school is its own; other records name it, or take their
  // parent's (looked up once: the reference check below reuses it).
  std::string school;
  std::optional<std::pair<std::string, RecordRow>> parent;
  const auto school_given = fields.find("school");
  if (kind->name == "school") {
    school = id;
  } else if (school_given != fields.end()) {
    if (!school_given->is_string()) return make_error(ErrorCode::kWrongType, "'school' must be a school id");
    school = school_given->get<std::string>();
    auto row = m.record_row(school);
    if (!row) return std::move(row).error();
    TANDEM_TRY(check_live(school, *row));
    if ((*row)->kind != "school") return make_error(ErrorCode::kInvalidValue, "'" + school + "' is not a school");
  } else if (!kind->parent_field.empty()) {
    auto p = fields.find(kind->parent_field);
    if (p == fields.end() || !p->is_string()) {
      return make_error(ErrorCode::kMissingField, kind->name + " needs '" + kind->parent_field + "'");
    }
    auto row = m.record_row(p->get<std::string>());
    if (!row) return std::move(row).error();
    TANDEM_TRY(check_live(p->get<std::string>(), *row));
    school = (*row)->school;
    parent.emplace(p->get<std::string>(), std::move(**row));
  } else {
    school = m.default_school;
    if (school.empty()) {
      return make_error(ErrorCode::kMissingField, "no school given and no default school (run init --school-name)");
    }
  }

  Json normalised = Json::object();
  for (const auto& [name, v] : fields.items()) {
    if (name == "school") continue;  // handled above
    const FieldSpec* fs = kind->field(name);
    if (!fs) return make_error(ErrorCode::kUnknownField, "unknown field '" + name.substr(0, 64) + "' of " + kind->name);
    if (v.is_null()) continue;
    auto ok = validate_value(*fs, v);
    if (!ok) return std::move(ok).error();
    TANDEM_TRY(check_not_blank(*fs, *ok));
    TANDEM_TRY(check_local_refs(m, school, kind->name, *fs, *ok, parent ? &*parent : nullptr));
    if (fs->type == FieldType::kText) {
      const auto& initial = ok->get_ref<const std::string&>();
      if (initial.empty()) continue;
      auto ops = text::Document::initial_ops(m.site, initial);
      if (!ops) return std::move(ops).error();
      normalised[name] = std::move(*ops);
    } else if (fs->is_set()) {
      Json sorted = *ok;
      std::sort(sorted.begin(), sorted.end());
      sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
      normalised[name] = std::move(sorted);
    } else {
      normalised[name] = std::move(*ok);
    }
  }
  for (const auto& fs : kind->fields) {
    if (fs.required && !normalised.contains(fs.name)) {
      return make_error(ErrorCode::kMissingField, kind->name + " needs '" + fs.name + "'");
    }
  }
  Change c;
  c.record = id;
  c.kind = kind->name;
  c.school = school;
  c.op = Op::kCreate;
  c.value = std::move(normalised);
  TANDEM_TRY(m.write_local(std::move(c)));
  return id;
}

namespace {

struct Target {
  RecordRow row;
  const KindSpec* kind;
  const FieldSpec* field;
};

Result<Target> writable_field(Store::Impl& m, std::string_view id, std::string_view field) {
  auto row = m.record_row(id);
  if (!row) return std::move(row).error();
  TANDEM_TRY(check_live(id, *row));
  if ((*row)->school.empty()) return make_error(ErrorCode::kForbidden, "built-in records are read-only");
  const KindSpec* kind = find_kind((*row)->kind);
  const FieldSpec* fs = kind ? kind->field(field) : nullptr;
  if (!fs) {
    return make_error(ErrorCode::kUnknownField,
                      "unknown field '" + std::string(field.substr(0, 64)) + "' of " + (*row)->kind);
  }
  return Target{**row, kind, fs};
}

}  // namespace

Status Store::set(std::string_view id, std::string_view field, const Json& value) {
  Impl& m = *impl_;
  auto t = writable_field(m, id, field);
  if (!t) return std::move(t).error();
  if (t->field->is_set()) {
    return make_error(ErrorCode::kWrongType, "'" + std::string(field) + "' is a set: use add/remove");
  }
  if (t->field->required && value.is_null()) {
    return make_error(ErrorCode::kMissingField, "'" + std::string(field) + "' cannot be cleared");
  }
  Json normalised = value;
  if (!value.is_null()) {
    auto ok = validate_value(*t->field, value);
    if (!ok) return std::move(ok).error();
    normalised = std::move(*ok);
    TANDEM_TRY(check_not_blank(*t->field, normalised));
    TANDEM_TRY(check_local_refs(m, t->row.school, t->kind->name, *t->field, normalised));
  }
  if (t->field->type == FieldType::kText) {
    auto ops = m.text_ops_for_replace(id, field, normalised.is_null() ? "" : normalised.get<std::string>());
    if (!ops) return std::move(ops).error();
    if (ops->empty()) return {};  // same text: nothing changed, nothing to sync
    Change c;
    c.record = std::string(id);
    c.kind = t->kind->name;
    c.school = t->row.school;
    c.op = Op::kText;
    c.field = std::string(field);
    c.value = std::move(*ops);
    return m.write_text_edit(std::move(c));
  }
  auto seen = m.heads(id, field);
  if (!seen) return std::move(seen).error();
  Change c;
  c.record = std::string(id);
  c.kind = t->kind->name;
  c.school = t->row.school;
  c.op = Op::kSet;
  c.field = std::string(field);
  c.value = std::move(normalised);
  c.seen = std::move(*seen);
  return m.write_local(std::move(c));
}

namespace {
Status set_element(Store::Impl& m, std::string_view id, std::string_view field, const Json& element, bool add) {
  auto t = writable_field(m, id, field);
  if (!t) return std::move(t).error();
  if (!t->field->is_set()) return make_error(ErrorCode::kWrongType, "'" + std::string(field) + "' is not a set");
  auto ok = validate_element(*t->field, element);
  if (!ok) return std::move(ok).error();
  if (add) TANDEM_TRY(check_local_refs(m, t->row.school, t->kind->name, *t->field, *ok));
  Change c;
  c.record = std::string(id);
  c.kind = t->kind->name;
  c.school = t->row.school;
  c.op = add ? Op::kAdd : Op::kRemove;
  c.field = std::string(field);
  c.value = std::move(*ok);
  return m.write_local(std::move(c));
}
}  // namespace

Status Store::add(std::string_view id, std::string_view field, const Json& element) {
  return set_element(*impl_, id, field, element, true);
}

Status Store::remove(std::string_view id, std::string_view field, const Json& element) {
  return set_element(*impl_, id, field, element, false);
}

Status Store::delete_record(std::string_view id) {
  Impl& m = *impl_;
  auto row = m.record_row(id);
  if (!row) return std::move(row).error();
  TANDEM_TRY(check_live(id, *row));
  if ((*row)->school.empty()) return make_error(ErrorCode::kForbidden, "built-in records are read-only");
  Change c;
  c.record = std::string(id);
  c.kind = (*row)->kind;
  c.school = (*row)->school;
  c.op = Op::kDelete;
  return m.write_local(std::move(c));
}

Status Store::purge(std::string_view id) {
  Impl& m = *impl_;
  auto row = m.record_row(id);
  if (!row) return std::move(row).error();
  if (!*row) return not_found(id);
  if (!(*row)->purged.empty()) return make_error(ErrorCode::kPurged, "record '" + std::string(id) + "' is already erased");
  if ((*row)->school.empty()) return make_error(ErrorCode::kForbidden, "built-in records are read-only");
  Change c;
  c.record = std::string(id);
  c.kind = (*row)->kind;
  c.school = (*row)->school;
  c.op = Op::kPurge;
  TANDEM_TRY(m.write_local(std::move(c)));
  // The erased content's old pages leave the WAL now, not at some later
  // checkpoint (inside a transaction: when its owner checkpoints). Busy (a
  // second connection reading) leaves them to the next checkpoint.
  if (m.tx_depth == 0) {
    Status s = checkpoint_truncate();
    if (!s.ok() && s.error().code != ErrorCode::kBusy) return s;
  }
  return {};
}

Status Store::resolve(std::string_view id, std::string_view field, const Json& value) {
  auto heads = impl_->heads(id, field);
  if (!heads) return std::move(heads).error();
  if (heads->size() < 2) {
    auto row = impl_->record_row(id);
    if (!row) return std::move(row).error();
    if (!*row) return not_found(id);
    return make_error(ErrorCode::kNoConflict, "field '" + std::string(field) + "' has no open conflict");
  }
  return set(id, field, value);
}

}  // namespace tandem
