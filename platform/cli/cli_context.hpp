// CliContext: what every `tandem` command shares — the global options, the
// lazily opened Store, and the one place that prints results and errors.
//
// Output contract (scripts and tests rely on it):
//   * default: human-readable text on stdout (Danish labels), errors on stderr;
//   * --json: machine-readable JSON ONLY on stdout (one document, one line);
//     an error is {"error":{"code":"<error_code_name>","message":"..."}}.
//   * a command that succeeded but has something the user must know (a note
//     about a child no consent lets its forum see) prints it on stderr, or
//     with --json as a "notice" member {"code": ..., "message": ...} of its
//     document; the exit code stays kExitOk.
//   * exit codes: kExitOk (0), kExitFailure (1: the store or validation said
//     no), kExitUsage (2: the command line itself is wrong).
// Nothing here logs record contents: the CLI prints only what the user asked
// to see (children's data must never end up in logs).
//
// Thread-safety: single-threaded, like the CLI.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tandem/core/error.hpp"
#include "tandem/core/local_time.hpp"
#include "tandem/core/store.hpp"
#include "tandem/platform/file_key_store.hpp"

namespace tandem::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

class CliContext {
 public:
  CliContext() = default;
  CliContext(const CliContext&) = delete;
  CliContext& operator=(const CliContext&) = delete;

  // Global options, bound by main() to --db / --json / --tz.
  std::string db_path;
  bool json = false;
  // Times typed without an offset are local time in this zone, and times are
  // shown in it ("UTC" or "Europe/Copenhagen"; stored times are UTC).
  std::string tz{copenhagen_zone().name()};
  const TimeZone& zone() const;
  // What main() returns; set by the command that ran.
  int exit_code = kExitOk;

  // The Store of --db, opened on first use and kept for the process.
  // create_if_missing=false (every command but `init`): kNotFound when the
  // file does not exist, so a typo in --db never creates a stray database.
  // REQUIRES: db_path non-empty (checked: kInvalidArgument otherwise).
  Result<Store*> store(bool create_if_missing = false);
  // A Store of --db the caller owns (enroll and sync close it before the
  // process ends), opened like store(): with this user's key store
  // (platform::FileKeyStore) in the Host, so the database is encrypted.
  // `missing_hint` ends the not-found message (which command creates it).
  Result<std::unique_ptr<Store>> open_store(bool create_if_missing, std::string_view missing_hint);
  // The Host stores are opened with: this user's key store (refused when it
  // is the database's own folder: keys must not travel with a copied folder).
  Result<Host> host();
  // Erases --db for good with this user's key store (destroy_database: its
  // key first, then its files). REQUIRES: every Store of it closed (store()'s
  // too: it is closed here).
  Status destroy_database();

  // Prints a successful result: `doc` in --json mode, `human` otherwise
  // (a newline is added when missing; empty human text prints nothing).
  // Returns kExitOk.
  int ok(const Json& doc, std::string_view human);

  // Reports a store/validation failure; returns (and records) kExitFailure.
  int fail(const Error& error);
  // Reports a usage error (code invalid_argument); returns kExitUsage.
  int usage(std::string message);
  // Reports an error with an explicit exit code (used by main for parse errors).
  int report(const Error& error, int exit_code);

  // Prints raw text to stdout exactly as given (dump).
  void write_raw(std::string_view text);

  // A notice the user should read although the command succeeded (e.g. a
  // note that stays with its author for want of consent): printed on stderr
  // without --json; with --json the command puts it in its document instead.
  void notice(std::string_view text);

  // Now on the clock local stamps use (corrected by the offset learned from
  // the server), Unix ms. REQUIRES: store() succeeded.
  std::int64_t now_ms();

 private:
  // Its clock is corrected by the offset learned from the server.
  std::unique_ptr<Store> store_;
  // This user's key store (opened on first use; outlives the Stores).
  std::optional<platform::FileKeyStore> keys_;
};

// JSON text for output: UTF-8 kept as is, invalid bytes replaced (never throws).
std::string json_text(const Json& doc, int indent = -1);

}  // namespace tandem::cli
