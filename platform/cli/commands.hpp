// The command groups of the `tandem` CLI.
//
// Each group lives in its own file (cmd_<group>.cpp) and adds its subcommands
// to the app with one register_<group>_commands(CLI::App&, CliContext&)
// function. A subcommand's callback does the work and records its exit code
// with ctx.ok()/ctx.fail()/ctx.usage() (see cli_context.hpp); callbacks run
// after the whole command line parsed, so --json and --db may appear anywhere.
//
// Adding a group: write cmd_<group>.cpp defining its register function. The
// groups below marked "optional" are declared weak: main() calls them when a
// file defines them and skips them otherwise, so a group can land without
// touching main.cpp. (Add new optional hooks here and to kGroups in main.cpp.)
#pragma once

#include <CLI/CLI.hpp>

#include "cli_context.hpp"

namespace tandem::cli {

// cmd_init.cpp: init.
void register_init_commands(CLI::App& app, CliContext& ctx);
// cmd_records.cpp: generic new/set/add/remove/show/delete/purge/list/dump.
void register_record_commands(CLI::App& app, CliContext& ctx);
// cmd_entities.cpp: `<kind> create|list|show|update|delete|purge` for every kind.
void register_entity_commands(CLI::App& app, CliContext& ctx);
// cmd_entries.cpp: `record SESSION --note|--code|--tick|--tally|--rating`.
void register_entry_commands(CLI::App& app, CliContext& ctx);
// cmd_summary.cpp: `summary SESSION` / `summary --course COURSE`.
void register_summary_commands(CLI::App& app, CliContext& ctx);

// cmd_overview.cpp: open actions (`action list --overdue|--mine|--person`).
int list_open_actions(CliContext& ctx, bool overdue, bool mine, const std::string& person);

// ---- optional groups (weak: defined by their own files when present) ----
// cmd_sync.cpp: enroll, sync.
[[gnu::weak]] void register_sync_commands(CLI::App& app, CliContext& ctx);
// cmd_changes.cpp: changes export/import.
[[gnu::weak]] void register_changes_commands(CLI::App& app, CliContext& ctx);
// cmd_resolve.cpp: resolve (field conflicts).
[[gnu::weak]] void register_resolve_commands(CLI::App& app, CliContext& ctx);
// cmd_overview.cpp: conflicts, tree (what hangs under a course or meeting).
[[gnu::weak]] void register_overview_commands(CLI::App& app, CliContext& ctx);
// cmd_text.cpp: text (insert/delete in long text fields).
[[gnu::weak]] void register_text_commands(CLI::App& app, CliContext& ctx);
// cmd_security.cpp: key status/rotate, debug scan.
[[gnu::weak]] void register_security_commands(CLI::App& app, CliContext& ctx);
// cmd_gorp.cpp: import gorp, export gorp.
[[gnu::weak]] void register_gorp_commands(CLI::App& app, CliContext& ctx);
// cmd_agreement.cpp: agreement (two observers of one lesson).
[[gnu::weak]] void register_agreement_commands(CLI::App& app, CliContext& ctx);

}  // namespace tandem::cli
