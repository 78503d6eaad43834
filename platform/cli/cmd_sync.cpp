// `tandem enroll` and `tandem sync`: the device side of /v1.
//
//   tandem --db FILE enroll --server URL --code CODE [--device-name NAME]
//                           [--local-records move|keep] [--ca FILE] [--allow-http]
//       Creates the database if needed, trades the one-time code for a device
//       token (kept in the database's metadata), then syncs once so the
//       school's records (and the school itself, made the default) arrive.
//       A database used offline first (init --school-name) joins the school:
//       --local-records move makes its records the school's (sent with the
//       first sync), keep leaves them a local school on this tablet only.
//       Without the choice such a database is refused before the code is
//       used (sync/enrollment.hpp).
//       --ca: the server's certificate must come from the CAs in FILE (PEM;
//       the school's own CA) instead of the system's store; the file's
//       absolute path is remembered (kMetaCaFile) for later syncs.
//   tandem --db FILE sync [--batch N] [--page N] [--max-requests N] ...
//       Pushes the outbox and pulls the school's changes until both are done.
//       Progress goes to stderr, the summary to stdout (JSON with --json).
//       Bounded: each request by --connect-timeout-ms and --timeout-ms, the
//       whole sync (retries and waits included) by --overall-timeout-ms, and
//       every answer by the response cap (protocol.hpp); a sync stopped by a
//       bound keeps what it did and the next one goes on.
//       --ca FILE on sync uses (and remembers) another CA file.
//       Plain http:// is refused (insecure_transport) unless the server is
//       this machine (loopback) or --allow-http is given (each time: it is
//       never remembered). Certificates are judged at the device's corrected
//       time (tandem/sync/certificate_time.hpp).
//   tandem --db FILE sync --rejected
//       Lists the changes the server refused for good (kept locally; never
//       resent). Changes refused for the device's clock are not among them:
//       they are re-stamped with the corrected time and sent again.
//       A wrong device clock is reported in the summary (how far, which way).
//
// The Store applies the clock correction learned from the server to every
// process's stamps (Store::skew_clock).
// Exit codes: 0 done; 1 failed (network after retries, revoked device, ...);
// 2 usage. A revoked device gets "device revoked or not enrolled" and keeps
// its local data. A device revoked with --wipe (a lost tablet) gets
// device_wiped, and its database is destroyed (destroy_database).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "commands.hpp"
#include "tandem/core/lease.hpp"
#include "tandem/sync/certificate_time.hpp"
#include "tandem/sync/curl_transport.hpp"
#include "tandem/sync/engine.hpp"
#include "tandem/sync/enrollment.hpp"
#include "tandem/sync/skew_clock.hpp"

