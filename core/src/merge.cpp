// The merge rules of SYNC.md, one implementation for tablets and server:
// - scalar fields: multi-value register ordered by HLC. The greatest
//   non-superseded write is the value; other non-superseded writes are open
//   conflicts (concurrent values are never silently dropped). A write
//   supersedes exactly the writes listed in its `seen`.
// - set fields: last-writer-wins per element (add/remove by HLC).
// - delete: final tombstone; later changes to the record are ignored.
// - purge: content and history of the record removed; only id + stamp remain.
// Every rule is a function of the set of changes received, so replicas that
// received the same changes in any order and with duplicates are identical.
#include <algorithm>

#include "store_impl.hpp"

namespace tandem {

Result<std::optional<RecordRow>> Store::Impl::record_row(std::string_view id) {
  auto st = stmt("SELECT kind, school, created, deleted, purged, lazy FROM records WHERE id=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, id);
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<RecordRow>();
  auto& s = **st;
  return std::optional<RecordRow>(RecordRow{s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.int64(5) != 0});
}

Result<Json> Store::Impl::create_values(const RecordRow& row) {
  auto st = stmt("SELECT body FROM changes WHERE hlc=?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, row.created);
  auto found = (*st)->step();
  if (!found) return std::move(found).error();
  if (!*found) return make_error(ErrorCode::kCorrupt, "the create change of a record is missing");
  Json body = Json::parse((*st)->text(0), nullptr, false);
  auto it = body.find("value");
  if (body.is_discarded() || it == body.end() || !it->is_object()) {
    return make_error(ErrorCode::kCorrupt, "the create change of a record is unreadable");
  }
  return std::move(*it);
}

Status Store::Impl::materialise(const std::string& record, RecordRow& row) {
  if (!row.lazy) return {};
  auto values = create_values(row);
  if (!values) return std::move(values).error();
  const KindSpec* kind = find_kind(row.kind);
  if (!kind) return make_error(ErrorCode::kCorrupt, "record of unknown kind '" + row.kind + "'");
  for (const auto& [name, v] : values->items()) {
    const FieldSpec* fs = kind->field(name);
    if (!fs || fs->is_set()) continue;  // set elements are written when the create is applied
    if (fs->type == FieldType::kText) {
      // The create's ops are the whole text (no state row exists yet).
      text::Document doc;
      TANDEM_TRY(doc.apply(v));
      TANDEM_TRY(save_text(record, PreparedText{name, doc.encode(), doc.text(), {}}));
    } else {
      TANDEM_TRY(write_field(record, name, row.created, v.dump(), {}));
    }
  }
  auto up = stmt("UPDATE records SET lazy=0 WHERE id=?");
  if (!up) return std::move(up).error();
  TANDEM_TRY((*up)->bind(1, record).run());
  row.lazy = false;
  return {};
}

Result<std::vector<std::string>> Store::Impl::heads(std::string_view record, std::string_view field) {
  auto rec = record_row(record);
  if (!rec) return std::move(rec).error();
  if (*rec && (*rec)->lazy) {
    auto values = create_values(**rec);
    if (!values) return std::move(values).error();
    if (values->contains(field)) return std::vector<std::string>{(*rec)->created};
    return std::vector<std::string>{};
  }
  auto st = stmt("SELECT hlc FROM field_writes WHERE record=? AND field=? AND dominated=0 ORDER BY hlc");
  if (!st) return std::move(st).error();
  (*st)->bind(1, record).bind(2, field);
  return (*st)->texts();
}

Status Store::Impl::write_field(const std::string& record, const std::string& field,
                                const std::string& hlc, std::string_view value_json,
                                const std::vector<std::string>& seen) {
  // Writes this one supersedes: a head that arrived is dropped (its change is
  // in the log, whose unique stamp recognises a re-delivery); one that has
  // not arrived yet leaves a value-less ghost so that it arrives dominated.
  for (const auto& s : seen) {
    auto del = stmt("DELETE FROM field_writes WHERE record=? AND field=? AND hlc=? AND dominated=0");
    if (!del) return std::move(del).error();
    TANDEM_TRY((*del)->bind(1, record).bind(2, field).bind(3, s).run());
    if (sqlite3_changes(db) > 0) continue;
    auto ghost = stmt(
        "INSERT INTO field_writes(record, field, hlc, value, dominated) VALUES(?,?,?,NULL,1) "
        "ON CONFLICT(record, field, hlc) DO NOTHING");
    if (!ghost) return std::move(ghost).error();
    TANDEM_TRY((*ghost)->bind(1, record).bind(2, field).bind(3, s).run());
  }
  auto st = stmt(
      "INSERT INTO field_writes(record, field, hlc, value, dominated) VALUES(?,?,?,?,0) "
      "ON CONFLICT(record, field, hlc) DO NOTHING");
  if (!st) return std::move(st).error();
  TANDEM_TRY((*st)->bind(1, record).bind(2, field).bind(3, hlc).bind(4, value_json).run());
  if (sqlite3_changes(db) > 0) return {};
  // This write's ghost was there: it arrives already superseded, and its
  // change is now in the log, so the ghost has done its job.
  auto del = stmt("DELETE FROM field_writes WHERE record=? AND field=? AND hlc=? AND dominated=1");
  if (!del) return std::move(del).error();
  return (*del)->bind(1, record).bind(2, field).bind(3, hlc).run();
}

Status Store::Impl::write_element(const std::string& record, const std::string& field,
                                  const std::string& hlc, const std::string& element, bool present) {
  auto st = stmt(
      "INSERT INTO set_elements(record, field, element, present, hlc) VALUES(?,?,?,?,?) "
      "ON CONFLICT(record, field, element) DO UPDATE SET present=excluded.present, hlc=excluded.hlc "
      "WHERE excluded.hlc > set_elements.hlc");
  if (!st) return std::move(st).error();
  return (*st)->bind(1, record).bind(2, field).bind(3, element).bind(4, std::int64_t{present}).bind(5, hlc).run();
}

Status Store::Impl::purge_record(const Change& c) {
  text_cache = TextCache{};  // erased text must not stay in memory either
  static const char* const kDeletes[] = {
      "DELETE FROM outbox WHERE seq IN (SELECT seq FROM changes WHERE record=?1 AND hlc<>?2)",
      "DELETE FROM changes WHERE record=?1 AND hlc<>?2",  // keeps the purge itself
      "DELETE FROM field_writes WHERE record=?1",
      "DELETE FROM set_elements WHERE record=?1",
      "DELETE FROM texts WHERE record=?1",
      // A refused change of the record keeps its content: gone too.
      "DELETE FROM sync_rejected WHERE record=?1",
  };
  const std::string stamp = c.hlc.str();
  for (const char* sql : kDeletes) {
    auto st = stmt(sql);
    if (!st) return std::move(st).error();
    (*st)->bind(1, c.record);
    if (std::string_view(sql).find("?2") != std::string_view::npos) (*st)->bind(2, stamp);
    TANDEM_TRY((*st)->run());
  }
  auto st = stmt(
      "INSERT INTO records(id, kind, school, purged) VALUES(?,?,?,?) "
      "ON CONFLICT(id) DO UPDATE SET created='', deleted='', lazy=0, "
      "purged=CASE WHEN records.purged='' OR excluded.purged < records.purged THEN excluded.purged ELSE records.purged END");
  if (!st) return std::move(st).error();
  return (*st)->bind(1, c.record).bind(2, c.kind).bind(3, c.school).bind(4, c.hlc.str()).run();
}

namespace {

// The log keeps each change without what its columns and its record's row
// already hold (stamp, record, kind, school): a third of the bytes of the
// wire form. read_changes() puts them back.
void append_json_string(std::string& out, std::string_view s) {
  const bool plain = std::all_of(s.begin(), s.end(), [](char ch) {
    return ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\';
  });
  if (!plain) {
    out += Json(std::string(s)).dump();
    return;
  }
  out += '"';
  out += s;
  out += '"';
}

// value_json: c.value.dump(), made once by the caller.
std::string log_body(const Change& c, std::string_view value_json) {
  std::string b;
  b.reserve(48 + c.field.size() + value_json.size() + 40 * c.seen.size());
  b += "{\"op\":\"";
  b += op_name(c.op);
  b += '"';
  if (!c.field.empty()) {
    b += ",\"field\":";
    append_json_string(b, c.field);
  }
  if (!c.value.is_null()) {
    b += ",\"value\":";
    b += value_json;
  }
  if (!c.seen.empty()) {
    b += ",\"seen\":[";
    for (std::size_t i = 0; i < c.seen.size(); ++i) {
      if (i > 0) b += ',';
      append_json_string(b, c.seen[i]);
    }
    b += ']';
  }
  b += '}';
  return b;
}

}  // namespace

Result<ApplyOutcome> Store::Impl::apply_change(const Change& c, bool local) {
  const std::string hlc = c.hlc.str();
  // A local create names a record that create() made sure is new.
  Result<std::optional<RecordRow>> existing = std::optional<RecordRow>();
  if (!local || c.op != Op::kCreate) existing = record_row(c.record);
  if (!existing) return std::move(existing).error();
  if (*existing) {
    const RecordRow& r = **existing;
    if (r.kind != c.kind) {
      return make_error(ErrorCode::kInvalidArgument, "record '" + c.record + "' is a " + r.kind + ", not a " + c.kind);
    }
    if (r.school != c.school) {
      return make_error(ErrorCode::kWrongSchool, "record '" + c.record + "' belongs to another school");
    }
    if (!r.purged.empty()) {
      if (c.op != Op::kPurge) return ApplyOutcome::kIgnored;
    } else if (!r.deleted.empty() && c.op != Op::kDelete && c.op != Op::kPurge) {
      return ApplyOutcome::kIgnored;
    }
  }
  const KindSpec* kind = find_kind(c.kind);
  // A create of a record not seen before (the common case) leaves its values
  // in its log entry: the record row is marked lazy (see migration 3).
  const bool fresh_create = c.op == Op::kCreate && !*existing;

  // Text operations are applied in memory first: malformed ones refuse the
  // change before anything is written.
  std::vector<PreparedText> texts;
  if (c.op == Op::kText || c.op == Op::kCreate) {
    if (!fresh_create) {
      auto st = stmt("SELECT 1 FROM changes WHERE hlc=?");
      if (!st) return std::move(st).error();
      (*st)->bind(1, hlc);
      auto dup = (*st)->step();
      if (!dup) return std::move(dup).error();
      if (*dup) return ApplyOutcome::kDuplicate;
    }
    if (c.op == Op::kText) {
      auto t = prepare_text(c.record, c.field, c.value);
      if (!t) return std::move(t).error();
      texts.push_back(std::move(*t));
    } else {
      for (const auto& [name, v] : c.value.items()) {
        if (kind->field(name)->type != FieldType::kText) continue;
        if (fresh_create) {
          if (local) continue;  // made by text::Document here
          text::Document doc;
          TANDEM_TRY(doc.apply(v));
          continue;
        }
        auto t = prepare_text(c.record, name, v);
        if (!t) return std::move(t).error();
        texts.push_back(std::move(*t));
      }
    }
  }
  const std::string value_json = c.value.dump();
  std::int64_t log_seq = 0;
  {
    // Log first: the unique stamp makes a duplicate a no-op before any write.
    auto st = stmt("INSERT INTO changes(hlc, record, body) VALUES(?,?,?) ON CONFLICT(hlc) DO NOTHING");
    if (!st) return std::move(st).error();
    TANDEM_TRY((*st)->bind(1, hlc).bind(2, c.record).bind(3, log_body(c, value_json)).run());
    if (sqlite3_changes(db) == 0) return ApplyOutcome::kDuplicate;
    log_seq = sqlite3_last_insert_rowid(db);
  }
  if (c.op == Op::kPurge) {
    TANDEM_TRY(purge_record(c));
  } else if (fresh_create) {
    auto st = stmt("INSERT INTO records(id, kind, school, created, lazy) VALUES(?,?,?,?,1)");
    if (!st) return std::move(st).error();
    TANDEM_TRY((*st)->bind(1, c.record).bind(2, c.kind).bind(3, c.school).bind(4, hlc).run());
    // Set elements, references to a child and the parent reference get
    // their rows now: which records concern a child must stay queryable
    // without decoding content, and what hangs under a record is found by
    // index (Store::list_under, migration 5).
    for (const auto& [name, v] : c.value.items()) {
      const FieldSpec* fs = kind->field(name);
      if (fs->is_set()) {
        for (const auto& el : v) TANDEM_TRY(write_element(c.record, name, hlc, el.get<std::string>(), true));
      } else if (fs->type == FieldType::kRef && (fs->ref_kind == "child" || name == kind->parent_field)) {
        TANDEM_TRY(write_field(c.record, name, hlc, v.dump(), {}));
      }
    }
  } else {
    if (!*existing) {
      auto st = stmt("INSERT INTO records(id, kind, school) VALUES(?,?,?)");
      if (!st) return std::move(st).error();
      TANDEM_TRY((*st)->bind(1, c.record).bind(2, c.kind).bind(3, c.school).run());
    } else if ((*existing)->lazy && c.op != Op::kDelete) {
      TANDEM_TRY(materialise(c.record, **existing));
    }
    switch (c.op) {
      case Op::kCreate: {
        auto up = stmt("UPDATE records SET created=? WHERE id=? AND (created='' OR created > ?)");
        if (!up) return std::move(up).error();
        TANDEM_TRY((*up)->bind(1, hlc).bind(2, c.record).bind(3, hlc).run());
        for (const auto& [name, v] : c.value.items()) {
          const FieldSpec* fs = kind->field(name);
          if (fs->is_set()) {
            for (const auto& el : v) TANDEM_TRY(write_element(c.record, name, hlc, el.get<std::string>(), true));
          } else if (fs->type == FieldType::kText) {
            continue;  // prepared above
          } else {
            TANDEM_TRY(write_field(c.record, name, hlc, v.dump(), {}));
          }
        }
        break;
      }
      case Op::kSet:
        TANDEM_TRY(write_field(c.record, c.field, hlc, value_json, c.seen));
        break;
      case Op::kAdd:
      case Op::kRemove:
        TANDEM_TRY(write_element(c.record, c.field, hlc, c.value.get<std::string>(), c.op == Op::kAdd));
        break;
      case Op::kText:
        break;  // prepared above
      case Op::kDelete: {
        auto up = stmt("UPDATE records SET deleted=? WHERE id=? AND (deleted='' OR deleted > ?)");
        if (!up) return std::move(up).error();
        TANDEM_TRY((*up)->bind(1, hlc).bind(2, c.record).bind(3, hlc).run());
        break;
      }
      case Op::kPurge:
        break;
    }
  }

  for (const auto& t : texts) TANDEM_TRY(save_text(c.record, t));
  // A local-only school's records never leave this device (join_school).
  if (local && (local_only.empty() || local_only.count(c.school) == 0)) {
    auto st = stmt("INSERT INTO outbox(seq) VALUES(?)");
    if (!st) return std::move(st).error();
    TANDEM_TRY((*st)->bind(1, log_seq).run());
  }
  return ApplyOutcome::kApplied;
}

Result<ApplyOutcome> Store::apply(const Change& change, StampCheck check) {
  TANDEM_TRY(validate_change(change));
  if (check == StampCheck::kHere) TANDEM_TRY(impl_->hybrid->check(change.hlc));
  Impl& m = *impl_;
  auto apply_one = [&]() -> Result<ApplyOutcome> {
    auto r = m.apply_change(change, false);
    if (!r) return r;
    if (*r == ApplyOutcome::kApplied) {
      m.hybrid->observe_checked(change.hlc);  // checked above, or by the server
      m.clock_dirty = true;
    }
    return r;
  };
  if (m.tx_depth > 0) {
    // Inside a caller's transaction (a sync page, a bundle): apply_change
    // checks everything that can refuse a change before its first write, so
    // an error after that is an I/O error that fails the whole transaction;
    // no savepoint per change is needed.
    return apply_one();
  }
  ApplyOutcome outcome = ApplyOutcome::kDuplicate;
  TANDEM_TRY(m.in_transaction([&]() -> Status {
    auto r = apply_one();
    if (!r) return std::move(r).error();
    outcome = *r;
    return {};
  }));
  return outcome;
}

}  // namespace tandem
