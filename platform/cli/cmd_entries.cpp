// `tandem record SESSION ...`: recording during a session. Each call creates
// one `entry` record (entries are append-only: concurrent recording on several
// tablets never conflicts), stamped with the current time unless --at:
//   record SESSION --note TEXT
//   record SESSION --code CODE [--end ISO]          (event; with --end a duration)
//   record SESSION --tick CODE --interval N         (interval coding, 0-based)
//   record SESSION --tally CODE [--count N]         (default 1; negative undoes)
//   record SESSION --rating ITEM --value X
// common: [--at ISO] [--child ID] [--group ID] [--author ID]
#include <chrono>

#include "commands.hpp"
#include "record_ops.hpp"
#include "value_parse.hpp"

namespace tandem::cli {
namespace {

struct EntryOptions {
  std::string session;
  std::string note, code, tick, tally, rating;
  std::string at, end, interval, count, value;
  std::string child, group, author;
};

int run_record(CliContext& ctx, const CLI::App& cmd, const EntryOptions& o) {
  const auto given = [&cmd](const char* name) { return cmd.count(name) > 0; };
  const char* const kTypes[] = {"--note", "--code", "--tick", "--tally", "--rating"};
  const char* type = nullptr;
  for (const char* t : kTypes) {
    if (!given(t)) continue;
    if (type != nullptr) return ctx.usage(std::string("give only one of ") + type + " and " + t);
    type = t;
  }
  if (type == nullptr) return ctx.usage("give one of --note, --code, --tick, --tally, --rating");
  const std::string kind = type + 2;  // "note", "code", ...
  // Options that belong to one type only.
  if (given("--interval") && kind != "tick") return ctx.usage("--interval goes with --tick");
  if (given("--count") && kind != "tally") return ctx.usage("--count goes with --tally");
  if (given("--value") && kind != "rating") return ctx.usage("--value goes with --rating");
  if (given("--end") && kind != "code") return ctx.usage("--end goes with --code");
  if (kind == "tick" && !given("--interval")) return ctx.usage("--tick needs --interval N");
  if (kind == "rating" && !given("--value")) return ctx.usage("--rating needs --value X");

  Assignments fields = {{"session", o.session}, {"type", kind}};
  if (kind == "note") {
    fields.emplace_back("text", o.note);
  } else {
    const std::string& code = kind == "code"    ? o.code
                              : kind == "tick"  ? o.tick
                              : kind == "tally" ? o.tally
                                                : o.rating;
    fields.emplace_back("code", code);
  }
  if (given("--interval")) fields.emplace_back("interval", o.interval);
  if (kind == "tally") fields.emplace_back("count", given("--count") ? o.count : "1");
  if (given("--value")) fields.emplace_back("value", o.value);
  if (given("--end")) fields.emplace_back("end", o.end);
  if (given("--at")) {
    fields.emplace_back("at", o.at);
  } else {
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    fields.emplace_back("at", format_datetime_ms(now.count()));
  }
  if (given("--child")) fields.emplace_back("child", o.child);
  if (given("--group")) fields.emplace_back("group", o.group);
  if (given("--author")) fields.emplace_back("author", o.author);
  return create_record(ctx, "entry", fields);
}

}  // namespace

void register_entry_commands(CLI::App& app, CliContext& ctx) {
  const auto o = std::make_shared<EntryOptions>();
  CLI::App* cmd = app.add_subcommand(
      "record", "Record an entry in a session (note, code, tick, tally or rating)");
  cmd->add_option("session", o->session, "Session id")->required();
  cmd->add_option("--note", o->note, "Free-text note");
  cmd->add_option("--code", o->code, "Event code (e.g. I-PQ)");
  cmd->add_option("--tick", o->tick, "Interval code ticked (needs --interval)");
  cmd->add_option("--tally", o->tally, "Tally counter code");
  cmd->add_option("--rating", o->rating, "Rating item (needs --value)");
  cmd->add_option("--at", o->at, "Time of the entry, ISO 8601 (default: now)");
  cmd->add_option("--end", o->end, "End of a duration event, ISO 8601");
  cmd->add_option("--interval", o->interval, "0-based interval index for --tick");
  cmd->add_option("--count", o->count, "Amount for --tally (default 1)");
  cmd->add_option("--value", o->value, "Value for --rating");
  cmd->add_option("--child", o->child, "Child the entry is about");
  cmd->add_option("--group", o->group, "Group the entry is about");
  cmd->add_option("--author", o->author, "Person who recorded it");
  cmd->callback([&ctx, cmd, o] { run_record(ctx, *cmd, *o); });
}

}  // namespace tandem::cli
