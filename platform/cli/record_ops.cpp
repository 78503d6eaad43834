#include "record_ops.hpp"

#include "consent_view.hpp"
#include "format.hpp"
#include "tandem/core/entries.hpp"
#include "tandem/core/notebook.hpp"
#include "tandem/sync/engine.hpp"
#include "value_parse.hpp"

namespace tandem::cli {
namespace {

// Reference fields take names: "Anne Hansen" becomes her id; a set a comma
// list of names or ids.
Result<std::string> resolve_refs(const Store& store, const FieldSpec& field,
                                 const std::string& text) {
  if ((field.type != FieldType::kRef && field.type != FieldType::kRefSet) ||
      !nameable_kind(field.ref_kind)) {
    return text;
  }
  if (field.type == FieldType::kRef) return resolve_id(store, field.ref_kind, text);
  std::string ids;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    if (item.find_first_not_of(" \t") != std::string::npos) {
      auto id = resolve_id(store, field.ref_kind, item);
      if (!id) return id;
      ids += (ids.empty() ? "" : ",") + *id;
    }
    start = comma + 1;
  }
  return ids;
}

// Parses assignments against `kind` into a fields object.
Result<Json> parse_assignments(const Store& store, const TimeZone& zone, const KindSpec& kind,
                               const Assignments& fields, bool creating) {
  Json out = Json::object();
  for (const auto& [name, text] : fields) {
    if (creating && name == "school" && kind.name != "school" && !out.contains(name)) {
      // Not a field: the school a new record belongs to when it is not the
      // default one (Store::create checks it names a live school).
      out[name] = text;
      continue;
    }
    auto field = lookup_field(kind, name);
    if (!field.ok()) return std::move(field).error();
    if (out.contains(name)) {
      return make_error(ErrorCode::kInvalidArgument, "field '" + name + "' given twice");
    }
    auto resolved = resolve_refs(store, **field, text);
    if (!resolved.ok()) return std::move(resolved).error();
    auto value = parse_field_text(**field, *resolved, zone);
    if (!value.ok()) return value;
    out[name] = std::move(value).value();
  }
  return out;
}

// A repeated field is a command-line mistake (exit 2); the rest are the
// schema's verdict on a value (exit 1).
int fail_parse(CliContext& ctx, const Error& error) {
  if (error.code == ErrorCode::kInvalidArgument) return ctx.usage(error.message);
  return ctx.fail(error);
}

// A write that leaves a note about a child outside its forum is kept (it
// stays with its author and the resource centre); the user is told so.
void note_consent(CliContext& ctx, const Store& store, std::string_view kind, const Json& fields,
                  Json& doc) {
  auto notice = consent_notice(ctx, store, kind, fields);
  if (!notice) return;
  doc["notice"] = std::move(notice->json);
  ctx.notice(notice->text);
}

}  // namespace

Result<std::string> resolve_id(const Store& store, std::string_view kind, std::string_view text) {
  if (kind.empty() || !nameable_kind(kind)) return std::string(text);
  return resolve_reference(store, kind, text);
}

Result<Record> fetch_record(Store& store, std::string_view id, std::string_view kind) {
  auto resolved = resolve_id(store, kind, id);
  if (!resolved.ok()) return std::move(resolved).error();
  return get_of_kind(store, *resolved, kind);
}

int report_created(CliContext& ctx, const Store& store, std::string_view kind,
                   const std::vector<std::string>& ids) {
  if (ids.empty()) return ctx.ok(Json::object(), "");
  Json doc = ids.size() == 1 ? Json{{"id", ids.front()}} : Json{{"ids", ids}};
  auto created = store.get(ids.front());
  if (created.ok()) note_consent(ctx, store, kind, created->fields, doc);
  std::string human;
  for (const std::string& id : ids) human += id + "\n";
  return ctx.ok(doc, human);
}

int create_record(CliContext& ctx, std::string_view kind_name, const Assignments& fields,
                  std::string_view id) {
  auto kind = lookup_kind(kind_name);
  if (!kind.ok()) return ctx.fail(kind.error());
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
  auto values = parse_assignments(**store, ctx.zone(), **kind, fields, true);
  if (!values.ok()) return fail_parse(ctx, values.error());
  auto created = (*store)->create(kind_name, *values, id);
  if (!created.ok()) return ctx.fail(created.error());
  Json doc = {{"id", *created}};
  note_consent(ctx, **store, kind_name, *values, doc);
  return ctx.ok(doc, *created);
}

int update_record(CliContext& ctx, std::string_view id, std::string_view kind_name,
                  const Assignments& fields) {
  if (fields.empty()) return ctx.usage("nothing to update: give at least one field");
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
  auto record = fetch_record(**store, id, kind_name);
  if (!record.ok()) return ctx.fail(record.error());
  auto kind = lookup_kind(record->kind);
  if (!kind.ok()) return ctx.fail(kind.error());
  auto values = parse_assignments(**store, ctx.zone(), **kind, fields, false);
  if (!values.ok()) return fail_parse(ctx, values.error());
  Status written = (*store)->transaction([&]() -> Status {
    for (const auto& [name, value] : values->items()) {
      TANDEM_TRY(write_value(**store, *record, *(*kind)->field(name), value));
    }
    return {};
  });
  if (!written.ok()) return ctx.fail(written.error());
  Json doc = {{"id", record->id}};
  // Moving a note to another child or forum is judged like a new one.
  if (values->contains("child") || values->contains("session") || values->contains("meeting")) {
    auto updated = (*store)->get(record->id);
    if (updated.ok()) note_consent(ctx, **store, updated->kind, updated->fields, doc);
  }
  return ctx.ok(doc, "Opdateret " + record->id);
}

