// Unpredictable random bits from the operating system, buffered: record ids
// and site ids must not be guessable by another device (a device that could
// predict an id could probe for, or take, another school's record). One
// system call fills kPoolBytes.
// Thread-safety: an instance is used by one thread at a time (the Store's).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace tandem::detail {

class SecureRandom {
 public:
  std::uint64_t next();

 private:
  static constexpr std::size_t kPoolBytes = 512;
  void refill();
  std::array<unsigned char, kPoolBytes> pool_{};
  std::size_t used_ = kPoolBytes;
};

}  // namespace tandem::detail
