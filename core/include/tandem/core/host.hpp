// Host: everything the core asks of the platform it runs on, passed to
// Store::open (LevelDB's Env is the model). An app on iOS or Android, the
// CLI, the server and the tests each give their own; nothing in the core
// reaches the platform another way, and the core keeps no global state and
// starts no threads.
//
//   clock   wall time (Unix ms). The Store wraps it in its own skew-corrected
//           clock (skew_clock.hpp): the offset to server time the sync engine
//           learned is kept in the file and applied from the moment the file
//           is opened, so every host stamps with the corrected time.
//   keys    secrets by name (device keys; issue 15's database keys): iOS
//           Keychain, Android Keystore, a 0600 file on the desktop.
//   log     diagnostics (never children's data: messages name records by id
//           and say what happened, not what was written).
//   files   the file layer: the SQLite VFS the Store opens its file through
//           (a registered name; "" = SQLite's default) and file removal.
//   random  cryptographically strong bytes (site ids, record ids, jitter).
//   zone    the host's time zone for times shown and entered (stored UTC).
//
// Every member may be null: the core's default is used (the system clock, no
// key store, no log, SQLite's default VFS, the OS's CSPRNG, Europe/Copenhagen).
// Everything a Host points to must outlive the Stores opened with it.
// HostForwarder forwards every call to another Host: tests derive from it and
// override one call to inject a fault (a failing key store, a clock that
// jumps, a file layer that loses writes).
//
// Thread-safety: the core calls a Host from the thread using the Store; a
// Host shared by Stores used on several threads must be thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/error.hpp"
#include "tandem/core/hlc.hpp"

namespace tandem {

class TimeZone;  // local_time.hpp

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  // The secret stored under `name`; nullopt when there is none.
  virtual Result<std::optional<std::string>> get(std::string_view name) = 0;
  // Stores (replaces) the secret under `name`, durably.
  virtual Status put(std::string_view name, std::string_view secret) = 0;
  // Removes it; removing a missing name is not an error.
  virtual Status erase(std::string_view name) = 0;
};

enum class LogLevel { kDebug, kInfo, kWarning, kError };

class LogSink {
 public:
  virtual ~LogSink() = default;
  // `component`: "store", "sync", ...; `message`: one line, no personal data.
  virtual void log(LogLevel level, std::string_view component, std::string_view message) = 0;
};

class FileLayer {
 public:
  virtual ~FileLayer() = default;
  // The registered SQLite VFS the Store opens its file with ("" = default).
  virtual std::string sqlite_vfs() const = 0;
  // Removes a file; a missing file is not an error.
  virtual Status remove_file(const std::string& path) = 0;
};

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out` with cryptographically strong random bytes.
  virtual void fill(unsigned char* out, std::size_t n) = 0;
};

struct Host {
  Clock* clock = nullptr;
  KeyStore* keys = nullptr;
  LogSink* log = nullptr;
  FileLayer* files = nullptr;
  RandomSource* random = nullptr;
  const TimeZone* zone = nullptr;
};

// The core's defaults, as objects (stateless; what a null member means).
Clock& default_clock();
FileLayer& default_file_layer();    // SQLite's default VFS, std::remove
RandomSource& default_random();     // getrandom / arc4random
// `host` with the clock, file layer, random source and zone defaulted when
// null (keys and log stay null: no key store, no log).
Host resolved(const Host& host);

// Sends one line to host.log when there is one.
void log_to(const Host& host, LogLevel level, std::string_view component, std::string_view message);

// Forwards every call to `target` (resolved: nulls become defaults). Derive
// and override what a test needs to break; host() gives the Host to pass.
class HostForwarder : public Clock, public KeyStore, public LogSink, public FileLayer, public RandomSource {
 public:
  explicit HostForwarder(const Host& target);
  Host host();

  std::int64_t now_ms() override;
  Result<std::optional<std::string>> get(std::string_view name) override;
  Status put(std::string_view name, std::string_view secret) override;
  Status erase(std::string_view name) override;
  void log(LogLevel level, std::string_view component, std::string_view message) override;
  std::string sqlite_vfs() const override;
  Status remove_file(const std::string& path) override;
  void fill(unsigned char* out, std::size_t n) override;

 protected:
  Host target_;
};

}  // namespace tandem
