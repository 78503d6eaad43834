// Which store the tests' tandem-server processes use. SQLite (--data DIR)
// unless TANDEM_TEST_STORE=postgresql: then every data folder gets a fresh
// database of the process's private PostgreSQL (postgres_server.hpp), named
// in DIR/pg-store-url so that the server and every admin command on that
// folder use the same one, and passed as --store (the folder still holds
// the erasure log and the instance's record cache).
//
// The e2e and fault suites run twice in ctest: as they are, and with
// TANDEM_TEST_STORE=postgresql (labels e2e-pg, fault-pg).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tandem::test {

// True when this process runs its servers on PostgreSQL.
bool testing_postgres();

// The PostgreSQL URL a data folder is served from ("" when it is served
// from its SQLite file): written by store_args, or by a test that points
// several folders (several instances) at one database.
std::string store_url(const std::string& data_dir);
void set_store_url(const std::string& data_dir, const std::string& url);

// One row of a school's sequence as stored (server_changes).
struct StoredRow {
  std::int64_t seq = 0;
  std::string hlc;
};
// Every row of `school`'s sequence by seq, read from the folder's store (the
// SQLite file, or the PostgreSQL database it names) with no server running
// in between: what was durably committed.
std::vector<StoredRow> stored_sequence(const std::string& data_dir, const std::string& school);

// The store arguments for a server or an admin command on `data_dir`:
// {"--data", DIR} or {"--data", DIR, "--store", URL}.
std::vector<std::string> store_args(const std::string& data_dir);
// store_args(data_dir) followed by `args`.
std::vector<std::string> store_args(const std::string& data_dir, std::vector<std::string> args);

}  // namespace tandem::test
