// Shared test helpers: temporary directories, a manual clock, store opening.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "tandem/core/hlc.hpp"
#include "tandem/core/store.hpp"

namespace tandem::test {

// A directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

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

// Copies every change of `from` into `to` (apply); returns how many applied.
int exchange(Store& from, Store& to);

}  // namespace tandem::test
