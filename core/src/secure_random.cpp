#include "secure_random.hpp"

#include <cstring>
#include <random>

#if defined(__APPLE__) || defined(__ANDROID__) || defined(__OpenBSD__) || defined(__FreeBSD__)
#include <stdlib.h>
#define TANDEM_HAVE_ARC4RANDOM 1
#elif defined(__linux__)
#include <sys/random.h>
#define TANDEM_HAVE_GETRANDOM 1
#endif

namespace tandem::detail {

void os_random_fill(unsigned char* out, std::size_t size) {
#if defined(TANDEM_HAVE_ARC4RANDOM)
  arc4random_buf(out, size);
#else
  std::size_t filled = 0;
#if defined(TANDEM_HAVE_GETRANDOM)
  while (filled < size) {
    const ssize_t n = getrandom(out + filled, size - filled, 0);
    if (n <= 0) break;  // EINTR or no entropy source: the fallback below
    filled += static_cast<std::size_t>(n);
  }
#endif
  if (filled < size) {
    // std::random_device reads the system's entropy source too.
    std::random_device rd;
    for (; filled < size; ++filled) out[filled] = static_cast<unsigned char>(rd());
  }
#endif
}

void SecureRandom::refill() {
  if (source_ != nullptr) {
    source_->fill(pool_.data(), pool_.size());
  } else {
    os_random_fill(pool_.data(), pool_.size());
  }
  used_ = 0;
}

std::uint64_t SecureRandom::next() {
  if (used_ + sizeof(std::uint64_t) > pool_.size()) refill();
  std::uint64_t v = 0;
  std::memcpy(&v, pool_.data() + used_, sizeof v);
  // Used bits are not kept around longer than needed.
  std::memset(pool_.data() + used_, 0, sizeof v);
  used_ += sizeof v;
  return v;
}

}  // namespace tandem::detail
