// `text ID FIELD --insert POS TEXT | --delete POS LEN`: edit a long text field
// (lesson log, notes, reflections, minutes) at code-point positions. Edits
// merge character by character with other tablets' concurrent edits.
#include "commands.hpp"

namespace tandem::cli {
namespace {

struct TextOptions {
  std::string id, field;
  std::vector<std::string> insert;  // POS TEXT
  std::vector<std::size_t> del;     // POS LEN
};

int run_text(CliContext& ctx, const TextOptions& o) {
  if (o.insert.empty() == o.del.empty())
    return ctx.usage("give exactly one of --insert POS TEXT or --delete POS LEN");
  auto store = ctx.store();
  if (!store) return ctx.fail(store.error());
  Status st;
  if (!o.insert.empty()) {
    std::size_t pos = 0;
    try {
      std::size_t used = 0;
      pos = std::stoul(o.insert[0], &used);
      if (used != o.insert[0].size()) throw std::invalid_argument("pos");
    } catch (const std::exception&) {
      return ctx.usage("POS must be a non-negative integer (code points)");
    }
    st = (*store)->text_insert(o.id, o.field, pos, o.insert[1]);
  } else {
    st = (*store)->text_delete(o.id, o.field, o.del[0], o.del[1]);
  }
  if (!st) return ctx.fail(st.error());
  auto rec = (*store)->get(o.id);
  if (!rec) return ctx.fail(rec.error());
  const Json text = rec->fields.value(o.field, Json(""));
  return ctx.ok(Json{{"id", o.id}, {"field", o.field}, {"text", text}}, text.get<std::string>());
}

}  // namespace

void register_text_commands(CLI::App& app, CliContext& ctx) {
  const auto o = std::make_shared<TextOptions>();
  CLI::App* cmd = app.add_subcommand("text", "Edit a long text field at code-point positions");
  cmd->add_option("id", o->id, "Record id")->required();
  cmd->add_option("field", o->field, "Text field (log, text, goals, minutes, ...)")->required();
  cmd->add_option("--insert", o->insert, "POS TEXT: insert TEXT before code point POS")
      ->expected(2);
  cmd->add_option("--delete", o->del, "POS LEN: delete LEN code points from POS")->expected(2);
  cmd->callback([&ctx, o] { run_text(ctx, *o); });
}

}  // namespace tandem::cli
