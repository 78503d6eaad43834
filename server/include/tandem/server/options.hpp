// Configuration of one tandem-server process, filled from the command line
// (server/src/main.cpp). Plain data; copy freely.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <thread>

#include "tandem/core/error.hpp"
#include "tandem/server/limits.hpp"
#include "tandem/server/storage.hpp"

namespace tandem::server {

struct Timeouts {
  std::chrono::milliseconds header = kHeaderTimeout;
  std::chrono::milliseconds body = kBodyTimeout;
  std::chrono::milliseconds idle = kIdleTimeout;
  std::chrono::milliseconds write = kWriteTimeout;
  std::chrono::milliseconds request = kRequestTimeout;  // a whole request, see limits.hpp
  std::chrono::milliseconds drain = kDrainTimeout;
};

struct ServerOptions {
  std::string data_dir;            // holds tandem-server.db
  // --store postgresql://...: the PostgreSQL backend instead of the SQLite
  // file in data_dir (then data_dir is optional: the erasure log and the
  // record cache go there when given).
  std::string store;
  std::string host = "127.0.0.1";  // address to bind (IPv4 or IPv6 literal)
  std::uint16_t port = 8080;       // 0: any free port (printed at startup)
  unsigned io_threads = 0;         // 0: one per core but one (at least 1)
  // Threads for requests that wait for their own commit (enrollment);
  // 0: kBlockingThreadsPerCore per core.
  unsigned worker_threads = 0;
  std::int64_t max_skew_ms = sync::kDefaultMaxSkewMs;
  std::int64_t now_offset_ms = 0;  // added to the wall clock (tests, clock drills)
  std::size_t max_connections = kMaxConnections;
  Timeouts timeouts;
  bool access_log = true;  // one line per request on stderr
  // The leaders' session cookie gets the Secure attribute (browsers send it
  // over HTTPS only): set it when a TLS proxy is in front of the server.
  bool secure_cookies = false;
  // Serve HTTPS with this PEM certificate chain (leaf first) and PEM private
  // key (both or neither; see server/src/tls_context.hpp for what is
  // offered). Over TLS the session cookie is Secure in any case.
  // Encryption at rest (--db-key FILE): the master key file of the sealed
  // database keys (server/src/sealed_key_store.hpp); empty: plain.
  std::string db_key_file;
  // The erasure log (backup.hpp); empty: erasure_log_path(data_dir).
  std::string erasure_log;
  std::string tls_cert_file;
  std::string tls_key_file;
  // Audit entries older than this are deleted at start and once a day
  // (kAuditPruneInterval); 0 keeps them all. See kDefaultAuditRetentionDays.
  std::int64_t audit_retention_days = kDefaultAuditRetentionDays;
};

// Network threads when ServerOptions::io_threads is 0: one per core but one,
// which the storage's commit thread needs while devices push (measured with
// bench_server_rps on 2 cores: one network thread gave more syncs/s, pushing
// or not, than two). The benchmark's bare endpoint uses it too.
inline unsigned default_io_threads() {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return cores > 1 ? cores - 1 : 1;
}

// The database file inside a data directory.
std::string database_path(const std::string& data_dir);

// Opens the storage `options` name: PostgreSQL for --store postgresql://...,
// else the SQLite file in data_dir (encrypted with --db-key). The one place
// that decides, for serving and for every admin subcommand.
// `warnings`: where what an operator should fix is told (serving); none: not.
Result<std::unique_ptr<ServerStorage>> open_server_storage(const ServerOptions& options, Clock& clock,
                                                           std::ostream* warnings = nullptr);

struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
};

// "HOST:PORT", "[v6]:PORT" or ":PORT" (loopback). kInvalidArgument otherwise.
Result<ListenAddress> parse_listen_address(const std::string& text);

}  // namespace tandem::server
