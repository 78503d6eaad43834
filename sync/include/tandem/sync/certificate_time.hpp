// When a server's TLS certificate is judged valid: the rule for devices
// whose clock may be years off (no libcurl or OpenSSL here; the transport
// applies the answer, see CurlOptions::certificate_time).
//
// A certificate is valid between its notBefore and notAfter. A tablet whose
// clock is 10 years behind would see every certificate as not yet valid, one
// 5 years ahead as expired, and could never sync to learn the right time.
// So validity is judged at the device's best estimate of the true time:
//  - once the device has heard from its server (a clock offset or a server
//    stamp is stored): the corrected clock (device clock + the offset learned
//    from the server, Store::skew_clock), and never earlier than the last
//    time the server confirmed (kMetaServerStamp): a clock set back after the
//    last sync cannot make an expired certificate look current, nor can it
//    lock the device out before the next sync measures the new offset;
//  - before that (enrollment, the first contact): no time is known. With a
//    CA file given explicitly (`--ca`, the school's own CA, handed over with
//    the enrollment code) the chain and the host name are verified and the
//    validity period is not checked, so a tablet with any clock can enroll;
//    from the first answer on the rule above applies. With the system's
//    trust store (public CAs) the device's own clock is used: a public
//    certificate that looks expired may be a retired one whose key leaked,
//    and the user sets the date once (the error says so).
// What this does not cover: a clock that jumps years ahead after enrollment
// makes the current certificate look expired until the date is set right
// (ahead and "the certificate really expired" look the same to a device).
#pragma once

#include <cstdint>
#include <string_view>

namespace tandem {
class Store;
}

namespace tandem::sync {

// The CA file a device was enrolled with (absolute path), remembered in the
// Store's metadata so that later syncs verify against it without `--ca`.
inline constexpr std::string_view kMetaCaFile = "sync.ca_file";

struct CertificateTime {
  enum class Mode {
    kSystemClock,  // OpenSSL's default: the process's wall clock
    kAt,           // at at_ms (Unix epoch milliseconds)
    kUnchecked,    // validity periods not checked (chain and host still are)
  };
  Mode mode = Mode::kSystemClock;
  std::int64_t at_ms = 0;
};

// The rule above for `store`. `explicit_ca`: the CA file was given by the
// user or remembered from enrollment (not the system store). Errors reading
// the store fall back to the corrected clock.
CertificateTime certificate_time(Store& store, bool explicit_ca);

}  // namespace tandem::sync