int change_set_element(CliContext& ctx, std::string_view id, std::string_view field_name,
                       std::string_view element, bool add) {
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
  auto record = fetch_record(**store, id, {});
  if (!record.ok()) return ctx.fail(record.error());
  auto kind = lookup_kind(record->kind);
  if (!kind.ok()) return ctx.fail(kind.error());
  auto field = lookup_field(**kind, field_name);
  if (!field.ok()) return ctx.fail(field.error());
  auto resolved = resolve_refs(**store, **field, std::string(element));
  if (!resolved.ok()) return ctx.fail(resolved.error());
  auto value = parse_element_text(**field, *resolved);
  if (!value.ok()) return ctx.fail(value.error());
  Status done = add ? (*store)->add(record->id, field_name, *value)
                    : (*store)->remove(record->id, field_name, *value);
  if (!done.ok()) return ctx.fail(done.error());
  return ctx.ok(Json{{"id", record->id}},
                std::string(add ? "Tilføjet til " : "Fjernet fra ") + record->id);
}

namespace {
// Records of a school kept local when the tablet joined its school
// (enroll --local-records keep) stay on this tablet only: say so.
void mark_local_school(const Store& store, const Record& r, Json& doc, std::string& human,
                       bool own_line) {
  if (r.school.empty() || !store.is_local_only(r.school)) return;
  doc["local_school"] = true;
  if (own_line && !human.empty() && human.back() != '\n') human += '\n';
  human += own_line ? "lokal skole: kun på denne tablet (sendes ikke)"
                    : " [lokal skole: kun på denne tablet]";
}

// Text fields merged from overlapping concurrent edits (core: merged_texts):
// "merge_notices" in JSON (English message), a Danish line each on screen.
void describe_merges(const Store& store, const Record& record, Json& doc, std::string& human) {
  auto self = store.meta(sync::kMetaPersonName);  // the person this device is enrolled for
  const std::string me = self.ok() && *self ? **self : std::string();
  Json notices = Json::array();
  for (const MergedText& m : merged_texts(store, record, me)) {
    Json by = Json::array();
    for (const MergeAuthor& a : m.by) {
      by.push_back(Json{{"site", a.site},
                        {"name", a.name.empty() ? Json(nullptr) : Json(a.name)},
                        {"this_device", a.this_device}});
    }
    notices.push_back(
        Json{{"field", m.field}, {"by", std::move(by)}, {"message", merge_notice(m, false)}});
    human += "  ! " + m.field + ": " + merge_notice(m, true) +
             " (ret teksten, eller bekræft den: tandem text " + record.id + " " + m.field +
             " --confirm)\n";
  }
  doc["merge_notices"] = std::move(notices);
}

}  // namespace

int show_record(CliContext& ctx, std::string_view id, std::string_view kind) {
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
  auto record = fetch_record(**store, id, kind);
  if (!record.ok()) return ctx.fail(record.error());
  Json doc = record->to_json();
  const ShownValues shown = shown_values(*record, **store, ctx.zone());
  if (record->live()) {
    doc["names"] = shown.names;
    doc["local"] = shown.local;
  }
  std::string human = format_record(*record, shown, ctx.zone());
  if (!record->merged.empty()) describe_merges(**store, *record, doc, human);
  mark_local_school(**store, *record, doc, human, true);
  Status consent = describe_consent(**store, *record, consent_day(ctx), doc, human, false);
  if (!consent.ok()) return ctx.fail(consent.error());
  return ctx.ok(doc, human);
}

int delete_record(CliContext& ctx, std::string_view id, std::string_view kind) {
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
  std::string target(id);
  if (!kind.empty()) {
    auto record = fetch_record(**store, id, kind);
    if (!record.ok()) return ctx.fail(record.error());
    target = record->id;
  }
  Status done = (*store)->delete_record(target);
  if (!done.ok()) return ctx.fail(done.error());
  return ctx.ok(Json{{"id", target}, {"deleted", true}}, "Slettet " + target);
}

int purge_record(CliContext& ctx, std::string_view id, std::string_view kind) {
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
  std::string target(id);
  if (!kind.empty()) {
    auto record = fetch_record(**store, id, kind);
    if (!record.ok()) return ctx.fail(record.error());
    target = record->id;
  }
  Status done = (*store)->purge(target);
  if (!done.ok()) return ctx.fail(done.error());
  return ctx.ok(Json{{"id", target}, {"purged", true}}, "Udslettet " + target);
}

int list_records(CliContext& ctx, std::string_view kind_name, bool include_deleted) {
  auto kind = lookup_kind(kind_name);
  if (!kind.ok()) return ctx.fail(kind.error());
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
  auto records = (*store)->list(kind_name, include_deleted);
  if (!records.ok()) return ctx.fail(records.error());
  Json doc = Json::array();
  std::string human;
  const std::string day = consent_day(ctx);
  std::map<std::string, std::string> labels;
  for (const Record& r : *records) {
    Json item = r.to_json();
    if (r.live()) {
      // As `show` gives them, so that a listed record reads like a shown one.
      ShownValues shown = shown_values(r, **store, ctx.zone(), &labels);
      item["names"] = std::move(shown.names);
      item["local"] = std::move(shown.local);
    }
    std::string line = format_record_line(r);
    mark_local_school(**store, r, item, line, false);
    Status consent = describe_consent(**store, r, day, item, line, true);
    if (!consent.ok()) return ctx.fail(consent.error());
    doc.push_back(std::move(item));
    human += line + "\n";
  }
  if (records->empty()) human = "Ingen " + std::string(kind_name) + "-poster.";
  return ctx.ok(doc, human);
}

}  // namespace tandem::cli
