// Per-kind commands, generated from the schema table so that every kind has
// the same verbs and every field one option:
//   <kind> create [--FIELD VALUE ...]      <kind> list [--all]
//   <kind> show ID                         <kind> update ID --FIELD VALUE ...
//   <kind> delete ID                       <kind> purge ID
// e.g. `course create --kind co_teaching --title "3.a dansk" --target group
//       --focus classroom_management,relations --tovholder person_...`.
// Field options accept '-' for '_' (--focus-areas). Set fields take a comma
// list and may be repeated; `update` replaces the set by adding and removing
// the difference. Values are parsed and checked by value_parse.hpp.
#include <map>

#include "commands.hpp"
#include "record_ops.hpp"
#include "tandem/core/schema.hpp"

namespace tandem::cli {
namespace {

struct EntityOptions {
  std::string id;
  bool all = false;
  bool overdue = false, mine = false;  // action list
  std::string person;                  // action list --person
  // field name -> every value given for it (sets may be repeated).
  std::map<std::string, std::vector<std::string>> values;
};

std::string describe(const FieldSpec& f) {
  std::string d(field_type_name(f.type));
  if (!f.ref_kind.empty()) d += " -> " + f.ref_kind;
  if (!f.values.empty()) {
    d += ": ";
    for (std::size_t i = 0; i < f.values.size(); ++i) d += (i ? "|" : "") + f.values[i];
    if (f.open_vocabulary) d += "|...";
  }
  if (f.is_set()) d += " (comma-separated)";
  if (f.type == FieldType::kDate) d += " (YYYY-MM-DD)";
  if (f.type == FieldType::kDateTime) d += " (ISO 8601)";
  if (f.required) d += " [required]";
  return d;
}

// Short spellings people use (`--focus` for focus_areas); only added when the
// kind has no field of that name.
const std::pair<const char*, const char*> kShortNames[] = {{"focus_areas", "focus"}};

void add_field_options(CLI::App* cmd, const KindSpec& kind, EntityOptions& o) {
  for (const FieldSpec& f : kind.fields) {
    std::string names = "--" + f.name;
    std::string dashed = f.name;
    for (char& c : dashed) c = c == '_' ? '-' : c;
    if (dashed != f.name) names += ",--" + dashed;
    for (const auto& [field, short_name] : kShortNames) {
      if (f.name == field && kind.field(short_name) == nullptr)
        names += std::string(",--") + short_name;
    }
    cmd->add_option(names, o.values[f.name], describe(f))
        ->expected(1)
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  }
}

// Collected option values as assignments; a scalar field given twice is a
// usage error (false + message).
bool collect(const KindSpec& kind, const EntityOptions& o, Assignments& out, std::string& why) {
  for (const FieldSpec& f : kind.fields) {
    const auto it = o.values.find(f.name);
    if (it == o.values.end() || it->second.empty()) continue;
    if (!f.is_set() && it->second.size() > 1) {
      why = "--" + f.name + " given more than once";
      return false;
    }
    std::string joined;
    for (const std::string& v : it->second) joined += (joined.empty() ? "" : ",") + v;
    out.emplace_back(f.name, f.is_set() ? joined : it->second.front());
  }
  return true;
}

void register_kind(CLI::App& app, CliContext& ctx, const KindSpec& kind) {
  const auto o = std::make_shared<EntityOptions>();
  const std::string& k = kind.name;
  CLI::App* group = app.add_subcommand(k, "Create, list, show, update, delete " + k + " records");
  std::string dashed = k;
  for (char& c : dashed) c = c == '_' ? '-' : c;
  if (dashed != k) group->alias(dashed);
  group->require_subcommand(1);

  CLI::App* cmd = group->add_subcommand("create", "Create a " + k);
  add_field_options(cmd, kind, *o);
  cmd->callback([&ctx, &kind, o] {
    Assignments fields;
    std::string why;
    if (!collect(kind, *o, fields, why)) {
      ctx.usage(why);
      return;
    }
    create_record(ctx, kind.name, fields);
  });

  cmd = group->add_subcommand("list", "List " + k + " records");
  cmd->add_flag("--all", o->all, "Include deleted and purged records");
  if (k == "action") {
    cmd->add_flag("--overdue", o->overdue, "Only open actions due before today (local date, --tz)");
    cmd->add_flag("--mine", o->mine, "Only open actions of this device's person (tovholder)");
    cmd->add_option("--person", o->person,
                    "Only open actions of this person (name, initials or id)");
  }
  cmd->callback([&ctx, &kind, o] {
    if (o->overdue || o->mine || !o->person.empty()) {
      if (o->all) {
        ctx.usage("--all lists every record; it does not go with --overdue, --mine or --person");
        return;
      }
      list_open_actions(ctx, o->overdue, o->mine, o->person);
      return;
    }
    list_records(ctx, kind.name, o->all);
  });

  cmd = group->add_subcommand("show", "Show a " + k);
  cmd->add_option("id", o->id)->required();
  cmd->callback([&ctx, &kind, o] { show_record(ctx, o->id, kind.name); });

  // Its own option storage: create's and update's field options must not share vectors.
  const auto u = std::make_shared<EntityOptions>();
  cmd = group->add_subcommand("update", "Change fields of a " + k);
  cmd->add_option("id", u->id)->required();
  add_field_options(cmd, kind, *u);
  cmd->callback([&ctx, &kind, u] {
    Assignments fields;
    std::string why;
    if (!collect(kind, *u, fields, why)) {
      ctx.usage(why);
      return;
    }
    update_record(ctx, u->id, kind.name, fields);
  });

  cmd = group->add_subcommand("delete", "Delete a " + k);
  cmd->add_option("id", o->id)->required();
  cmd->callback([&ctx, &kind, o] { delete_record(ctx, o->id, kind.name); });

  cmd = group->add_subcommand("purge", "Erase a " + k + " everywhere (GDPR)");
  cmd->add_option("id", o->id)->required();
  cmd->callback([&ctx, &kind, o] { purge_record(ctx, o->id, kind.name); });
}

}  // namespace

void register_entity_commands(CLI::App& app, CliContext& ctx) {
  for (const KindSpec& kind : schema()) register_kind(app, ctx, kind);
}

}  // namespace tandem::cli
