// tandem — the command-line client: a headless tablet with a local database.
//
//   tandem --db FILE [--json] <command> ...
//
// main() only builds the app from the command groups (commands.hpp), parses,
// and turns parse failures and escaped exceptions into the CLI's error
// contract (cli_context.hpp): exit 2 + invalid_argument for usage errors,
// exit 1 + internal for anything unexpected.
#include <cstring>
#include <exception>
#include <iostream>

#include "commands.hpp"

namespace {

using tandem::cli::CliContext;
using RegisterFn = void (*)(CLI::App&, CliContext&);

// Help lists the groups in this order. Weak (optional) hooks are null until
// a file defines them.
const RegisterFn kGroups[] = {
    tandem::cli::register_init_commands,    tandem::cli::register_record_commands,
    tandem::cli::register_entry_commands,   tandem::cli::register_summary_commands,
    tandem::cli::register_changes_commands, tandem::cli::register_resolve_commands,
    tandem::cli::register_text_commands,    tandem::cli::register_sync_commands,
    tandem::cli::register_entity_commands,  tandem::cli::register_overview_commands,
    tandem::cli::register_security_commands, tandem::cli::register_gorp_commands,
    tandem::cli::register_agreement_commands,
};

bool argv_has_json(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) break;
    if (std::strcmp(argv[i], "--json") == 0) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  CliContext ctx;
  CLI::App app{
      "Tandem: notesbog for ressourcecentret (offline-first).\n"
      "Every command prints JSON with --json.",
      "tandem"};
  app.add_option("--db", ctx.db_path, "Database file (env TANDEM_DB)")
      ->envname("TANDEM_DB")
      ->required();
  app.add_flag("--json", ctx.json, "Print machine-readable JSON only (errors too)");
  app.add_option("--tz", ctx.tz,
                 "Time zone of times typed and shown (stored as UTC; env TANDEM_TZ)")
      ->envname("TANDEM_TZ")
      ->check(CLI::IsMember(
          {std::string(tandem::utc_zone().name()), std::string(tandem::copenhagen_zone().name())}))
      ->capture_default_str();
  app.require_subcommand(1);
  app.fallthrough();  // subcommands inherit it: --db/--json may follow the command
  for (RegisterFn fn : kGroups) {
    if (fn != nullptr) fn(app, ctx);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    ctx.json = ctx.json || argv_has_json(argc, argv);
    return ctx.usage(e.what());
  } catch (const std::exception& e) {
    return ctx.fail(tandem::make_error(tandem::ErrorCode::kInternal,
                                       std::string("unexpected failure: ") + e.what()));
  }
  return ctx.exit_code;
}