namespace tandem::cli {
namespace {

struct SyncCliOptions {
  std::string server;
  std::string code;
  std::string device_name;
  std::string local_records;  // enroll: "move", "keep" or "" (ask)
  std::size_t batch = 500;
  std::size_t page = 500;
  std::int64_t max_requests = 0;
  int attempts = 8;
  std::int64_t timeout_ms = 60'000;
  std::int64_t connect_timeout_ms = 10'000;
  // Long enough for a first sync of a big school on a slow line (it resumes
  // where it stopped anyway), short enough that a stalled server cannot keep
  // a scheduled `tandem sync` running for hours.
  std::int64_t overall_timeout_ms = 300'000;
  std::int64_t backoff_ms = 250;
  bool quiet = false;
  bool rejected = false;
  std::string ca_file;  // --ca; "" = the remembered one, else the system's store
  bool allow_http = false;
};

// The CA file to use: --ca (made absolute) or the one remembered at
// enrollment; "" for the system's store.
Result<std::string> ca_file_for(Store& store, const SyncCliOptions& o) {
  if (!o.ca_file.empty()) {
    std::error_code ec;
    auto absolute = std::filesystem::absolute(o.ca_file, ec);
    return ec ? o.ca_file : absolute.string();
  }
  auto remembered = store.meta(sync::kMetaCaFile);
  if (!remembered) return std::move(remembered).error();
  return remembered->value_or("");
}

// REQUIRES: `store` outlives the transport (its clock judges certificates).
Result<std::unique_ptr<sync::CurlTransport>> make_transport(Store& store, const std::string& url,
                                                            const std::string& ca_file,
                                                            const SyncCliOptions& o) {
  sync::CurlOptions co;
  co.base_url = url;
  co.total_timeout = std::chrono::milliseconds(o.timeout_ms);
  co.connect_timeout = std::chrono::milliseconds(o.connect_timeout_ms);
  co.ca_file = ca_file;
  co.allow_insecure_http = o.allow_http;
  const bool explicit_ca = !ca_file.empty();
  co.certificate_time = [&store, explicit_ca] { return sync::certificate_time(store, explicit_ca); };
  return sync::CurlTransport::create(co);
}

std::string seconds(std::int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f s", static_cast<double>(ms) / 1000.0);
  return buf;
}

// "10 år 3 dage", "2 timer 5 minutter", "40 sekunder" (Danish) or English.
std::string span(std::int64_t ms, bool danish) {
  std::int64_t left = (ms < 0 ? -ms : ms) / 1000;
  struct Unit {
    std::int64_t seconds;
    const char* da_one;
    const char* da_many;
    const char* en_one;
    const char* en_many;
  };
  static constexpr Unit kUnits[] = {{365LL * 86400, "år", "år", "year", "years"},
                                    {86400, "dag", "dage", "day", "days"},
                                    {3600, "time", "timer", "hour", "hours"},
                                    {60, "minut", "minutter", "minute", "minutes"},
                                    {1, "sekund", "sekunder", "second", "seconds"}};
  std::string out;
  int parts = 0;
  for (const auto& u : kUnits) {
    const std::int64_t n = left / u.seconds;
    if (n == 0 || parts == 2) continue;
    left -= n * u.seconds;
    if (!out.empty()) out += ' ';
    out += std::to_string(n) + ' ' +
           (danish ? (n == 1 ? u.da_one : u.da_many) : (n == 1 ? u.en_one : u.en_many));
    ++parts;
  }
  return out.empty() ? (danish ? "under et sekund" : "less than a second") : out;
}

// What the user should know about the device's clock, or "" when it is fine.
// offset = server - device: positive when the device is behind.
std::string clock_advice(const sync::SyncSummary& s, bool danish) {
  if (!s.clock_wrong) return {};
  const bool behind = s.clock_offset_ms > 0;
  std::string out;
  if (danish) {
    out = std::string("Enhedens ur går ") + span(s.clock_offset_ms, true) +
          (behind ? " bagud" : " foran") +
          " i forhold til serverens. Ret uret i enhedens indstillinger.";
    if (s.clock_correction_ms != 0) {
      out += " Indtil da får nye ændringer serverens tid.";
    } else if (s.clock_offset_pending_ms) {
      out += " Afvigelsen bruges, når næste svar fra serveren bekræfter den.";
    }
  } else {
    out = std::string("this device's clock is ") + span(s.clock_offset_ms, false) +
          (behind ? " behind" : " ahead of") + " the server's; fix it in the device's settings.";
    if (s.clock_correction_ms != 0) {
      out += " Until then new changes are stamped with the server's time.";
    } else if (s.clock_offset_pending_ms) {
      out += " The difference is applied once the server's next answer confirms it.";
    }
  }
  return out;
}

void print_progress(const sync::SyncProgress& p) {
  using Phase = sync::SyncProgress::Phase;
  if (p.phase == Phase::kRetrying) {
    std::cerr << "sync: " << (p.error ? p.error->message : "failure") << "; retrying in "
              << p.retry_in.count() << " ms (attempt " << p.attempt + 1 << ")\n";
  } else if (p.phase == Phase::kApplied) {
    std::cerr << "sync: pushed " << p.pushed << ", pulled " << p.pulled << ", outbox "
              << p.outbox_left << ", cursor " << p.cursor << (p.more ? ", more" : "") << "\n";
  }
  std::cerr.flush();
}

std::string human_summary(const sync::SyncSummary& s, const std::string& url) {
  std::ostringstream out;
  out << "synkroniseret med " << url << (s.complete ? "" : " (ikke færdig)") << "\n"
      << "  sendt:    " << s.pushed << " (accepteret " << s.accepted << ", dubletter "
      << s.duplicates << ", afvist " << s.rejected << ")\n"
      << "  modtaget: " << s.pulled << " (nye " << s.applied << ")\n"
      << "  tilbage i udbakken: " << s.outbox_left << "\n"
      << "  forespørgsler: " << s.requests << ", genforsøg: " << s.retries << "\n"
      << "  urforskel til serveren: " << seconds(s.clock_offset_ms);
  if (s.clock_correction_ms != 0)
    out << " (lokale tidsstempler korrigeres " << seconds(s.clock_correction_ms) << ")";
  out << "\n";
  if (s.clock_refused > 0 || s.restamped > 0) {
    out << "  afvist for uret og sendt igen med rettet tid: " << s.clock_refused
        << " (nye tidsstempler " << s.restamped << ")\n";
  }
  if (const std::string advice = clock_advice(s, true); !advice.empty())
    out << "  " << advice << "\n";
  return out.str();
}

void warn_about(const sync::SyncSummary& s, bool quiet) {
  if (quiet) return;
  if (const std::string advice = clock_advice(s, false); !advice.empty()) {
    std::cerr << "sync: " << advice << "\n";
  }
  for (const auto& r : s.newly_rejected) {
    std::cerr << "sync: rejected by the server: " << r.op << " " << r.record
              << (r.field.empty() ? "" : "." + r.field) << ": " << error_code_name(r.error.code)
              << ": " << r.error.message << "\n";
  }
}

// Runs the engine on an opened store; prints progress to stderr.
Result<sync::SyncSummary> run_engine(Store& store, sync::Transport& transport,
                                     const SyncCliOptions& o) {
  sync::EngineOptions eo;
  eo.push_batch = o.batch;
  eo.pull_limit = o.page;
  eo.max_requests = o.max_requests;
  eo.retry.max_attempts = std::max(1, o.attempts);
  eo.retry.initial_backoff = std::chrono::milliseconds(std::max<std::int64_t>(1, o.backoff_ms));
  eo.overall_timeout = std::chrono::milliseconds(o.overall_timeout_ms);
  std::mt19937_64 rng{std::random_device{}()};
  sync::SyncEngine engine(
      store, transport, store.skew_clock(),
      [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }, [&rng] { return rng(); },
      eo);
  sync::ProgressFn progress;
  if (!o.quiet) progress = print_progress;
  auto summary = engine.sync(progress);
  if (!summary) {
    warn_about(engine.last_summary(), o.quiet);
    return summary;
  }
  warn_about(*summary, o.quiet);
  return summary;
}

// The server said this device was reported lost (revoke --wipe): the
// database goes (its key first), whatever it held that was not synced.
int wiped(CliContext& ctx, std::unique_ptr<Store> opened, const Error& e) {
  opened.reset();
  if (Status gone = ctx.destroy_database(); !gone) return ctx.fail(gone.error());
  ctx.notice("tandem: denne enhed er meldt bortkommet, og skolen har bedt om at slette dens data. "
             "Databasen " + ctx.db_path + " er slettet; ændringer, der ikke var synkroniseret, er tabt.");
  return ctx.fail(e);
}

int run_sync(CliContext& ctx, const SyncCliOptions& o) {
  auto opened = ctx.open_store(false, "enroll it with `tandem enroll`");
  if (!opened) return ctx.fail(opened.error());
  Store& store = **opened;
  if (o.rejected) {
    auto list = sync::SyncEngine::rejected(store);
    if (!list) return ctx.fail(list.error());
    Json doc = Json::array();
    std::string human;
    for (const auto& r : *list) {
      doc.push_back(r.to_json());
      human += r.hlc + "  " + r.op + " " + r.record + (r.field.empty() ? "" : "." + r.field) +
               "  " + std::string(error_code_name(r.error.code)) + ": " + r.error.message + "\n";
    }
    if (list->empty()) human = "ingen afviste ændringer\n";
    return ctx.ok(doc, human);
  }
  auto url = store.meta(sync::kMetaServerUrl);
  if (!url) return ctx.fail(url.error());
  std::string server = o.server;
  if (server.empty() && *url) server = **url;
  if (server.empty()) {
    return ctx.fail(
        make_error(ErrorCode::kUnauthorized,
                   "device revoked or not enrolled: run `tandem enroll --server URL --code CODE`"));
  }
  auto ca_file = ca_file_for(store, o);
  if (!ca_file) return ctx.fail(ca_file.error());
  auto transport = make_transport(store, server, *ca_file, o);
  if (!transport) return ctx.fail(transport.error());
  if (!o.ca_file.empty()) {
    if (Status s = store.set_meta(sync::kMetaCaFile, *ca_file); !s) return ctx.fail(s.error());
  }
  auto summary = run_engine(**opened, **transport, o);
  if (!summary && summary.error().code == ErrorCode::kDeviceWiped)
    return wiped(ctx, std::move(*opened), summary.error());
  if (!summary) return ctx.fail(summary.error());
  Json doc = summary->to_json();
  doc["server"] = server;
  return ctx.ok(doc, human_summary(*summary, server));
}

int run_enroll(CliContext& ctx, const SyncCliOptions& o) {
  auto opened = ctx.open_store(true, "");
  if (!opened) return ctx.fail(opened.error());
  auto ca_file = ca_file_for(**opened, o);
  if (!ca_file) return ctx.fail(ca_file.error());
  auto transport = make_transport(**opened, o.server, *ca_file, o);
  if (!transport) return ctx.fail(transport.error());
  sync::EnrollOptions eo;
  eo.server_url = o.server;
  eo.code = o.code;
  eo.device_name = o.device_name;
  if (o.local_records == "move") eo.local_records = Store::LocalRecords::kMove;
  if (o.local_records == "keep") eo.local_records = Store::LocalRecords::kKeep;
  Store::JoinOutcome joined;
  auto enrolled = sync::enroll_device(**opened, **transport, (*opened)->skew_clock(), eo, &joined);
  if (!enrolled) return ctx.fail(enrolled.error());
  if (!o.ca_file.empty()) {
    if (Status s = (*opened)->set_meta(sync::kMetaCaFile, *ca_file); !s) return ctx.fail(s.error());
  }
  if (!o.quiet) {
    std::cerr << "enroll: device " << enrolled->device_id << " of " << enrolled->person.name << " ("
              << enrolled->person.role << ") at " << enrolled->school.name << "; first sync...\n";
  }
  auto summary = run_engine(**opened, **transport, o);
  if (!summary) {
    Error e = summary.error();
    e.message = "enrolled as " + enrolled->device_id + ", but the first sync failed (" + e.message +
                "); run `tandem sync` to finish";
    return ctx.fail(e);
  }
  Json doc = {{"device_id", enrolled->device_id},
              {"school", {{"id", enrolled->school.id}, {"name", enrolled->school.name}}},
              {"person",
               {{"id", enrolled->person.id},
                {"name", enrolled->person.name},
                {"role", enrolled->person.role}}},
              {"server", o.server},
              {"default_school", (*opened)->default_school()},
              {"local_records",
               {{"moved", joined.moved},
                {"kept", joined.kept},
                {"local_schools", joined.local_schools},
                {"dropped_schools", joined.dropped}}},
              {"sync", summary->to_json()}};
  std::string human = enrolled->device_id + "\n" + "skole: " + enrolled->school.name + " (" +
                      enrolled->school.id + ")\n" + "person: " + enrolled->person.name + " (" +
                      enrolled->person.role + ")\n";
  if (joined.moved > 0)
    human += "flyttet til skolen: " + std::to_string(joined.moved) + " poster lavet offline\n";
  if (joined.kept > 0) {
    human += "beholdt som lokal skole (kun på denne tablet, sendes ikke): " +
             std::to_string(joined.kept) + " poster\n";
  }
  human += human_summary(*summary, o.server);
  return ctx.ok(doc, human);
}

void add_network_options(CLI::App* cmd, SyncCliOptions& o) {
  cmd->add_option("--batch", o.batch, "Changes per push (1-1000)")->check(CLI::Range(1, 1000));
  cmd->add_option("--page", o.page, "Changes per pull page (1-1000)")->check(CLI::Range(1, 1000));
  cmd->add_option("--max-requests", o.max_requests,
                  "Stop after this many round trips (0: until done)");
  cmd->add_option("--attempts", o.attempts, "Tries per request before giving up")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--timeout-ms", o.timeout_ms, "Whole-request timeout")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--connect-timeout-ms", o.connect_timeout_ms, "Connect timeout")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--overall-timeout-ms", o.overall_timeout_ms,
                  "Give up the whole sync, retries and waits included, after this long "
                  "(default 300000; what was done is kept)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--backoff-ms", o.backoff_ms, "First retry delay (doubles, with jitter)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--quiet", o.quiet, "No progress on stderr");
  cmd->add_option("--ca", o.ca_file,
                  "Trust the CA certificates in FILE (PEM) for an https server instead of the "
                  "system's store (remembered for later syncs)");
  cmd->add_flag("--allow-http", o.allow_http,
                "Allow plain http:// to a server that is not this machine (unencrypted)");
}

