// tandem-server: the sync server, and its administration commands.
//
//   tandem-server --data DIR --listen HOST:PORT          serve /v1 (default)
//       [--tls-cert FILE --tls-key FILE]                 ...over HTTPS
//   tandem-server --data DIR school create --name NAME
//   tandem-server --data DIR person add --school ID --name NAME --role ROLE [--profession P]
//   tandem-server --data DIR enroll-code --person ID [--ttl-minutes 15]
//   tandem-server --data DIR login-code --person ID [--ttl-minutes 10]
//   tandem-server --data DIR school set-lease --school ID --days N
//   tandem-server --data DIR device list --school ID
//   tandem-server --data DIR device revoke [--wipe] DEVICE_ID
//   tandem-server --data DIR device rotate-token DEVICE_ID
//   tandem-server --data DIR audit verify
//   tandem-server --data DIR audit export --child ID [--json | --csv]
//   tandem-server --data DIR audit prune --older-than-days N
//   tandem-server --data DIR backup --to FILE
//   tandem-server --data NEW restore --from FILE [--erasure-log LOG]
// Every command takes --json. Options may come before or after the command.

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "tandem/core/excerpt.hpp"
#include "tandem/core/lease.hpp"
#include "tandem/server/admin.hpp"
#include "tandem/server/backup.hpp"
#include "tandem/server/options.hpp"
#include "tandem/server/sealed_key_store.hpp"
#include "tandem/server/server.hpp"
#include "tandem/server/storage.hpp"
#include "tandem/server/stores.hpp"
#include "tandem/server/sync_service.hpp"

namespace {

using namespace tandem::server;  // NOLINT(google-build-using-namespace)

const std::vector<std::string> kRoles = {"resource_person", "teacher",  "pedagogue",
                                         "leader",          "external", "admin"};

}  // namespace

