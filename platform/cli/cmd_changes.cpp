// Change bundles and conflict resolution:
//   changes export --out BUNDLE [--since CURSOR]
//   changes import BUNDLE
//   resolve ID FIELD --take VALUE|current|<hlc of a conflicting value>
#include <fstream>
#include <iterator>
#include <sstream>

#include "commands.hpp"
#include "record_ops.hpp"
#include "tandem/core/bundle.hpp"
#include "tandem/core/schema.hpp"
#include "value_parse.hpp"

namespace tandem::cli {
namespace {

struct ChangesOptions {
  std::string out;
  std::string in;
  long long since = 0;
  std::string id, field, take;
};

int run_export(CliContext& ctx, const ChangesOptions& o) {
  auto store = ctx.store();
  if (!store) return ctx.fail(store.error());
  auto bundle = export_bundle(**store, o.since);
  if (!bundle) return ctx.fail(bundle.error());
  const std::string tmp = o.out + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << json_text(*bundle) << '\n';
    f.flush();
    if (!f) return ctx.fail(make_error(ErrorCode::kIo, "cannot write '" + o.out + "'"));
  }
  if (std::rename(tmp.c_str(), o.out.c_str()) != 0) {
    return ctx.fail(make_error(ErrorCode::kIo, "cannot write '" + o.out + "'"));
  }
  const auto n = (*bundle)["changes"].size();
  const auto cursor = (*bundle)["cursor"].get<long long>();
  return ctx.ok(Json{{"file", o.out}, {"changes", n}, {"cursor", cursor}},
                std::to_string(n) + " ændringer eksporteret til " + o.out + " (cursor " +
                    std::to_string(cursor) + ")");
}

int run_import(CliContext& ctx, const ChangesOptions& o) {
  std::ifstream f(o.in, std::ios::binary);
  if (!f) return ctx.fail(make_error(ErrorCode::kNotFound, "cannot read '" + o.in + "'"));
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto bundle = parse_bundle(text);
  if (!bundle) {
    return ctx.fail(make_error(ErrorCode::kInvalidJson,
                               "'" + o.in + "' is not valid JSON: " + bundle.error().message));
  }
  auto store = ctx.store();
  if (!store) return ctx.fail(store.error());
  auto report = import_bundle(**store, *bundle);
  if (!report) return ctx.fail(report.error());
  // A tablet set up from a bundle adopts the school it received, when that is unambiguous.
  if ((*store)->default_school().empty()) {
    auto schools = (*store)->list("school");
    if (schools && schools->size() == 1) (void)(*store)->set_default_school(schools->front().id);
  }
  std::ostringstream human;
  human << report->applied << " nye, " << report->duplicates << " kendte, " << report->ignored
        << " til slettede poster, " << report->rejected.size() << " afvist";
  for (const auto& r : report->rejected) {
    human << "\n  afvist " << r.hlc << ": " << error_code_name(r.error.code) << " — "
          << r.error.message;
  }
  const int rc = ctx.ok(report->to_json(), human.str());
  return rc;
}

int run_resolve(CliContext& ctx, const ChangesOptions& o) {
  auto store = ctx.store();
  if (!store) return ctx.fail(store.error());
  auto rec = (*store)->get(o.id);
  if (!rec) return ctx.fail(rec.error());
  Json value;
  bool found = false;
  if (o.take == "current") {
    value = rec->fields.value(o.field, Json());
    found = true;
  }
  for (const auto& c : rec->conflicts) {
    if (c.field == o.field && c.hlc == o.take) {
      value = c.value;
      found = true;
    }
  }
  if (!found) {
    const KindSpec* kind = find_kind(rec->kind);
    const FieldSpec* fs = kind ? kind->field(o.field) : nullptr;
    if (!fs)
      return ctx.fail(make_error(ErrorCode::kUnknownField, "unknown field '" + o.field + "'"));
    auto parsed = parse_field_text(*fs, o.take, ctx.zone());
    if (!parsed) return ctx.fail(parsed.error());
    value = std::move(*parsed);
  }
  Status st = (*store)->resolve(o.id, o.field, value);
  if (!st) return ctx.fail(st.error());
  return ctx.ok(Json{{"id", o.id}, {"field", o.field}, {"value", value}},
                "Konflikt løst: " + o.field + " = " + json_text(value));
}

}  // namespace

void register_changes_commands(CLI::App& app, CliContext& ctx) {
  const auto o = std::make_shared<ChangesOptions>();
  CLI::App* changes =
      app.add_subcommand("changes", "Exchange changes as a bundle file (sneakernet sync)");
  changes->require_subcommand(1);
  CLI::App* ex = changes->add_subcommand("export", "Write this tablet's changes to a bundle file");
  ex->add_option("--out", o->out, "Bundle file to write")->required();
  ex->add_option("--since", o->since, "Only changes after this cursor (from an earlier export)");
  ex->callback([&ctx, o] { run_export(ctx, *o); });
  CLI::App* im = changes->add_subcommand("import", "Merge the changes of a bundle file");
  im->add_option("bundle", o->in, "Bundle file to read")->required();
  im->callback([&ctx, o] { run_import(ctx, *o); });
}

void register_resolve_commands(CLI::App& app, CliContext& ctx) {
  const auto o = std::make_shared<ChangesOptions>();
  CLI::App* cmd = app.add_subcommand("resolve", "Resolve a field conflict shown by `show`");
  cmd->add_option("id", o->id, "Record id")->required();
  cmd->add_option("field", o->field, "Field with a conflict")->required();
  cmd->add_option("--take", o->take, "current | the hlc of a conflicting value | a new value")
      ->required();
  cmd->callback([&ctx, o] { run_resolve(ctx, *o); });
}

}  // namespace tandem::cli
