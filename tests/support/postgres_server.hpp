// A private PostgreSQL server for the tests, from Debian's postgresql package:
// initdb in a fresh folder under $TMPDIR, a free loopback TCP port
// (listen_addresses = 127.0.0.1) and the unix socket inside that folder,
// started with pg_ctl -w, stopped (immediate: nothing in it is kept) and the
// folder removed by the destructor. Only loopback is ever contacted.
//
//   auto* pg = tandem::test::postgres_or_skip();  // FAILs, or WARNs with TANDEM_SKIP_POSTGRES=1
//   if (pg == nullptr) return;
//   const std::string url = pg->create_database();  // postgresql://tandem@127.0.0.1:PORT/NAME
//
// Invariants: fsync, full_page_writes and synchronous_commit stay on (the
// crash tests depend on durability); authentication is `trust` for the
// superuser `tandem`; every wait is bounded (30 s), and a failure's text ends
// with the tail of the server's log. PostgreSQL refuses to run as root: as
// root, initdb/pg_ctl/postgres run as Debian's `postgres` system user (the
// folder is given to it); otherwise as the current user. Each process has its
// own server (ctest -j runs test processes side by side). A server whose test
// process died without stopping it is stopped and removed by the next one.
//
// Binaries: $TANDEM_PG_BINDIR, else the newest /usr/lib/postgresql/*/bin.
//
// Thread-safety: shared() and create_database()/drop_database() may be called
// from any thread; kill_hard() and restart() must not run concurrently with
// anything else on the same server.
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>

namespace tandem::test {

class PostgresServer {
 public:
  // The process's server: started on first use, stopped at exit. nullptr
  // when it cannot be had (PostgreSQL not installed, or it failed to start);
  // shared_error() then says why.
  static PostgresServer* shared();
  static const std::string& shared_error();

  // A server of the caller's own (e.g. for a crash test that must not disturb
  // the shared one). `bindir` "" = found as above. nullptr with the reason in
  // *error when it cannot start.
  static std::unique_ptr<PostgresServer> start(std::string* error, const std::string& bindir = {});

  ~PostgresServer();  // stops the server and removes its folder
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // A fresh, empty database with a unique name (tandem_N); returns its URL
  // postgresql://tandem@127.0.0.1:PORT/NAME. Throws std::runtime_error with
  // the server's message (and the log's tail) when it cannot.
  std::string create_database();
  // DROP DATABASE IF EXISTS ... WITH (FORCE) (connections to it are ended);
  // `name_or_url` is a name or a URL from create_database(). False (reason in
  // last_error()) on failure. Slow: it forces a checkpoint, which fsyncs what
  // was written since the last one (about 1 s per database created); only
  // for a process that makes many databases.
  bool drop_database(const std::string& name_or_url);

  // postgresql://tandem@127.0.0.1:PORT/DB
  std::string url(const std::string& db) const;
  // The database name at the end of a URL made by url() (no query part).
  static std::string database_name(const std::string& url);

  int port() const { return port_; }
  std::string socket_dir() const { return root_ + "/sock"; }
  const std::string& data_dir() const { return data_; }
  const std::string& bindir() const { return bindir_; }
  // The running postmaster's pid (from postmaster.pid), -1 when none.
  pid_t postmaster_pid() const;

  // A crash: SIGKILL the postmaster and every process it started at once,
  // wait (30 s) until they are gone, and clear the stale lock file. Nothing
  // is shut down cleanly; what was committed is on disk only through the WAL.
  // False (reason in last_error()) when a process outlives the wait.
  bool kill_hard();
  // Starts the server again on the same data folder and port; pg_ctl -w
  // returns once crash recovery is done and connections are accepted. False
  // (reason in last_error()) when it does not come up within 30 s.
  bool restart();

  // The reason of the last failure of kill_hard()/restart()/drop_database().
  const std::string& last_error() const { return last_error_; }
  // The last `bytes` of the server's log file.
  std::string log_tail(std::size_t bytes = 3000) const;

 private:
  PostgresServer() = default;
  bool start_server(bool new_port_on_conflict, std::string* error);
  bool stop_server();
  std::string admin_exec(const std::string& sql);  // "" or the error

  std::string bindir_;
  std::string root_;  // the temporary folder: data/, sock/, server.log, owner
  std::string data_;
  std::string log_;
  int port_ = 0;
  pid_t owner_pid_ = 0;  // a forked child (exit without exec) never stops the server
  std::mutex mu_;        // create/drop one at a time
  unsigned long next_db_ = 0;
  std::string last_error_;
};

// The shared server for a test: when there is none, FAILs the current test
// with the reason, or (TANDEM_SKIP_POSTGRES=1) WARNs and returns nullptr so
// that the test returns early. Call from the test's own thread.
PostgresServer* postgres_or_skip();

}  // namespace tandem::test
