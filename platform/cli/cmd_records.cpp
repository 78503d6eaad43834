// Generic record commands, driven by the schema: any kind, any field.
//   new KIND [FIELD=VALUE ...] [--id ID]   set ID FIELD VALUE|--from-file F
//   add ID FIELD ELEMENT   remove ID FIELD ELEMENT
//   show ID   delete ID   purge ID   list KIND [--all]   dump
// Field names are those `show --json` prints; values are parsed by type
// (value_parse.hpp).
#include <fstream>
#include <iostream>
#include <iterator>

#include "commands.hpp"
#include "record_ops.hpp"
#include "value_parse.hpp"

namespace tandem::cli {
namespace {

struct GenericOptions {
  std::string kind;
  std::string from_file;
  std::string id;
  std::string field;
  std::string value;
  std::vector<std::string> assignments;
  bool all = false;
};

int run_new(CliContext& ctx, const GenericOptions& o) {
  Assignments fields;
  for (const std::string& item : o.assignments) {
    std::string name;
    std::string value;
    if (!split_assignment(item, name, value)) {
      return ctx.usage("expected FIELD=VALUE, got '" + item + "'");
    }
    fields.emplace_back(std::move(name), std::move(value));
  }
  return create_record(ctx, o.kind, fields, o.id);
}

// `set ID FIELD VALUE` or `set ID FIELD --from-file FILE|-` (long text that
// does not fit an argument; "-" is stdin). The file's bytes are the value.
int run_set(CliContext& ctx, const GenericOptions& o, bool value_given) {
  if (value_given == !o.from_file.empty()) return ctx.usage("give either VALUE or --from-file");
  if (value_given) return update_record(ctx, o.id, {}, {{o.field, o.value}});
  std::string value;
  if (o.from_file == "-") {
    value.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(o.from_file, std::ios::binary);
    if (!in) return ctx.fail(make_error(ErrorCode::kIo, "cannot read '" + o.from_file + "'"));
    value.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) return ctx.fail(make_error(ErrorCode::kIo, "cannot read '" + o.from_file + "'"));
  }
  return update_record(ctx, o.id, {}, {{o.field, value}});
}

int run_dump(CliContext& ctx) {
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
  auto dump = (*store)->canonical_dump();
  if (!dump.ok()) return ctx.fail(dump.error());
  // Printed exactly: two converged replicas give byte-identical output.
  ctx.write_raw(*dump);
  ctx.exit_code = kExitOk;
  return kExitOk;
}

}  // namespace

void register_record_commands(CLI::App& app, CliContext& ctx) {
  const auto o = std::make_shared<GenericOptions>();

  CLI::App* cmd = app.add_subcommand("new", "Create a record: new KIND [FIELD=VALUE ...]");
  cmd->add_option("kind", o->kind, "Record kind (course, session, entry, ...)")->required();
  cmd->add_option("fields", o->assignments,
                  "FIELD=VALUE (sets: a,b,c; json: JSON text; school=ID: a school other than "
                  "the default one)");
  cmd->add_option("--id", o->id, "Use this id instead of a random one");
  cmd->callback([&ctx, o] { run_new(ctx, *o); });

  cmd = app.add_subcommand("set", "Set a field: set ID FIELD VALUE | --from-file FILE|-");
  cmd->add_option("id", o->id)->required();
  cmd->add_option("field", o->field)->required();
  CLI::Option* value = cmd->add_option("value", o->value);
  cmd->add_option("--from-file", o->from_file, "Read the value from FILE ('-': stdin)");
  cmd->callback([&ctx, o, value] { run_set(ctx, *o, value->count() > 0); });

  cmd = app.add_subcommand("add", "Add an element to a set field: add ID FIELD ELEMENT");
  cmd->add_option("id", o->id)->required();
  cmd->add_option("field", o->field)->required();
  cmd->add_option("element", o->value)->required();
  cmd->callback([&ctx, o] { change_set_element(ctx, o->id, o->field, o->value, true); });

  cmd = app.add_subcommand("remove", "Remove an element from a set field: remove ID FIELD ELEMENT");
  cmd->add_option("id", o->id)->required();
  cmd->add_option("field", o->field)->required();
  cmd->add_option("element", o->value)->required();
  cmd->callback([&ctx, o] { change_set_element(ctx, o->id, o->field, o->value, false); });

  cmd = app.add_subcommand("show", "Show a record: show ID");
  cmd->add_option("id", o->id)->required();
  cmd->callback([&ctx, o] { show_record(ctx, o->id, {}); });

  cmd = app.add_subcommand("delete", "Delete a record (tombstone): delete ID");
  cmd->add_option("id", o->id)->required();
  cmd->callback([&ctx, o] { delete_record(ctx, o->id, {}); });

  cmd = app.add_subcommand("purge", "Erase a record's content everywhere (GDPR): purge ID");
  cmd->add_option("id", o->id)->required();
  cmd->callback([&ctx, o] { purge_record(ctx, o->id, {}); });

  cmd = app.add_subcommand("list", "List live records of a kind: list KIND");
  cmd->add_option("kind", o->kind)->required();
  cmd->add_flag("--all", o->all, "Include deleted and purged records");
  cmd->callback([&ctx, o] { list_records(ctx, o->kind, o->all); });

  cmd = app.add_subcommand("dump", "Print the canonical dump of every record (JSON)");
  cmd->callback([&ctx] { run_dump(ctx); });
}

}  // namespace tandem::cli
