#include "tandem/sync/certificate_time.hpp"

#include <algorithm>

#include "tandem/core/hlc.hpp"
#include "tandem/core/store.hpp"

namespace tandem::sync {

CertificateTime certificate_time(Store& store, bool explicit_ca) {
  const std::int64_t corrected = store.skew_clock().now_ms();
  auto stamp = store.meta(kMetaServerStamp);
  auto offset = store.meta(kMetaClockOffset);
  const bool heard_from_server = (stamp && *stamp) || (offset && *offset);
  if (!heard_from_server) {
    if (explicit_ca) return {CertificateTime::Mode::kUnchecked, 0};
    return {CertificateTime::Mode::kAt, corrected};
  }
  std::int64_t at = corrected;
  if (stamp && *stamp) {
    if (auto hlc = Hlc::parse(**stamp)) at = std::max(at, hlc->ms);
  }
  return {CertificateTime::Mode::kAt, at};
}

}  // namespace tandem::sync
