// Shared test helpers: temporary directories, a manual clock, store opening.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "cli_runner.hpp"
#include "tandem/core/hlc.hpp"
#include "tandem/core/store.hpp"

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

// Copies every change of `from` into `to` (apply); returns how many applied.
int exchange(Store& from, Store& to);

// The bytes of a file ("" when it cannot be read), e.g. to prove that erased
// text is in neither a database nor its WAL.
std::string file_bytes(const std::string& path);

}  // namespace tandem::test
