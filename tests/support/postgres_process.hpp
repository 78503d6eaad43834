// The operating-system side of the test PostgreSQL (postgres_server.hpp):
// which binaries, which user runs them, free ports, and the postmaster's
// processes (found through /proc) for crashes and for cleaning up after a
// test process that died with its server still running. Linux only.
//
// Thread-safety: every function is safe to call from any thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "cli_runner.hpp"

namespace tandem::test::pg {

// Bound of every wait on the server (start, stop, queries, process exits).
constexpr std::chrono::seconds kWait{30};

// The server binaries' folder: `given`, else $TANDEM_PG_BINDIR, else the
// newest /usr/lib/postgresql/<version>/bin; it must hold initdb, pg_ctl and
// postgres. "" with the reason in *error when there is none.
std::string find_bindir(const std::string& given, std::string* error);

// Who runs initdb, pg_ctl and postgres: the current user, or, as root
// (PostgreSQL refuses root), Debian's `postgres` system user through setpriv
// (util-linux) or runuser.
struct ServerUser {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
  std::string switcher;  // setpriv or runuser, when switch_user
};
// False with the reason in *error when root has no `postgres` user or no way
// to switch to it.
bool server_user(ServerUser* out, std::string* error);

// Runs `program args...` as `user` (argument vector, no shell), in the C
// locale, killed after kWait.
ProcessResult run_as(const ServerUser& user, const std::string& program,
                     const std::vector<std::string>& args);

// A folder for the server's temporary folder: $TMPDIR, else /tmp, the first
// that `user` can reach (every ancestor searchable) and short enough for the
// socket path (sun_path holds 107 bytes), of plain characters (letters,
// digits, /._-: nothing to quote in postgresql.conf or pg_ctl's shell line).
// "" with the reason when neither.
std::string base_folder(const ServerUser& user, std::string* error);

// A fresh folder BASE/tandem-pg-XXXXXX (mode 0700) given to `user`, with an
// `owner` file naming this process (see reap_orphans). "" with the reason in
// *error when it cannot be made.
std::string make_folder(const ServerUser& user, const std::string& base, std::string* error);

// Makes DATA_DIR a new cluster (superuser `tandem`, trust, UTF8, C locale):
// a copy of one initdb'd once per PostgreSQL and user, kept in
// BASE/tandem-pgcluster-* (about 40 MB; initdb takes 0.6-2 s, the copy
// 0.05 s). Processes that race to make it each run initdb; one keeps its
// result (an atomic rename). False with the reason in *error.
bool init_cluster(const ServerUser& user, const std::string& bindir, const std::string& base,
                  const std::string& data_dir, std::string* error);

// A loopback TCP port that was free a moment ago (bound and released).
int free_loopback_port();

// The pid on the first line of DATA/postmaster.pid when that process is
// running and is the postmaster of DATA (its command line names DATA);
// -1 otherwise.
pid_t postmaster_of(const std::string& data_dir);

// The running processes whose parent is `parent` (walks /proc): a
// postmaster's backends and background workers.
std::vector<pid_t> children_of(pid_t parent);

// SIGKILLs the postmaster of `data_dir` and every child it has (stopped
// first, so that it starts no new ones), waits up to kWait until they have
// exited, then removes the stale lock files (postmaster.pid and the socket's
// .lock: a zombie that nobody reaps would otherwise keep them looking
// alive). False with the reason in *error when a process outlives the wait.
bool kill_postmaster_tree(const std::string& data_dir, std::string* error);

// Removes the servers of test processes that died without stopping theirs:
// every BASE/tandem-pg-* whose `owner` file names a process that is gone
// (or, without that file, that is older than ten minutes) has its postmaster
// killed and the folder removed. Best effort, silent.
void reap_orphans(const std::string& base);

// The last `bytes` of a file ("" when it cannot be read).
std::string file_tail(const std::string& path, std::size_t bytes);

}  // namespace tandem::test::pg
