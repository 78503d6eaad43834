// Shared test helpers: temporary directories, a manual clock, store opening.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "cli_runner.hpp"
#include "tandem/core/encryption.hpp"
#include "tandem/core/hlc.hpp"
#include "tandem/core/host.hpp"
#include "tandem/core/store.hpp"

struct sqlite3;

namespace tandem::test {

// TempDir (a temporary directory removed on destruction) lives in cli_runner.hpp.

// A wall clock the test moves by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_ms = 1'790'000'000'000) : now_(start_ms) {}
  std::int64_t now_ms() override { return now_.load(); }
  void advance(std::int64_t ms) { now_ += ms; }
  void set(std::int64_t ms) { now_ = ms; }

 private:
  std::atomic<std::int64_t> now_;
};

// Opens (creating) a store or fails the test.
std::unique_ptr<Store> open_store(const std::string& path, Clock* clock = nullptr);

// A store with a school set as default; returns the school id via out.
std::unique_ptr<Store> open_store_with_school(const std::string& path, std::string& school_id,
                                              Clock* clock = nullptr);

// Creates a record (Store::create) and returns its id, or fails the test
// with the store's message.
std::string make_record(Store& store, std::string_view kind, const Json& fields);

// Copies every change of `from` into `to` (apply); returns how many applied.
int exchange(Store& from, Store& to);

// The bytes of a file ("" when it cannot be read), e.g. to prove that erased
// text is in neither a database nor its WAL.
std::string file_bytes(const std::string& path);

// An in-memory key store (thread-safe), for tests' encrypted databases.
class MemoryKeyStore final : public KeyStore {
 public:
  Result<std::optional<std::string>> get(std::string_view name) override;
  Status put(std::string_view name, std::string_view secret) override;
  Status erase(std::string_view name) override;
  std::size_t size();

 private:
  std::mutex mu_;
  std::map<std::string, std::string, std::less<>> keys_;
};

// The process's test key store: tablets in the e2e tests are encrypted with
// it. Kept in memory and mirrored in the CLI's key folder (TANDEM_KEY_DIR,
// which ctest sets to the build's test-keys/): a database the `tandem` CLI
// made opens in-process, and the CLI opens one a test made.
KeyStore& test_keys();
// A Host with test_keys() (and `clock` when given).
Host encrypted_host(Clock* clock = nullptr);

// How often `text` occurs in the database at `path`, its WAL and journal, as
// bytes on disk and, when the files are encrypted (keys in test_keys()),
// decrypted: what `tandem debug scan` counts. For proving erased data gone.
std::size_t occurrences(const std::string& path, const std::string& text);

// A tablet database (the CLI's or a test's, encrypted or plain) opened for
// SQL as a test reads it: through a Store with test_keys() that neither
// encrypts nor migrates a plain file. db() is its connection.
class TabletSql {
 public:
  explicit TabletSql(const std::string& path);
  sqlite3* db() const;
  // The first column of the first row as an integer; -1 on any error.
  long long scalar(const std::string& sql) const;
  // Runs statements; "" or SQLite's message.
  std::string exec(const std::string& sql) const;

 private:
  std::unique_ptr<Store> store_;
};

}  // namespace tandem::test