int main(int argc, char** argv) {
  // Before the storage is opened (the SQLite backend's process settings).
  configure_sqlite_for_server();

  CLI::App app{"tandem-server: the Tandem sync server and its administration commands"};
  app.fallthrough();  // global options are accepted after a subcommand too
  app.require_subcommand(0, 1);

  std::string data_dir;
  std::string listen = "127.0.0.1:8080";
  bool json = false;
  ServerOptions options;
  std::int64_t header_ms = options.timeouts.header.count();
  std::int64_t body_ms = options.timeouts.body.count();
  std::int64_t idle_ms = options.timeouts.idle.count();
  std::int64_t write_ms = options.timeouts.write.count();
  std::int64_t request_ms = options.timeouts.request.count();
  std::int64_t drain_ms = options.timeouts.drain.count();
  bool quiet = false;

  app.add_option("--data", data_dir, "Data directory (holds tandem-server.db)");
  app.add_option("--store", options.store,
                 "Serve from PostgreSQL instead: postgresql://USER@HOST:PORT/DB (several instances may "
                 "share one database; --data then only holds the erasure log and the record cache)");
  app.add_flag("--json", json, "Print results as JSON");
  app.add_option("--db-key", options.db_key_file,
                 "Encrypt the database at rest under this key file (0600, 64 hex digits; the same file for "
                 "serving and every admin command)");
  app.add_option("--now-offset-ms", options.now_offset_ms,
                 "Shift the server's wall clock (tests, drills)");
  app.add_option("--erasure-log", options.erasure_log,
                 "Where purges are logged so that a restore never undoes one (default DIR/erasure-log.jsonl; "
                 "for restore: the log to re-apply)");
  auto* serve_group = "Serving";
  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0: any free port)")
      ->group(serve_group);
  app.add_option("--max-skew-ms", options.max_skew_ms,
                 "Reject changes stamped further ahead of server time")
      ->group(serve_group)
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", options.io_threads, "Network threads (0: one per core but one, left to the commit thread; at least 1)")
      ->group(serve_group);
  app.add_option("--workers", options.worker_threads, "Threads for requests that wait for their own commit, e.g. enrollment (0: one per core)")
      ->group(serve_group);
  app.add_option("--max-connections", options.max_connections, "Open connections at most")
      ->group(serve_group)
      ->check(CLI::PositiveNumber);
  app.add_option("--header-timeout-ms", header_ms, "Time to send request headers")
      ->group(serve_group);
  app.add_option("--body-timeout-ms", body_ms, "Time to send a request body")->group(serve_group);
  app.add_option("--idle-timeout-ms", idle_ms, "Keep-alive idle time between requests")
      ->group(serve_group);
  app.add_option("--write-timeout-ms", write_ms,
                 "Time a client gets to read one answer (then it is cut off)")
      ->group(serve_group)
      ->check(CLI::PositiveNumber);
  app.add_option("--request-timeout-ms", request_ms,
                 "Time one request may take as a whole: headers, body, handling, answer")
      ->group(serve_group)
      ->check(CLI::PositiveNumber);
  app.add_option("--drain-timeout-ms", drain_ms, "Time in-flight requests get at shutdown")
      ->group(serve_group);
  app.add_flag("--quiet", quiet, "No access log")->group(serve_group);
  app.add_flag("--secure-cookies", options.secure_cookies,
               "The leaders' session cookie is Secure (set it behind a TLS proxy)")
      ->group(serve_group);
  auto* tls_cert = app.add_option("--tls-cert", options.tls_cert_file,
                                  "Serve HTTPS: PEM certificate chain, leaf first (with --tls-key)")
                       ->group(serve_group);
  auto* tls_key =
      app.add_option("--tls-key", options.tls_key_file, "Serve HTTPS: the certificate's PEM private key")
          ->group(serve_group);
  tls_cert->needs(tls_key);
  tls_key->needs(tls_cert);
  app.add_option("--audit-retention-days", options.audit_retention_days,
                 "Days audit entries are kept (pruned at start and daily; 0: kept for ever)")
      ->group(serve_group)
      ->check(CLI::Range(std::int64_t{0}, kMaxAuditRetentionDays));

  auto* school = app.add_subcommand("school", "Schools")->require_subcommand(1);
  auto* school_create = school->add_subcommand("create", "Create a school (prints its id)");
  std::string school_name;
  school_create->add_option("--name", school_name, "School name")->required();

  auto* school_set = school->add_subcommand("set", "Change a school's settings");
  std::string set_school_id, set_rp_reports;
  school_set->add_option("--school", set_school_id, "School id")->required();
  school_set
      ->add_option("--reports-for-resource-persons", set_rp_reports,
                   "Whether the school's resource persons see its reports (leaders always do)")
      ->required()
      ->check(CLI::IsMember({"yes", "no"}));

  auto* school_lease = school->add_subcommand(
      "set-lease", "Set a school's offline lease: days a tablet may go without syncing before "
                   "it locks the data that names a child (default 30)");
  std::string lease_school;
  std::int64_t lease_days = 0;
  school_lease->add_option("--school", lease_school, "School id")->required();
  school_lease->add_option("--days", lease_days, "Days (1-365)")->required()->check(CLI::Range(tandem::kMinLeaseDays, tandem::kMaxLeaseDays));

  auto* report = app.add_subcommand("report", "The school's view, as its administration sees it")
                     ->require_subcommand(1);
  auto* report_overview = report->add_subcommand("overview", "The school's overview (--json: all of it)");
  ReportCommand report_cmd;
  report_overview->add_option("--school", report_cmd.school, "School id")->required();
  report_overview->add_option("--from", report_cmd.from, "First day, YYYY-MM-DD (default: 1 August)");
  report_overview->add_option("--to", report_cmd.to, "Last day, YYYY-MM-DD (default: 31 July)");
  auto* report_course = report->add_subcommand("course", "One course with what hangs under it (JSON)");
  report_course->add_option("--school", report_cmd.school, "School id")->required();
  report_course->add_option("--course", report_cmd.course, "Course id")->required();

  auto* export_cmd = app.add_subcommand("export", "Export a table of the school's view, or the whole school");
  ExportCommand export_opts;
  export_cmd->add_option("--school", export_opts.school, "School id")->required();
  auto* export_table = export_cmd->add_option("--table", export_opts.table,
                                              "courses, sessions, actions, meetings, agenda_items, "
                                              "observations or workload");
  auto* export_archive =
      export_cmd->add_flag("--archive", export_opts.archive, "Every record of the school, as JSON");
  export_table->excludes(export_archive);
  export_cmd->add_option("--format", export_opts.format, "csv or json")->check(CLI::IsMember({"csv", "json"}));
  export_cmd->add_flag("--bom", export_opts.bom, "CSV: start with a UTF-8 byte order mark (Excel)");
  export_cmd->add_flag("--semicolon", export_opts.semicolon,
                       "CSV: ';' between fields and decimal commas (Danish Excel)");
  export_cmd->add_option("--from", export_opts.from, "First day, YYYY-MM-DD (default: 1 August)");
  export_cmd->add_option("--to", export_opts.to, "Last day, YYYY-MM-DD (default: 31 July)");
  export_cmd->add_option("--output", export_opts.output, "Write to FILE instead of standard output");

  auto* person = app.add_subcommand("person", "People")->require_subcommand(1);
  auto* person_add = person->add_subcommand("add", "Add a person to a school (prints the id)");
  std::string person_school, person_name, person_role, person_profession;
  person_add->add_option("--school", person_school, "School id")->required();
  person_add->add_option("--name", person_name, "Name")->required();
  person_add->add_option("--role", person_role, "Role")->required()->check(CLI::IsMember(kRoles));
  person_add->add_option("--profession", person_profession, "Profession (external people)");

  auto* person_set = person->add_subcommand(
      "set", "Change a person's role or profession (devices see it at their next sync)");
  std::string set_person_id, set_role;
  std::optional<std::string> set_profession;
  person_set->add_option("--person", set_person_id, "Person id")->required();
  person_set->add_option("--role", set_role, "Role")->required()->check(CLI::IsMember(kRoles));
  person_set->add_option("--profession", set_profession, "Profession (external people)");

  auto* enroll =
      app.add_subcommand("enroll-code", "Issue a one-time enrollment code for a person's device");
  std::string enroll_person;
  std::int64_t ttl_minutes = 15;
  std::int64_t ttl_seconds = 0;
  enroll->add_option("--person", enroll_person, "Person id")->required();
  enroll->add_option("--ttl-minutes", ttl_minutes, "Minutes the code stays valid")
      ->check(CLI::PositiveNumber);
  enroll
      ->add_option("--ttl-seconds", ttl_seconds,
                   "Seconds the code stays valid (overrides --ttl-minutes)")
      ->check(CLI::PositiveNumber);

  auto* login = app.add_subcommand(
      "login-code", "Issue a one-time login code for a leader's browser (the web page's /login)");
  std::string login_person;
  std::int64_t login_ttl_minutes = kDefaultLoginCodeTtlMs / 60'000;
  login->add_option("--person", login_person, "Person id")->required();
  login->add_option("--ttl-minutes", login_ttl_minutes, "Minutes the code stays valid")
      ->check(CLI::PositiveNumber);

  auto* device = app.add_subcommand("device", "Devices")->require_subcommand(1);
  auto* device_list = device->add_subcommand("list", "List a school's devices");
  std::string device_school;
  device_list->add_option("--school", device_school, "School id")->required();
  auto* device_revoke =
      device->add_subcommand("revoke", "Revoke a device (its token stops working)");
  std::string device_id;
  device_revoke->add_option("DEVICE_ID", device_id, "Device id")->required();
  bool revoke_wipe = false;
  device_revoke->add_flag("--wipe", revoke_wipe,
                          "Lost tablet: the device also erases its local data at its next contact "
                          "(what it had not synced is lost)");
  auto* device_rotate = device->add_subcommand(
      "rotate-token",
      "Give a device a new token at its next sync (the old one works until the "
      "device uses the new one)");
  device_rotate->add_option("DEVICE_ID", device_id, "Device id")->required();

  auto* audit =
      app.add_subcommand("audit", "The audit trail of children's data")->require_subcommand(1);
  auto* audit_verify =
      audit->add_subcommand("verify", "Check every school's chain (exit 3: broken)");
  auto* audit_export =
      audit->add_subcommand("export", "Every use of one child's data (CSV, or JSON with --json)");
  std::string audit_child;
  bool audit_csv = false;
  audit_export->add_option("--child", audit_child, "Child id")->required();
  audit_export->add_flag("--csv", audit_csv, "CSV with a header line (the default)");
  auto* audit_prune = audit->add_subcommand("prune", "Delete entries older than N days");
  std::int64_t audit_days = 0;
  audit_prune->add_option("--older-than-days", audit_days, "Age in days")
      ->required()
      ->check(CLI::Range(std::int64_t{0}, kMaxAuditRetentionDays));

  auto* backup = app.add_subcommand("backup", "Copy the database while the server runs (consistent, online)");
  std::string backup_to;
  backup->add_option("--to", backup_to, "The backup file to write (must not exist)")->required();
  auto* restore = app.add_subcommand(
      "restore", "Restore a backup into a new --data folder and re-apply the erasures logged since");
  std::string restore_from;
  restore->add_option("--from", restore_from, "The backup file")->required();
  bool restore_without_log = false;
  restore->add_flag("--without-erasure-log", restore_without_log,
                    "Restore without re-applying erasures (only when no log was ever kept: erasures done "
                    "since the backup come back)");

  auto* erasures = app.add_subcommand("erasures", "The erasure log");
  erasures->require_subcommand(1);
  auto* erasures_reapply = erasures->add_subcommand(
      "reapply", "Re-apply the purges of erasure logs to this store (after restoring a dump)");
  std::vector<std::string> reapply_logs;
  erasures_reapply->add_option("--from", reapply_logs, "An erasure log (repeat for each instance's)")
      ->required();

  CLI11_PARSE(app, argc, argv);

  if (data_dir.empty() && options.store.empty()) {
    std::cerr << "tandem-server: --data DIR (or --store postgresql://...) is required\n";
    return 2;
  }
  options.data_dir = data_dir;

  if (app.get_subcommands().empty()) {
    auto address = parse_listen_address(listen);
    if (!address) {
      std::cerr << "tandem-server: " << tandem::escape_controls(address.error().message) << "\n";
      return 2;
    }
    options.data_dir = data_dir;
    options.host = address->host;
    options.port = address->port;
    options.timeouts.header = std::chrono::milliseconds(header_ms);
    options.timeouts.body = std::chrono::milliseconds(body_ms);
    options.timeouts.idle = std::chrono::milliseconds(idle_ms);
    options.timeouts.write = std::chrono::milliseconds(write_ms);
    options.timeouts.request = std::chrono::milliseconds(request_ms);
    options.timeouts.drain = std::chrono::milliseconds(drain_ms);
    options.access_log = !quiet;
    return run_server(options, std::cout, std::cerr);
  }

  AdminIo io{std::cout, std::cerr, json};
  if ((*backup || *restore) && !options.store.empty()) {
    std::cerr << "tandem-server: backup and restore copy the SQLite file; a PostgreSQL store is backed "
                 "up with pg_dump or streaming replication (README, PostgreSQL)\n";
    return 2;
  }
  // Neither opens the server's storage: backup reads the file as it is,
  // restore writes a new one.
  if (*backup) return admin_backup(data_dir, options.db_key_file, backup_to, io);
  if (*restore) {
    if (options.erasure_log.empty() == !restore_without_log) {
      std::cerr << "tandem-server: restore needs --erasure-log LOG (the log of the server the backup "
                   "came from: erasures done since the backup are re-applied) or --without-erasure-log\n";
      return 2;
    }
    OffsetClock restore_clock(options.now_offset_ms);
    return admin_restore(data_dir, options.db_key_file, restore_from, options.erasure_log, restore_clock, io);
  }
  OffsetClock clock(options.now_offset_ms);
  tandem::Result<std::unique_ptr<ServerStorage>> storage = open_server_storage(options, clock);
  if (!storage) {
    if (json) {
      tandem::sync::ErrorResponse e;
      e.error = storage.error();
      std::cout << tandem::json_escape_controls(
                       e.to_json().dump(-1, ' ', false, tandem::Json::error_handler_t::replace))
                << "\n";
    } else {
      std::cerr << "tandem-server: " << tandem::error_code_name(storage.error().code) << ": "
                << tandem::escape_controls(storage.error().message) << "\n";
    }
    return 1;
  }
  ServerStorage& s = **storage;
  if (*school_create) return admin_school_create(s, school_name, io);
  if (*school_lease) return admin_school_set_lease(s, lease_school, lease_days, io);
  if (*school_set) return admin_school_set(s, set_school_id, set_rp_reports, io);
  if (*report_overview || *report_course) return admin_report(s, clock, report_cmd, io);
  if (*export_cmd) {
    if (export_opts.table.empty() && !export_opts.archive) {
      std::cerr << "tandem-server: export needs --table NAME or --archive\n";
      return 2;
    }
    return admin_export(s, clock, export_opts, io);
  }
  if (*person_add)
    return admin_person_add(s, person_school, person_name, person_role, person_profession, io);
  if (*person_set) return admin_person_set(s, set_person_id, set_role, set_profession, io);
  if (*enroll) {
    const std::int64_t ttl_ms = ttl_seconds > 0 ? ttl_seconds * 1000 : ttl_minutes * 60 * 1000;
    return admin_enroll_code(s, clock, enroll_person, ttl_ms, io);
  }
  if (*login) return admin_login_code(s, clock, login_person, login_ttl_minutes * 60'000, io);
  if (*device_list) return admin_device_list(s, device_school, io);
  if (*device_revoke) return admin_device_revoke(s, clock, device_id, revoke_wipe, io);
  if (*device_rotate) return admin_device_rotate_token(s, device_id, io);
  if (*audit_verify) return admin_audit_verify(s, io);
  if (*audit_export) {
    if (audit_csv) io.json = false;  // --csv wins
    return admin_audit_export(s, audit_child, io);
  }
  if (*audit_prune) return admin_audit_prune(s, clock, audit_days, io);
  if (*erasures_reapply) return admin_erasures_reapply(s, clock, reapply_logs, io);
  std::cerr << app.help();
  return 2;
}
