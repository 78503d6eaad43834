// What needs attention, from core's queries (tandem/core/notebook.hpp):
//   action list --overdue | --mine | --person NAME   open actions (due dates
//                                           compare with today's local date)
//   conflicts                               open conflicts: record, field, the
//                                           losing value, its device and time
//   tree ID|NAME [--kind course|meeting]    a course or meeting with what
//                                           hangs under it
// Times are shown in the --tz zone; --json carries UTC and the local text.
#include "commands.hpp"
#include "format.hpp"
#include "record_ops.hpp"
#include "tandem/core/notebook.hpp"
#include "tandem/core/session_summary.hpp"
#include "tandem/sync/engine.hpp"

namespace tandem::cli {
namespace {

// Name of a referenced record for display ("" when unknown).
std::string name_of(const Store& store, const std::string& id) {
  if (id.empty()) return "";
  auto r = store.get(id);
  return r.ok() && r->live() ? record_label(*r) : id;
}

int run_conflicts(CliContext& ctx) {
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
  auto open = open_conflicts(**store);
  if (!open.ok()) return ctx.fail(open.error());
  auto person = (*store)->meta(sync::kMetaPersonId);
  const std::string me = person.ok() && *person ? name_of(**store, **person) : "";
  Json doc = Json::array();
  std::string human;
  for (const OpenConflict& c : *open) {
    const std::string when = format_local(c.at_ms, ctx.zone());
    Json item = {{"record", c.record},
                 {"kind", c.kind},
                 {"field", c.field},
                 {"label", c.label},
                 {"current", c.current},
                 {"value", c.value},
                 {"hlc", c.hlc},
                 {"at", format_datetime_ms(c.at_ms)},
                 {"at_local", when},
                 {"site", c.site},
                 {"this_device", c.this_device}};
    std::string who = "enhed " + c.site;
    if (c.this_device) {
      who = me.empty() ? "denne enhed" : me + " (denne enhed)";
      if (!me.empty()) item["person"] = me;
    }
    doc.push_back(std::move(item));
    human += c.label + " (" + c.record + ") " + c.field + ": " + format_value(c.current) + " / " +
             format_value(c.value) + "  — " + who + ", " + when + "  [" + c.hlc + "]\n";
  }
  if (open->empty()) human = "Ingen åbne konflikter.";
  return ctx.ok(doc, human);
}

Json tree_json(const Store& store, const RecordTree& t, const TimeZone& zone, std::string& human,
               int depth) {
  const std::string indent(static_cast<std::size_t>(depth) * 2, ' ');
  Json j = {{"id", t.record.id}, {"kind", t.record.kind}, {"label", record_label(t.record)}};
  std::string line = indent + t.record.kind + " " + t.record.id;
  if (const auto label = record_label(t.record); label != t.record.id) line += "  " + label;
  if (t.record.kind == "session") {
    const auto started = time_field(t.record.fields, "started_at");
    if (started) {
      j["started_at_local"] = format_local(*started, zone);
      line += "  " + format_local(*started, zone);
    }
    j["entries"] = t.entries;
    line += "  (" + std::to_string(t.entries) + " registreringer)";
  }
  human += line + "\n";
  Json children = Json::array();
  for (const RecordTree& c : t.children)
    children.push_back(tree_json(store, c, zone, human, depth + 1));
  j["children"] = std::move(children);
  Json actions = Json::array();
  for (const Record& a : t.actions) {
    actions.push_back({{"id", a.id},
                       {"text", string_field(a.fields, "text")},
                       {"due", string_field(a.fields, "due")}});
    human += indent + "  handling " + a.id + "  " + string_field(a.fields, "text") + "\n";
  }
  j["actions"] = std::move(actions);
  return j;
}

int run_tree(CliContext& ctx, const std::string& id, const std::string& kind) {
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
  auto target = resolve_id(**store, kind, id);
  if (!target.ok()) return ctx.fail(target.error());
  auto tree = record_tree(**store, *target);
  if (!tree.ok()) return ctx.fail(tree.error());
  std::string human;
  Json doc = tree_json(**store, *tree, ctx.zone(), human, 0);
  return ctx.ok(doc, human);
}

}  // namespace

int list_open_actions(CliContext& ctx, bool overdue, bool mine, const std::string& person) {
  if (mine && !person.empty()) return ctx.usage("give --mine or --person, not both");
  auto store = ctx.store();
  if (!store.ok()) return ctx.fail(store.error());
  ActionQuery q;
  q.overdue_only = overdue;
  q.today = local_date(ctx.now_ms(), ctx.zone());
  if (mine) {
    auto me = (*store)->meta(sync::kMetaPersonId);
    if (!me.ok()) return ctx.fail(me.error());
    if (!*me || (*me)->empty()) {
      return ctx.fail(make_error(
          ErrorCode::kNotFound, "this device has no person yet (enroll it, or use --person NAME)"));
    }
    q.person = **me;
  } else if (!person.empty()) {
    auto id = resolve_id(**store, "person", person);
    if (!id.ok()) return ctx.fail(id.error());
    q.person = *id;
  }
  auto actions = open_actions(**store, q);
  if (!actions.ok()) return ctx.fail(actions.error());
  Json doc = Json::array();
  std::string human;
  for (const OpenAction& a : *actions) {
    const std::string tovholder = string_field(a.record.fields, "tovholder");
    const std::string who = name_of(**store, tovholder);
    doc.push_back({{"id", a.record.id},
                   {"text", string_field(a.record.fields, "text")},
                   {"due", a.due.empty() ? Json() : Json(a.due)},
                   {"overdue", a.overdue},
                   {"tovholder", tovholder.empty() ? Json() : Json(tovholder)},
                   {"tovholder_name", who.empty() ? Json() : Json(who)}});
    human += a.record.id + "  " + (a.due.empty() ? std::string("(ingen frist)") : a.due) + "  " +
             string_field(a.record.fields, "text") + (who.empty() ? "" : "  [" + who + "]") +
             (a.overdue ? "  OVERSKREDET" : "") + "\n";
  }
  if (actions->empty())
    human = overdue ? "Ingen overskredne handlinger." : "Ingen åbne handlinger.";
  return ctx.ok(doc, human);
}

void register_overview_commands(CLI::App& app, CliContext& ctx) {
  CLI::App* cmd =
      app.add_subcommand("conflicts", "List open conflicts: who wrote the losing value, and when");
  cmd->callback([&ctx] { run_conflicts(ctx); });

  const auto id = std::make_shared<std::string>();
  const auto kind = std::make_shared<std::string>("course");
  cmd = app.add_subcommand("tree", "A course or meeting with what hangs under it");
  cmd->add_option("id", *id, "Course title or id (meeting: --kind meeting and its id)")->required();
  cmd->add_option("--kind", *kind, "course (default) or meeting")
      ->check(CLI::IsMember({"course", "meeting", "session"}));
  cmd->callback([&ctx, id, kind] { run_tree(ctx, *id, *kind); });
}

}  // namespace tandem::cli