// `tandem status`: what a user asks before going online: how many changes
// wait to be sent, which school and server the tablet belongs to, whether the
// database is encrypted and how long the offline lease has left.
int run_status(CliContext& ctx) {
  auto opened = ctx.open_store(false, "create it with `tandem init` or `tandem enroll`");
  if (!opened) return ctx.fail(opened.error());
  Store& store = **opened;
  auto waiting = store.outbox_size();
  if (!waiting) return ctx.fail(waiting.error());
  Json doc = {{"outbox", *waiting}, {"encrypted", store.encrypted()}};
  std::string human = std::to_string(*waiting) + " ændringer venter på at blive sendt\n";
  human += std::string("databasen er ") + (store.encrypted() ? "krypteret" : "ikke krypteret") + "\n";
  auto url = store.meta(sync::kMetaServerUrl);
  if (!url) return ctx.fail(url.error());
  auto school = store.meta(sync::kMetaSchoolName);
  if (!school) return ctx.fail(school.error());
  auto device = store.meta(sync::kMetaDeviceId);
  if (!device) return ctx.fail(device.error());
  doc["enrolled"] = url->has_value();
  if (*url) {
    doc["server"] = **url;
    human += "server: " + **url + "\n";
  } else {
    human += "ikke tilmeldt en skole (tandem enroll)\n";
  }
  if (*school) {
    doc["school_name"] = **school;
    human += "skole: " + **school + "\n";
  }
  if (*device) doc["device_id"] = **device;
  // Schools kept local at enrollment: their records never leave the tablet.
  Json local = Json::array();
  auto others = store.other_schools(store.default_school());
  if (!others) return ctx.fail(others.error());
  for (const auto& o : *others) {
    if (!store.is_local_only(o.id)) continue;
    local.push_back({{"id", o.id}, {"name", o.name}, {"records", o.records}});
    human += "lokal skole: " + (o.name.empty() ? o.id : o.name) + " (" + o.id + "), " +
             std::to_string(o.records) + " poster, kun på denne tablet (sendes ikke)\n";
  }
  doc["local_schools"] = std::move(local);
  auto lease = store.offline_lease();
  if (!lease) return ctx.fail(lease.error());
  Json l = {{"expired", lease->expired}};
  if (lease->anchor_ms > 0) l["last_contact_ms"] = lease->anchor_ms;
  if (lease->lease_ms > 0) {
    l["days"] = lease->lease_ms / kDayMs;
    const std::int64_t left = lease->anchor_ms + lease->lease_ms - lease->now_ms;
    l["left_ms"] = std::max<std::int64_t>(0, left);
    human += lease->expired
                 ? "offline-perioden er udløbet: data om børn er låst, til enheden har synkroniseret\n"
                 : "offline-perioden udløber om " + std::to_string(std::max<std::int64_t>(0, left) / kDayMs) +
                       " dage uden synkronisering\n";
  }
  doc["lease"] = l;
  return ctx.ok(doc, human);
}

}  // namespace

