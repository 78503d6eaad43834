// Running programs from tests: spawn with an argument vector (never a shell),
// capture stdout, stderr and the exit status.
//
//   auto r = tandem::test::run_process(TANDEM_CLI_PATH, {"--db", db, "--json", "list", "course"});
//   REQUIRE(r.exit_code == 0);
//
// ChildProcess keeps a running child for tests that interact with it (read
// its output as it comes, kill it at a chosen moment). Arguments are passed
// as raw bytes, so tests can give invalid UTF-8.
//
// Thread-safety: none; use from one thread. Pipes are close-on-exec, so
// concurrent children do not inherit each other's ends.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace tandem::test {

struct ProcessResult {
  int exit_code = -1;      // exit status when the process exited, else -1
  int term_signal = 0;     // the signal that ended it, 0 if it exited
  bool timed_out = false;  // killed by run_process after the timeout
  std::string out;         // everything written to stdout
  std::string err;         // everything written to stderr
};

struct RunOptions {
  std::string stdin_data;        // written to the child's stdin, then closed
  std::vector<std::string> env;  // "NAME=VALUE" added to (or replacing in) the environment
  std::chrono::milliseconds timeout{120000};  // SIGKILL after this long
};

// Runs `program` with `args` (argv[0] is the program path) to completion.
// A failure to start is reported as exit_code 127 with the reason in `err`.
ProcessResult run_process(const std::string& program, const std::vector<std::string>& args,
                          const RunOptions& options = {});

// Runs the `tandem` CLI built with the tests (TANDEM_CLI_PATH).
ProcessResult run_cli(const std::vector<std::string>& args, const RunOptions& options = {});
// The same under Debian's faketime with SPEC ("+8d", "-3650d", an absolute
// "@2030-01-01 10:00:00"; "" runs it plainly): the wall clock moved, the
// monotonic clock real.
ProcessResult run_cli_at(const std::string& faketime, const std::vector<std::string>& args);
// `tandem --db DB --json ARGS...` at `faketime` ("" = the real clock).
ProcessResult run_cli_json_at(const std::string& faketime, const std::string& db,
                              const std::vector<std::string>& args);

// A running child with piped stdin/stdout/stderr.
class ChildProcess {
 public:
  // Starts the child; nullptr (with the reason in *error) when it cannot.
  static std::unique_ptr<ChildProcess> start(const std::string& program,
                                             const std::vector<std::string>& args,
                                             const RunOptions& options, std::string* error);
  // Kills (SIGKILL) and reaps a child still running.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Reads what the child has written, waiting up to `wait` for something.
  // Returns false once both pipes reached end of file.
  bool pump(std::chrono::milliseconds wait);
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }
  // Sends a signal (e.g. SIGKILL). False when the child is already reaped.
  bool kill(int signal);
  // Reads both pipes to end of file, reaps the child and returns its status
  // with everything it wrote. `timeout`: SIGKILL the child after this long.
  ProcessResult wait(std::chrono::milliseconds timeout = std::chrono::milliseconds(120000));

 private:
  ChildProcess() = default;
  void feed_stdin();
  pid_t pid_ = -1;
  int in_fd_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string stdin_data_;
  std::size_t stdin_written_ = 0;
  std::string out_;
  std::string err_;
  bool reaped_ = false;
  ProcessResult result_;
};

// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A database in its own temporary directory, driven through the CLI.
// run()/run_json() prepend "--db PATH" (and "--json"). Nothing is created
// until a command (usually "init") creates it.
class CliDb {
 public:
  CliDb() : path_(dir_.file("tandem.db")) {}
  const std::string& path() const { return path_; }
  const TempDir& dir() const { return dir_; }
  ProcessResult run(const std::vector<std::string>& args, const RunOptions& options = {}) const;
  ProcessResult run_json(const std::vector<std::string>& args,
                         const RunOptions& options = {}) const;
  // SELECT count(*) FROM table, through a read-only SQLite connection
  // (independent of the CLI); -1 when the file or table cannot be read.
  long long count_rows(const std::string& table) const;

 private:
  TempDir dir_;
  std::string path_;
};

}  // namespace tandem::test
