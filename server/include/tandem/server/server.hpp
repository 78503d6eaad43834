// tandem-server's serving mode: opens the storage in the data directory,
// listens, prints "listening on HOST:PORT" on `out` once bound (port 0 picks a
// free port), and serves /v1 until SIGTERM or SIGINT. Then it stops
// accepting, lets in-flight requests finish (at most Timeouts::drain), and
// returns 0. A second signal stops at once.
//
// Threads: `io_threads` run the network (one io_context) and answer requests
// (JSON, authentication, pulls); the storage's commit thread runs pushes;
// `worker_threads` run requests that wait for their own commit (enrollment).
// Nothing here throws to the caller.
#pragma once

#include <ostream>

#include "tandem/server/options.hpp"

namespace tandem::server {

// Returns the process exit code (0 after a clean shutdown, 1 when the
// storage cannot be opened or the address cannot be bound).
int run_server(const ServerOptions& options, std::ostream& out, std::ostream& err);

}  // namespace tandem::server
