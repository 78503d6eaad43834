#include "postgres_server.hpp"

#include <libpq-fe.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "postgres_process.hpp"

namespace tandem::test {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

// How many ports to try when another process took the one chosen.
constexpr int kPortAttempts = 5;

// Appended to postgresql.conf. The port is given on pg_ctl's command line.
std::string server_settings(const std::string& socket_dir) {
  return "\n# Written by the Tandem test harness (tests/support/postgres_server.cpp).\n"
         "listen_addresses = '127.0.0.1'\n"
         "unix_socket_directories = '" +
         socket_dir +
         "'\n"
         "max_connections = 200\n"
         "shared_buffers = 32MB\n"
         "# Durability stays on: the crash tests depend on it.\n"
         "fsync = on\n"
         "synchronous_commit = on\n"
         "full_page_writes = on\n"
         "# Before crash recovery: one syncfs() of the file system, not an fsync of\n"
         "# each of the folder's ~1,000 files (5 s here), just as durable.\n"
         "recovery_init_sync_method = syncfs\n"
         "timezone = 'UTC'\n"
         "log_timezone = 'UTC'\n"
         "logging_collector = off\n"
         "log_line_prefix = '%m [%p] '\n";
}

std::size_t size_of_file(const std::string& path) {
  std::error_code ec;
  const auto n = fs::file_size(path, ec);
  return ec ? 0 : static_cast<std::size_t>(n);
}

// What a file gained past `from` bytes.
std::string file_since(const std::string& path, std::size_t from) {
  const std::size_t size = size_of_file(path);
  return size > from ? pg::file_tail(path, size - from) : std::string();
}

void ignore_notice(void* /*arg*/, const char* /*message*/) {}

struct SharedServer {
  std::once_flag once;
  std::unique_ptr<PostgresServer> server;
  std::string error;
};

SharedServer& shared_state() {
  static SharedServer state;
  return state;
}

}  // namespace

PostgresServer* PostgresServer::shared() {
  SharedServer& s = shared_state();
  std::call_once(s.once, [&s] { s.server = start(&s.error); });
  return s.server.get();
}

const std::string& PostgresServer::shared_error() {
  shared();
  return shared_state().error;
}

std::unique_ptr<PostgresServer> PostgresServer::start(std::string* error,
                                                      const std::string& bindir) {
  std::unique_ptr<PostgresServer> server(new PostgresServer());
  server->bindir_ = pg::find_bindir(bindir, error);
  if (server->bindir_.empty()) return nullptr;
  pg::ServerUser user;
  if (!pg::server_user(&user, error)) return nullptr;
  const std::string base = pg::base_folder(user, error);
  if (base.empty()) return nullptr;
  pg::reap_orphans(base);

  // From here on the destructor stops what runs and removes the folder.
  server->root_ = pg::make_folder(user, base, error);
  if (server->root_.empty()) return nullptr;
  server->owner_pid_ = ::getpid();
  server->data_ = server->root_ + "/data";
  server->log_ = server->root_ + "/server.log";
  const std::string sock = server->socket_dir();
  if (::mkdir(sock.c_str(), 0700) != 0 ||
      (user.switch_user && ::chown(sock.c_str(), user.uid, user.gid) != 0)) {
    *error = "cannot make " + sock + ": " + std::strerror(errno);
    return nullptr;
  }
  if (!pg::init_cluster(user, server->bindir_, base, server->data_, error)) return nullptr;
  std::ofstream(server->data_ + "/postgresql.conf", std::ios::app) << server_settings(sock);
  if (!server->start_server(true, error)) return nullptr;
  return server;
}

PostgresServer::~PostgresServer() {
  // A forked child of the test process that exits normally runs this too:
  // only the process that started the server stops it.
  if (root_.empty() || ::getpid() != owner_pid_) return;
  stop_server();
  std::error_code ec;
  fs::remove_all(root_, ec);
}

