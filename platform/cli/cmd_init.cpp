// `tandem init [--school-name NAME]`: create (or open) the database and
// optionally the school that new records belong to by default.
#include "commands.hpp"
#include "value_parse.hpp"

namespace tandem::cli {
namespace {

struct InitOptions {
  std::string school_name;
};

int run_init(CliContext& ctx, const InitOptions& o) {
  auto store = ctx.store(/*create_if_missing=*/true);
  if (!store.ok()) return ctx.fail(store.error());
  Store& s = **store;
  if (!o.school_name.empty()) {
    if (!s.default_school().empty()) {
      return ctx.fail(
          make_error(ErrorCode::kAlreadyExists,
                     "the database already has a default school (" + s.default_school() + ")"));
    }
    auto kind = lookup_kind("school");
    if (!kind.ok()) return ctx.fail(kind.error());
    auto field = lookup_field(**kind, "name");
    if (!field.ok()) return ctx.fail(field.error());
    auto name = parse_field_text(**field, o.school_name);
    if (!name.ok()) return ctx.fail(name.error());
    auto school = s.create("school", Json{{"name", *name}});
    if (!school.ok()) return ctx.fail(school.error());
    Status made_default = s.set_default_school(*school);
    if (!made_default.ok()) return ctx.fail(made_default.error());
  }
  const std::string school = s.default_school();
  Json doc = {{"db", ctx.db_path},
              {"site_id", s.site_id()},
              {"schema_version", s.schema_version()},
              {"school", school.empty() ? Json(nullptr) : Json(school)}};
  // The site id alone on the first line, so `$(tandem --db F init | head -1)` works.
  std::string human = s.site_id() + "\n";
  if (!school.empty()) human += "skole: " + school + "\n";
  return ctx.ok(doc, human);
}

}  // namespace

void register_init_commands(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<InitOptions>();
  CLI::App* init = app.add_subcommand("init", "Create the database (prints the site id)");
  init->add_option("--school-name", o->school_name,
                   "Also create this school and make it the default school (a tablet used "
                   "offline; `enroll --local-records move|keep` joins it to its real school later)");
  init->callback([&ctx, o] { run_init(ctx, *o); });
}

}  // namespace tandem::cli
