// Shared by the fuzz targets (tests/fuzz/<target>.cpp) and their seed maker:
// the check that turns a broken invariant into a crash libFuzzer reports, a
// temporary directory, a fixed clock, and the fixed time every seed is
// stamped at.
//
// Every target defines LLVMFuzzerTestOneInput and, when it needs one-time
// set-up, LLVMFuzzerInitialize. With clang and TANDEM_FUZZ the libFuzzer
// runtime provides main(); in the normal (GCC) builds replay_main.cpp does:
// it runs every file of the seed corpus through the same entry point.
//
// Thread-safety: FixedClock is safe from any thread; the rest is for the
// fuzzing thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tandem/core/hlc.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace tandem::fuzz {

// Every fixture runs at this wall time and every seed is stamped near it
// (2026-09-21), so seeds stay within the server's clock-skew bound and a
// finding replays the same way on any day.
inline constexpr std::int64_t kFuzzNowMs = 1'790'000'000'000;

// A wall clock that never moves: a fuzz input must behave the same on every
// run, so no outcome may depend on the time it took.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(std::int64_t ms = kFuzzNowMs) : ms_(ms) {}
  std::int64_t now_ms() override { return ms_; }

 private:
  std::int64_t ms_;
};

// Aborts with `what` when `ok` is false: a broken invariant is a finding
// (libFuzzer saves the input; the corpus replay fails its ctest).
void check(bool ok, std::string_view what, std::string_view detail = {});

// With TANDEM_FUZZ_VERBOSE set, prints `what` on stderr (what a target saw,
// for writing seeds and reading findings); silent otherwise.
void trace(std::string_view what);

// A fresh directory, removed with everything in it on destruction. Under
// /dev/shm when it exists: the stores fsync on every commit, which costs
// nothing there, so fuzzing measures the code and not the disk.
class TempDir {
 public:
  explicit TempDir(std::string_view label);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
  // Removes every file in the directory (it stays).
  void clear() const;
  // Replaces this directory's files with copies of `from`'s.
  void copy_from(const TempDir& from) const;

 private:
  std::string path_;
};

}  // namespace tandem::fuzz