bool PostgresServer::start_server(bool new_port_on_conflict, std::string* error) {
  pg::ServerUser user;
  if (!pg::server_user(&user, error)) return false;
  const auto deadline = SteadyClock::now() + pg::kWait;
  int port_attempts = 0;
  if (port_ == 0) port_ = pg::free_loopback_port();
  for (;;) {
    const std::size_t log_from = size_of_file(log_);
    const ProcessResult r =
        pg::run_as(user, bindir_ + "/pg_ctl",
                   {"-D", data_, "-l", log_, "-w", "-t", std::to_string(pg::kWait.count()), "-s",
                    "-o", "-p " + std::to_string(port_), "start"});
    if (r.exit_code == 0) return true;
    const std::string log = file_since(log_, log_from);
    if (new_port_on_conflict && ++port_attempts < kPortAttempts &&
        log.find("Address already in use") != std::string::npos) {
      port_ = pg::free_loopback_port();
      continue;
    }
    // Right after a crash: the old lock file or shared memory may linger a moment.
    const bool lingering = log.find("lock file") != std::string::npos ||
                           log.find("shared memory block") != std::string::npos;
    if (lingering && SteadyClock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    *error = "pg_ctl start failed (exit " + std::to_string(r.exit_code) + ", port " +
             std::to_string(port_) + "): " + r.err + r.out + "\nserver log (" + log_ + "):\n" +
             log_tail();
    return false;
  }
}

bool PostgresServer::stop_server() {
  if (pg::postmaster_of(data_) < 0) return true;
  pg::ServerUser user;
  std::string error;
  // Immediate: the folder is removed next, and a fast stop's shutdown
  // checkpoint would first fsync every file written (about 1 s for each
  // database created).
  if (pg::server_user(&user, &error) &&
      pg::run_as(user, bindir_ + "/pg_ctl",
                 {"-D", data_, "-m", "immediate", "-w", "-t", std::to_string(pg::kWait.count()),
                  "-s", "stop"})
              .exit_code == 0) {
    return true;
  }
  return pg::kill_postmaster_tree(data_, &error);
}

std::string PostgresServer::admin_exec(const std::string& sql) {
  // The socket folder, no TCP: the superuser's maintenance connection.
  const std::string conninfo =
      "host=" + socket_dir() + " port=" + std::to_string(port_) +
      " user=tandem dbname=postgres sslmode=disable connect_timeout=" +
      std::to_string(pg::kWait.count()) +
      " options='-c statement_timeout=" + std::to_string(pg::kWait.count() * 1000) + "'";
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = std::string("cannot connect: ") + PQerrorMessage(conn);
  } else {
    PQsetNoticeProcessor(conn, ignore_notice, nullptr);
    PGresult* res = PQexec(conn, sql.c_str());
    if (PQresultStatus(res) != PGRES_COMMAND_OK) error = PQerrorMessage(conn);
    PQclear(res);
  }
  PQfinish(conn);
  return error;
}

std::string PostgresServer::create_database() {
  std::lock_guard lock(mu_);
  const std::string name = "tandem_" + std::to_string(++next_db_);
  const std::string error = admin_exec("CREATE DATABASE " + name);
  if (!error.empty()) {
    throw std::runtime_error("PostgreSQL: cannot create database " + name + ": " + error +
                             "\nserver log (" + log_ + "):\n" + log_tail());
  }
  return url(name);
}

bool PostgresServer::drop_database(const std::string& name_or_url) {
  const std::string name = database_name(name_or_url);
  const bool plain =
      !name.empty() &&
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
  std::lock_guard lock(mu_);
  if (!plain) {
    last_error_ = "not a database name of the harness: '" + name + "'";
    return false;
  }
  last_error_ = admin_exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
  return last_error_.empty();
}

std::string PostgresServer::url(const std::string& db) const {
  return "postgresql://tandem@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

std::string PostgresServer::database_name(const std::string& url) {
  if (url.find("://") == std::string::npos) return url;
  const auto slash = url.rfind('/');
  return url.substr(slash + 1, url.find('?', slash) - slash - 1);
}

pid_t PostgresServer::postmaster_pid() const { return pg::postmaster_of(data_); }

bool PostgresServer::kill_hard() {
  last_error_.clear();
  return pg::kill_postmaster_tree(data_, &last_error_);
}

bool PostgresServer::restart() {
  last_error_.clear();
  return start_server(false, &last_error_);
}

std::string PostgresServer::log_tail(std::size_t bytes) const { return pg::file_tail(log_, bytes); }

PostgresServer* postgres_or_skip() {
  PostgresServer* server = PostgresServer::shared();
  if (server != nullptr) return server;
  const char* skip = std::getenv("TANDEM_SKIP_POSTGRES");
  if (skip != nullptr && std::string(skip) == "1") {
    WARN("PostgreSQL test skipped (TANDEM_SKIP_POSTGRES=1): " << PostgresServer::shared_error());
    return nullptr;
  }
  FAIL("no PostgreSQL for the tests: " << PostgresServer::shared_error()
                                       << " (TANDEM_SKIP_POSTGRES=1 skips these tests)");
  return nullptr;
}

}  // namespace tandem::test
