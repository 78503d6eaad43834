// The storage conformance suite's fixture: ONE set of cases, written against
// ServerStorage (tandem/server/storage.hpp) only, run on every backend. Each
// case starts with
//
//   TANDEM_CONFORMANCE_STORE(s);
//
// which draws the backend with GENERATE (the case runs once per backend),
// names it in every assertion's message, and makes `s` a fresh, empty store
// of it; the case returns there when PostgreSQL is skipped
// (TANDEM_SKIP_POSTGRES=1).
//
// Every case is tagged [storage][conformance][both-stores]: it runs both
// backends itself, so the suite's PostgreSQL re-run (TANDEM_TEST_STORE)
// leaves it out. Where the backends may legitimately differ (stats(): the
// PostgreSQL store keeps no memory caches) the cases assert nothing.
//
// The helpers use the storage as the server does (sync_service.cpp): every
// record a push creates gets its scope row in the same transaction, the
// invariant RecordScope states ("one row per record of every school").
//
// Thread-safety: one case, one thread; the helpers wait for the commit
// thread's answer before they return.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli_runner.hpp"
#include "server_process.hpp"
#include "tandem/server/storage.hpp"

namespace tandem::test::conformance {

using server::ServerStorage;

// The preamble of every case (see above). A macro: GENERATE and INFO belong
// to the case's own scope. The backends are listed here only.
#define TANDEM_CONFORMANCE_STORE(s)                                                            \
  const std::string conformance_backend = GENERATE(as<std::string>{}, "sqlite", "postgresql"); \
  INFO("backend: " << conformance_backend);                                                    \
  auto conformance_store = ::tandem::test::conformance::FreshStore::open(conformance_backend); \
  if (!conformance_store) return;                                                              \
  ::tandem::server::ServerStorage& s = **conformance_store

// A fresh store of one backend, removed at the end of the case run.
class FreshStore {
 public:
  // "sqlite": a new file in a temporary folder. "postgresql": a new database
  // of the test process's private PostgreSQL (postgres_server.hpp), its
  // record cache in a temporary folder. nullptr when PostgreSQL is skipped;
  // a PostgreSQL that cannot start fails the case.
  static std::unique_ptr<FreshStore> open(const std::string& backend);

  ServerStorage& operator*() const { return *storage_; }
  ServerStorage* operator->() const { return storage_.get(); }

 private:
  FreshStore() = default;
  TempDir dir_;  // outlives the storage (declared first)
  std::unique_ptr<ServerStorage> storage_;
};

// A school with one resource person and `devices` enrolled devices. Device
// i's token hash is NAME-token-i.
struct School {
  std::string id;
  std::string person;
  std::vector<server::DeviceRecord> devices;
};
School make_school(ServerStorage& s, const std::string& name, int devices);

// The error code of a failed result (the case fails when it succeeded).
template <typename T>
ErrorCode failure(const Result<T>& r) {
  REQUIRE_FALSE(r);
  return r.error().code;
}

// submit_mutation, waited for: what `done` got.
Result<server::MutationOutcome> mutate(ServerStorage& s, const server::DeviceRecord& device,
                                       std::int64_t mutation_id, const std::string& digest,
                                       server::MutationFn fn);
// submit_write, waited for.
Status write(ServerStorage& s, const std::string& school, server::WriteFn fn);

// Merges `changes` inside a running push as the server does: each applied
// create gets its scope row (author: `author`). Returns their outcomes.
Result<std::vector<server::AppliedChange>> apply_all(server::PushTransaction& txn,
                                                     const std::vector<Change>& changes,
                                                     const std::string& author = "");
// One committed push of `changes` (REQUIREs kCommitted); their outcomes.
std::vector<server::AppliedChange> push(ServerStorage& s, const server::DeviceRecord& device,
                                        std::int64_t mutation_id,
                                        const std::vector<Change>& changes);

// read_changes, REQUIREd to succeed, with the bounds every page keeps
// checked (at most `limit` rows, at most `max_bytes` unless one row).
server::ChangePage read(ServerStorage& s, const std::string& school, std::int64_t after_seq,
                        std::size_t limit, std::size_t max_bytes = SIZE_MAX,
                        const std::string& skip_origin = "dev_none");
std::vector<std::int64_t> seqs(const server::ChangePage& page);
// 1, 2, ..., n.
std::vector<std::int64_t> dense(std::int64_t n);

// The ids of `records`, sorted.
std::vector<std::string> ids_of(const std::vector<Record>& records);

}  // namespace tandem::test::conformance
