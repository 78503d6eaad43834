#include "cli_runner.hpp"
#include "test_util.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX name

namespace tandem::test {
namespace {

using Clock = std::chrono::steady_clock;

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Reads what is available from fd into out; closes fd at end of file.
void drain(int& fd, std::string& out) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) close_fd(fd);
    if (n < 0 && errno == EINTR) continue;
    return;  // EAGAIN: nothing more for now; other errors: give up on this pipe
  }
}

std::vector<std::string> merged_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  const auto name_of = [](const std::string& s) { return s.substr(0, s.find('=')); };
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    bool replaced = false;
    for (const std::string& x : extra) replaced = replaced || name_of(x) == name_of(entry);
    if (!replaced) env.push_back(entry);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (std::string& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::unique_ptr<ChildProcess> ChildProcess::start(const std::string& program,
                                                  const std::vector<std::string>& args,
                                                  const RunOptions& options, std::string* error) {
  // A child that exits before reading its stdin must not kill the test.
  ::signal(SIGPIPE, SIG_IGN);
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  const auto fail = [&](const std::string& why) -> std::unique_ptr<ChildProcess> {
    for (int* p : {in, out, err}) {
      close_fd(p[0]);
      close_fd(p[1]);
    }
    if (error != nullptr) *error = why;
    return nullptr;
  };
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    return fail(std::string("pipe2: ") + std::strerror(errno));
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);

  std::vector<std::string> argv_strings;
  argv_strings.push_back(program);
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings = merged_environment(options.env);
  std::vector<char*> argv = c_strings(argv_strings);
  std::vector<char*> envp = c_strings(env_strings);

  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return fail("cannot start '" + program + "': " + std::strerror(rc));

  std::unique_ptr<ChildProcess> child(new ChildProcess());
  child->pid_ = pid;
  close_fd(in[0]);
  close_fd(out[1]);
  close_fd(err[1]);
  child->in_fd_ = in[1];
  child->out_fd_ = out[0];
  child->err_fd_ = err[0];
  for (int fd : {child->in_fd_, child->out_fd_, child->err_fd_}) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
  child->stdin_data_ = options.stdin_data;
  child->feed_stdin();
  return child;
}

ChildProcess::~ChildProcess() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  close_fd(in_fd_);
  close_fd(out_fd_);
  close_fd(err_fd_);
}

void ChildProcess::feed_stdin() {
  while (in_fd_ >= 0 && stdin_written_ < stdin_data_.size()) {
    const ssize_t n =
        ::write(in_fd_, stdin_data_.data() + stdin_written_, stdin_data_.size() - stdin_written_);
    if (n > 0) {
      stdin_written_ += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return;  // pipe full; pump() continues later
    } else {
      break;  // EPIPE: the child closed its stdin
    }
  }
  close_fd(in_fd_);
}

bool ChildProcess::pump(std::chrono::milliseconds wait) {
  pollfd fds[3];
  nfds_t n = 0;
  if (out_fd_ >= 0) fds[n++] = {out_fd_, POLLIN, 0};
  if (err_fd_ >= 0) fds[n++] = {err_fd_, POLLIN, 0};
  if (in_fd_ >= 0) fds[n++] = {in_fd_, POLLOUT, 0};
  if (n == 0) return false;
  const int ready = ::poll(fds, n, static_cast<int>(wait.count()));
  if (ready > 0) {
    if (out_fd_ >= 0) drain(out_fd_, out_);
    if (err_fd_ >= 0) drain(err_fd_, err_);
    if (in_fd_ >= 0) feed_stdin();
  }
  return out_fd_ >= 0 || err_fd_ >= 0;
}

bool ChildProcess::kill(int signal) {
  if (reaped_ || pid_ <= 0) return false;
  return ::kill(pid_, signal) == 0;
}

ProcessResult ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (reaped_) return result_;
  const auto deadline = Clock::now() + timeout;
  bool timed_out = false;
  while (out_fd_ >= 0 || err_fd_ >= 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 && !timed_out) {
      timed_out = true;
      ::kill(pid_, SIGKILL);
    }
    pump(std::chrono::milliseconds(timed_out ? 100 : std::min<long>(left.count(), 100)));
  }
  close_fd(in_fd_);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  result_.timed_out = timed_out;
  result_.out = out_;
  result_.err = err_;
  if (WIFEXITED(status)) {
    result_.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result_.term_signal = WTERMSIG(status);
  }
  return result_;
}

ProcessResult run_process(const std::string& program, const std::vector<std::string>& args,
                          const RunOptions& options) {
  std::string error;
  auto child = ChildProcess::start(program, args, options, &error);
  if (!child) {
    ProcessResult r;
    r.exit_code = 127;
    r.err = error;
    return r;
  }
  return child->wait(options.timeout);
}

ProcessResult run_cli(const std::vector<std::string>& args, const RunOptions& options) {
  const std::string cli = TANDEM_CLI_PATH;
  if (cli.empty()) {
    ProcessResult r;
    r.exit_code = 127;
    r.err = "the tandem CLI is not part of this build (TANDEM_CLI_PATH is empty)";
    return r;
  }
  return run_process(cli, args, options);
}

ProcessResult run_cli_json_at(const std::string& faketime, const std::string& db,
                              const std::vector<std::string>& args) {
  std::vector<std::string> full = {"--db", db, "--json"};
  full.insert(full.end(), args.begin(), args.end());
  return run_cli_at(faketime, full);
}

ProcessResult run_cli_at(const std::string& faketime, const std::vector<std::string>& args) {
  if (faketime.empty()) return run_cli(args);
  RunOptions options;
  // Monotonic time stays real (timeouts); ASan's link-order check would
  // refuse the preloaded libfaketime.
  options.env = {"FAKETIME_DONT_FAKE_MONOTONIC=1", "ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0"};
  std::vector<std::string> wrapped = {"-f", faketime, TANDEM_CLI_PATH};
  wrapped.insert(wrapped.end(), args.begin(), args.end());
  return run_process("/usr/bin/faketime", wrapped, options);
}

TempDir::TempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/tandem-test-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ProcessResult CliDb::run(const std::vector<std::string>& args, const RunOptions& options) const {
  std::vector<std::string> all = {"--db", path_};
  all.insert(all.end(), args.begin(), args.end());
  return run_cli(all, options);
}

ProcessResult CliDb::run_json(const std::vector<std::string>& args,
                              const RunOptions& options) const {
  std::vector<std::string> all = {"--db", path_, "--json"};
  all.insert(all.end(), args.begin(), args.end());
  return run_cli(all, options);
}

long long CliDb::count_rows(const std::string& table) const {
  // Through a Store: the CLI's databases are encrypted. -1: no file (never
  // created by looking).
  if (::access(path_.c_str(), F_OK) != 0) return -1;
  return TabletSql(path_).scalar("SELECT count(*) FROM \"" + table + "\"");
}

}  // namespace tandem::test
