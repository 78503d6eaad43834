#include "record_ops.hpp"

#include "consent_view.hpp"
#include "format.hpp"
#include "value_parse.hpp"

namespace tandem::cli {
namespace {

// Parses assignments against `kind` into a fields object.
Result<Json> parse_assignments(const KindSpec& kind, const Assignments& fields) {
  Json out = Json::object();
  for (const auto& [name, text] : fields) {
    auto field = lookup_field(kind, name);
    if (!field.ok()) return std::move(field).error();
    if (out.contains(name)) {
      return make_error(ErrorCode::kInvalidArgument, "field '" + name + "' given twice");
    }
    auto value = parse_field_text(**field, text);
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

Result<Record> fetch_record(Store& store, std::string_view id, std::string_view kind) {
  auto record = store.get(id);
  if (!record.ok()) return record;
  if (!kind.empty() && record->kind != kind) {
    return make_error(ErrorCode::kNotFound,
                      "no " + std::string(kind) + " with id '" + std::string(id) + "'");
  }
  return record;
}

int create_record(CliContext& ctx, std::string_view kind_name, const Assignments& fields,
                  std::string_view id) {
  auto kind = lookup_kind(kind_name);
  if (!kind.ok()) return ctx.fail(kind.error());
  auto values = parse_assignments(**kind, fields);
  if (!values.ok()) return fail_parse(ctx, values.error());
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
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
  auto values = parse_assignments(**kind, fields);
  if (!values.ok()) return fail_parse(ctx, values.error());
  Status written = (*store)->transaction([&]() -> Status {
    for (const auto& [name, value] : values->items()) {
      TANDEM_TRY(write_field(**store, *record, *(*kind)->field(name), value));
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
  auto value = parse_element_text(**field, element);
  if (!value.ok()) return ctx.fail(value.error());
  Status done = add ? (*store)->add(record->id, field_name, *value)
                    : (*store)->remove(record->id, field_name, *value);
  if (!done.ok()) return ctx.fail(done.error());
  return ctx.ok(Json{{"id", record->id}},
                std::string(add ? "Tilføjet til " : "Fjernet fra ") + record->id);
}

int show_record(CliContext& ctx, std::string_view id, std::string_view kind) {
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
  auto record = fetch_record(**store, id, kind);
  if (!record.ok()) return ctx.fail(record.error());
  Json doc = record->to_json();
  std::string human = format_record(*record);
  Status consent = describe_consent(**store, *record, consent_day(ctx), doc, human, false);
  if (!consent.ok()) return ctx.fail(consent.error());
  return ctx.ok(doc, human);
}

int delete_record(CliContext& ctx, std::string_view id, std::string_view kind) {
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
  if (!kind.empty()) {
    auto record = fetch_record(**store, id, kind);
    if (!record.ok()) return ctx.fail(record.error());
  }
  Status done = (*store)->delete_record(id);
  if (!done.ok()) return ctx.fail(done.error());
  return ctx.ok(Json{{"id", id}, {"deleted", true}}, "Slettet " + std::string(id));
}

int purge_record(CliContext& ctx, std::string_view id, std::string_view kind) {
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
  if (!kind.empty()) {
    auto record = fetch_record(**store, id, kind);
    if (!record.ok()) return ctx.fail(record.error());
  }
  Status done = (*store)->purge(id);
  if (!done.ok()) return ctx.fail(done.error());
  return ctx.ok(Json{{"id", id}, {"purged", true}}, "Udslettet " + std::string(id));
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
  for (const Record& r : *records) {
    Json item = r.to_json();
    std::string line = format_record_line(r);
    Status consent = describe_consent(**store, r, day, item, line, true);
    if (!consent.ok()) return ctx.fail(consent.error());
    doc.push_back(std::move(item));
    human += line + "\n";
  }
  if (records->empty()) human = "Ingen " + std::string(kind_name) + "-poster.";
  return ctx.ok(doc, human);
}

}  // namespace tandem::cli
