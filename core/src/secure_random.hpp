// Unpredictable random bits from the operating system, buffered: record ids
// and site ids must not be guessable by another device (a device that could
// predict an id could probe for, or take, another school's record). One
// system call fills kPoolBytes.
// Thread-safety: an instance is used by one thread at a time (the Store's).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "tandem/core/host.hpp"

namespace tandem::detail {

// The OS's CSPRNG (getrandom / arc4random; std::random_device as fallback).
void os_random_fill(unsigned char* out, std::size_t n);

// 64-bit values from a pool refilled from a RandomSource (host.hpp; null:
// the OS's CSPRNG).
class SecureRandom {
 public:
  explicit SecureRandom(RandomSource* source = nullptr) : source_(source) {}
  void set_source(RandomSource* source) { source_ = source; }
  std::uint64_t next();

 private:
  static constexpr std::size_t kPoolBytes = 512;
  void refill();
  std::array<unsigned char, kPoolBytes> pool_{};
  std::size_t used_ = kPoolBytes;
  RandomSource* source_ = nullptr;
};

}  // namespace tandem::detail