void register_sync_commands(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<SyncCliOptions>();

  CLI::App* enroll =
      app.add_subcommand("enroll", "Enroll this database as a device of a school (then sync)");
  enroll->add_option("--server", o->server, "Server URL, e.g. https://tandem.skole.dk:8443")->required();
  enroll->add_option("--code", o->code, "One-time enrollment code from the school")->required();
  enroll->add_option("--device-name", o->device_name, "A name for this device (shown to admins)");
  enroll
      ->add_option("--local-records", o->local_records,
                   "Records made on this tablet before it joined a school (init --school-name): "
                   "'move' makes them the school's (sent at the first sync), 'keep' keeps them as "
                   "a separate local school on this tablet only (never sent). Needed when there "
                   "are such records; without it enroll refuses before using the code")
      ->check(CLI::IsMember({"move", "keep"}));
  add_network_options(enroll, *o);
  enroll->callback([&ctx, o] { run_enroll(ctx, *o); });

  CLI::App* sync = app.add_subcommand("sync", "Push local changes and pull the school's changes");
  sync->add_option("--server", o->server, "Use this server URL instead of the enrolled one");
  sync->add_flag("--rejected", o->rejected, "List the changes the server rejected (no sync)");
  add_network_options(sync, *o);
  sync->callback([&ctx, o] { run_sync(ctx, *o); });

  app.add_subcommand("status", "What waits to be synced; school, server, encryption, offline lease")
      ->callback([&ctx] { run_status(ctx); });
}

}  // namespace tandem::cli
