// `tandem key status|rotate` and `tandem debug scan TEXT`: encryption at rest
// as the user and an auditor see it (core/include/tandem/core/encryption.hpp).
#include "commands.hpp"

namespace tandem::cli {
namespace {

std::string format_name(DatabaseFormat f) {
  switch (f) {
    case DatabaseFormat::kMissing: return "missing";
    case DatabaseFormat::kEmpty: return "empty";
    case DatabaseFormat::kPlain: return "plain";
    case DatabaseFormat::kEncrypted: return "encrypted";
    case DatabaseFormat::kUnknown: return "unknown";
  }
  return "unknown";
}

int key_status(CliContext& ctx) {
  if (ctx.db_path.empty()) return ctx.usage("no database given: use --db FILE or TANDEM_DB");
  auto info = inspect_database(ctx.db_path);
  if (!info) return ctx.fail(info.error());
  Json doc = {{"format", format_name(info->format)}};
  std::string human;
  if (info->format == DatabaseFormat::kEncrypted) {
    doc["key"] = info->key_name;
    human = "krypteret (nøgle " + info->key_name + ")";
  } else {
    human = info->format == DatabaseFormat::kPlain ? "ikke krypteret" : "ingen database (" + format_name(info->format) + ")";
  }
  return ctx.ok(doc, human);
}

int key_rotate(CliContext& ctx) {
  if (ctx.db_path.empty()) return ctx.usage("no database given: use --db FILE or TANDEM_DB");
  auto host = ctx.host();
  if (!host) return ctx.fail(host.error());
  if (Status s = rotate_database_key(ctx.db_path, *host); !s.ok()) return ctx.fail(s.error());
  auto info = inspect_database(ctx.db_path);
  if (!info) return ctx.fail(info.error());
  return ctx.ok(Json{{"rotated", true}, {"key", info->key_name}}, "ny nøgle: " + info->key_name);
}

int debug_scan(CliContext& ctx, const std::string& text) {
  if (ctx.db_path.empty()) return ctx.usage("no database given: use --db FILE or TANDEM_DB");
  auto host = ctx.host();
  if (!host) return ctx.fail(host.error());
  auto scan = scan_database(ctx.db_path, *host, text);
  if (!scan) return ctx.fail(scan.error());
  Json doc = {{"hits", scan->hits}};
  if (scan->tampered_pages > 0) doc["tampered_pages"] = scan->tampered_pages;
  std::string human = std::to_string(scan->hits) + " forekomster";
  if (scan->tampered_pages > 0) human += " (" + std::to_string(scan->tampered_pages) + " sider fejlede kontrollen)";
  return ctx.ok(doc, human);
}

}  // namespace

void register_security_commands(CLI::App& app, CliContext& ctx) {
  CLI::App* key = app.add_subcommand("key", "The database's encryption key");
  key->require_subcommand(1);
  key->add_subcommand("status", "Is the database encrypted, and under which key entry")->callback([&ctx] {
    key_status(ctx);
  });
  key->add_subcommand("rotate", "Re-encrypt the database under a new key (the old key is erased)")
      ->callback([&ctx] { key_rotate(ctx); });

  CLI::App* debug = app.add_subcommand("debug", "Diagnostics for audits and tests");
  debug->require_subcommand(1);
  auto text = std::make_shared<std::string>();
  CLI::App* scan = debug->add_subcommand(
      "scan", "Count TEXT in the database's files, decrypted (pages in use and free, WAL, journal)");
  scan->add_option("text", *text, "The text to look for")->required();
  scan->callback([&ctx, text] { debug_scan(ctx, *text); });
}

}  // namespace tandem::cli
