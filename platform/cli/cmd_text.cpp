// `text ID FIELD --insert POS TEXT | --delete POS LEN | --confirm`: edit a
// long text field (lesson log, notes, reflections, minutes) at code-point
// positions. Edits merge character by character with other tablets'
// concurrent edits. Where two tablets rewrote the same words, `show` says
// the text was merged from their edits until someone edits the field again
// or confirms it as it reads (--confirm), on any tablet.
#include "commands.hpp"

namespace tandem::cli {
namespace {

struct TextOptions {
  std::string id, field;
  std::vector<std::string> insert;  // POS TEXT
  std::vector<std::size_t> del;     // POS LEN
  bool confirm = false;
};

int run_text(CliContext& ctx, const TextOptions& o) {
  if (!o.insert.empty() + !o.del.empty() + o.confirm != 1)
    return ctx.usage("give exactly one of --insert POS TEXT, --delete POS LEN or --confirm");
  auto store = ctx.store();
  if (!store) return ctx.fail(store.error());
  Status st;
  if (o.confirm) {
    st = (*store)->text_confirm(o.id, o.field);
    if (!st) return ctx.fail(st.error());
    return ctx.ok(
        Json{{"id", o.id}, {"field", o.field}, {"confirmed", true}},
        "Bekræftet: " + o.field + " i " + o.id + " er ikke længere markeret som flettet.");
  }
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
  cmd->add_flag("--confirm", o->confirm,
                "Confirm a text merged from overlapping concurrent edits as it reads");
  cmd->callback([&ctx, o] { run_text(ctx, *o); });
}

}  // namespace tandem::cli
