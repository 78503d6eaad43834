// Administration commands of tandem-server (local, not over HTTP): they open
// the data directory's database directly, so they work with the server
// running or not (SQLite serialises the writers).
//
// Each returns the process exit code: 0 on success, 1 on failure. With
// json=true the result (or {"error":{"code","message"}}) is printed as JSON
// on `out`; otherwise a short human form goes to `out` and errors to `err`.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include "tandem/core/hlc.hpp"
#include "tandem/server/storage.hpp"

namespace tandem::server {

struct AdminIo {
  std::ostream& out;
  std::ostream& err;
  bool json = false;
};

// Reports a failure as every admin command does ({"error":...} with json,
// else a line on err) and returns exit code 1.
int admin_fail(const Error& e, AdminIo io);

// school create --name NAME: prints the school id.
int admin_school_create(ServerStorage& storage, const std::string& name, AdminIo io);
// person add --school ID --name NAME --role ROLE [--profession P]: prints the person id.
int admin_person_add(ServerStorage& storage, const std::string& school, const std::string& name,
                     const std::string& role, const std::string& profession, AdminIo io);
// person set --person ID --role ROLE [--profession P]: the administration
// changes a person's role; every device of the school works out its view
// again at its next sync.
int admin_person_set(ServerStorage& storage, const std::string& person, const std::string& role,
                     const std::optional<std::string>& profession, AdminIo io);
// enroll-code --person ID [--ttl-minutes N]: prints a one-time code (shown
// once; only its hash is stored).
int admin_enroll_code(ServerStorage& storage, Clock& clock, const std::string& person,
                      std::int64_t ttl_ms, AdminIo io);
// login-code --person ID [--ttl-minutes 10]: prints a one-time code for the
// leaders' web page (/login), and when it expires. Refused for a person who
// may not view the school's reports (web_auth.hpp).
int admin_login_code(ServerStorage& storage, Clock& clock, const std::string& person,
                     std::int64_t ttl_ms, AdminIo io);
// school set-lease --school ID --days N (kMinLeaseDays..kMaxLeaseDays,
// core/lease.hpp): a tablet that has not synced for longer locks the data
// that names a child until it syncs.
int admin_school_set_lease(ServerStorage& storage, const std::string& school, std::int64_t days,
                           AdminIo io);
// device list --school ID
int admin_device_list(ServerStorage& storage, const std::string& school, AdminIo io);
// device revoke DEVICE_ID: the device's token stops working at once.
// `wipe` (revoke --wipe): the device also erases its local data at its next
// contact; the device list shows when it was told.
int admin_device_revoke(ServerStorage& storage, Clock& clock, const std::string& device,
                        bool wipe, AdminIo io);
// device rotate-token DEVICE_ID: the device gets a new token with its next
// sync; its old token works until the device first uses the new one. Errors:
// not_found (no such device), forbidden (revoked).
int admin_device_rotate_token(ServerStorage& storage, const std::string& device, AdminIo io);

// audit verify: 0 when every school's audit chain is intact (prints each
// school's head hash, to note outside the server); kAuditBrokenExit when an
// entry is broken or missing, naming the first (school, n, what is wrong).
inline constexpr int kAuditBrokenExit = 3;
int admin_audit_verify(ServerStorage& storage, AdminIo io);
// audit export --child ID [--json | --csv]: one line per record naming the
// child (batched entries expanded), {at, person, device, record, action},
// `at` ISO 8601 UTC, ids only. JSON array with io.json, else CSV with a
// header line.
int admin_audit_export(ServerStorage& storage, const std::string& child, AdminIo io);
// audit prune --older-than-days N: deletes entries stamped more than N days
// before now (retention; the chain stays verifiable). Prints how many.
int admin_audit_prune(ServerStorage& storage, Clock& clock, std::int64_t days, AdminIo io);

// backup --to FILE / restore --from FILE (backup.hpp); they open no storage.
int admin_backup(const std::string& data_dir, const std::string& db_key_file, const std::string& to,
                 AdminIo io);
int admin_restore(const std::string& data_dir, const std::string& db_key_file, const std::string& from,
                  const std::string& erasure_log, Clock& clock, AdminIo io);

// report overview --school ID [--from D --to D] [--course C]: the school's
// overview (or one course) as the administration sees it (a leader's view).
struct ReportCommand {
  std::string school, from, to, course;
};
int admin_report(ServerStorage& storage, Clock& clock, const ReportCommand& cmd, AdminIo io);

// export --school ID (--table NAME [--format csv|json] [--bom] [--semicolon]
// | --archive) [--from D --to D] [--output FILE]: a table of the school's
// view, or the full-school JSON archive; audited as the administration.
struct ExportCommand {
  std::string school, table, format = "csv", from, to, output;
  bool bom = false, semicolon = false, archive = false;
};
int admin_export(ServerStorage& storage, Clock& clock, const ExportCommand& cmd, AdminIo io);

// school set --school ID --reports-for-resource-persons yes|no
int admin_school_set(ServerStorage& storage, const std::string& school, const std::string& rp_reports,
                     AdminIo io);

// erasures reapply --from LOG...: re-applies every purge in the erasure logs
// to this store (after restoring a PostgreSQL dump, or any older copy):
// erasure is never undone. Prints how many purges the logs hold and how many
// changed the store.
int admin_erasures_reapply(ServerStorage& storage, Clock& clock, const std::vector<std::string>& logs,
                           AdminIo io);

}  // namespace tandem::server
