#include "fuzz_support.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace tandem::fuzz {

namespace fs = std::filesystem;

void check(bool ok, std::string_view what, std::string_view detail) {
  if (ok) return;
  std::fprintf(stderr, "FUZZ INVARIANT BROKEN: %.*s%s%.*s\n", static_cast<int>(what.size()),
               what.data(), detail.empty() ? "" : ": ", static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

void trace(std::string_view what) {
  static const bool verbose = std::getenv("TANDEM_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "%.*s\n", static_cast<int>(what.size()), what.data());
}

namespace {

constexpr std::string_view kPrefix = "tandem-fuzz-";

// A fuzzer that finds something exits without destructors: its directories
// (named tandem-fuzz-<pid>-...) are removed by the next run once that
// process is gone.
void remove_stale(const std::string& base) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(base, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.compare(0, kPrefix.size(), kPrefix) != 0) continue;
    const long pid = std::strtol(name.c_str() + kPrefix.size(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      fs::remove_all(entry.path(), ec);
    }
  }
}

}  // namespace

TempDir::TempDir(std::string_view label) {
  std::error_code ec;
  std::string base = "/dev/shm";
  if (!fs::is_directory(base, ec) || ::access(base.c_str(), W_OK) != 0) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp && *tmp ? tmp : "/tmp";
  }
  remove_stale(base);
  std::string pattern = base + "/" + std::string(kPrefix) + std::to_string(::getpid()) + "-" +
                        std::string(label) + "-XXXXXX";
  check(::mkdtemp(pattern.data()) != nullptr, "cannot create a temporary directory", pattern);
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void TempDir::clear() const {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(path_, ec)) fs::remove_all(entry.path(), ec);
}

void TempDir::copy_from(const TempDir& from) const {
  clear();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(from.path(), ec)) {
    fs::copy_file(entry.path(), fs::path(path_) / entry.path().filename(), ec);
    check(!ec, "cannot copy the fixture", ec.message());
  }
  check(!ec, "cannot list the fixture", ec.message());
}

}  // namespace tandem::fuzz
