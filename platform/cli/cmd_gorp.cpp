// GORP files (core: tandem/core/gorp_import.hpp has every rule):
//   import gorp FILE [--course COURSE] [--date YYYY-MM-DD] [--template ID]
//   export gorp SESSION [--out FILE]
// Import creates one duration-coded observation session (and a course and a
// template unless given) in one transaction; a bad file writes nothing and
// names its bad lines. Wall-clock times are read and written in --tz
// (default Europe/Copenhagen); the first row's date is --date or today.
// Export writes CRLF CSV to --out (atomically: a temporary file renamed) or
// to stdout; with --json the document holds the CSV unless --out is given.
#include <cstdio>
#include <fstream>

#include "commands.hpp"
#include "record_ops.hpp"
#include "tandem/core/gorp_import.hpp"
#include "tandem/core/templates.hpp"

namespace tandem::cli {
namespace {

struct GorpOptions {
  std::string file, course, date, template_id;
  std::string session, out;
};

// The file, read up to one byte past the import limit (the core refuses it).
Result<std::string> read_bounded(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return make_error(ErrorCode::kNotFound, "cannot read '" + path + "'");
  std::string bytes(gorp::kMaxFileBytes + 1, '\0');
  f.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (f.bad()) return make_error(ErrorCode::kIo, "cannot read '" + path + "'");
  bytes.resize(static_cast<std::size_t>(f.gcount()));
  return bytes;
}

std::string file_name(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

int run_import(CliContext& ctx, const GorpOptions& o) {
  auto bytes = read_bounded(o.file);
  if (!bytes.ok()) return ctx.fail(bytes.error());
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
  gorp::ImportOptions in;
  in.date = o.date;
  in.name = file_name(o.file);
  in.zone = &ctx.zone();
  in.now_ms = ctx.now_ms();
  if (!o.course.empty()) {
    auto id = resolve_id(**store, "course", o.course);
    if (!id.ok()) return ctx.fail(id.error());
    in.course = *id;
  }
  in.template_id = o.template_id;
  if (!o.template_id.empty() && find_builtin_template(o.template_id) == nullptr) {
    auto id = resolve_id(**store, "template", o.template_id);
    if (!id.ok()) return ctx.fail(id.error());
    in.template_id = *id;
  }
  auto result = gorp::import_file(**store, *bytes, in);
  if (!result.ok()) return ctx.fail(result.error());
  const auto& r = *result;
  std::string human = "Importeret til session " + r.session + ": " + std::to_string(r.entries) +
                      (r.entries == 1 ? " registrering (" : " registreringer (") +
                      std::to_string(r.notes) + (r.notes == 1 ? " note), " : " noter), ") +
                      std::to_string(r.codes) + " koder\n  forløb " + r.course +
                      (r.course_created ? " (nyt)" : "") + ", skabelon " + r.template_id +
                      (r.template_created ? " (ny)" : "") + "\n  " +
                      format_local(r.started_at, ctx.zone()) + " - " +
                      format_local(r.ended_at, ctx.zone());
  return ctx.ok(r.to_json(), human);
}

int run_export(CliContext& ctx, const GorpOptions& o) {
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
  auto result = gorp::export_session(**store, o.session, ctx.zone());
  if (!result.ok()) return ctx.fail(result.error());
  Json doc = {{"session", o.session}, {"rows", result->rows}, {"skipped", result->skipped}};
  if (o.out.empty()) {
    if (ctx.json) {
      doc["csv"] = result->csv;
      return ctx.ok(doc, "");
    }
    ctx.write_raw(result->csv);
    return kExitOk;
  }
  const std::string tmp = o.out + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << result->csv;
    f.flush();
    if (!f) return ctx.fail(make_error(ErrorCode::kIo, "cannot write '" + o.out + "'"));
  }
  if (std::rename(tmp.c_str(), o.out.c_str()) != 0) {
    return ctx.fail(make_error(ErrorCode::kIo, "cannot write '" + o.out + "'"));
  }
  doc["file"] = o.out;
  std::string human = std::to_string(result->rows) + " rækker skrevet til " + o.out;
  if (result->skipped > 0) {
    human += " (" + std::to_string(result->skipped) + " markeringer, optællinger og vurderinger udeladt)";
  }
  return ctx.ok(doc, human);
}

}  // namespace

void register_gorp_commands(CLI::App& app, CliContext& ctx) {
  const auto o = std::make_shared<GorpOptions>();
  CLI::App* import = app.add_subcommand("import", "Import an observation from another tool's file");
  import->require_subcommand(1);
  CLI::App* in = import->add_subcommand(
      "gorp", "GORP CSV (Event,Time Start,Time End) as one duration-coded session");
  in->add_option("file", o->file, "GORP CSV file")->required();
  in->add_option("--course", o->course, "Course of the session (title or id; default: a new one)");
  in->add_option("--date", o->date, "Date of the first row, YYYY-MM-DD (default: today)");
  in->add_option("--template", o->template_id,
                 "Use this template (every event must be one of its codes; default: build one)");
  in->callback([&ctx, o] { run_import(ctx, *o); });

  CLI::App* exp = app.add_subcommand("export", "Export an observation as another tool's file");
  exp->require_subcommand(1);
  CLI::App* out = exp->add_subcommand("gorp", "A duration-coded session as GORP CSV (CRLF)");
  out->add_option("session", o->session, "Session id")->required();
  out->add_option("--out", o->out, "Write to this file (default: standard output)");
  out->callback([&ctx, o] { run_export(ctx, *o); });
}

}  // namespace tandem::cli
