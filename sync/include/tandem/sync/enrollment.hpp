// Enrolling a device: trade a one-time code for a device token and record in
// the Store's metadata what later syncs need (server URL, token, device id,
// school, person). The school record itself arrives with the first pull,
// after which the engine makes it the default school.
//
// Thread-safety: one thread at a time (Store and Transport rules).
#pragma once

#include <string>

#include "tandem/core/store.hpp"
#include "tandem/sync/protocol.hpp"
#include "tandem/sync/skew_clock.hpp"
#include "tandem/sync/transport.hpp"

namespace tandem::sync {

struct EnrollOptions {
  std::string server_url;   // stored as kMetaServerUrl for later syncs
  std::string code;         // the one-time code, as typed
  std::string device_name;  // label for the school's admins
  std::int64_t clock_tolerance_ms = 2'000;  // as EngineOptions::clock_tolerance_ms
};

// POST /v1/enroll through `transport` (pointed at options.server_url), then
// one transaction storing the sync metadata; the clock offset is learned
// from the answer. Errors: kUnauthorized/kExpired (code unknown, used or
// expired), kAlreadyExists (the database already belongs to another school
// — a database holds one school's data), transport errors. A device that
// was revoked may enroll again with a new code of the same school: the new
// token replaces the old one and unsynced local changes are kept.
Result<EnrollResponse> enroll_device(Store& store, Transport& transport, SkewCorrectedClock& clock,
                                     const EnrollOptions& options);

}  // namespace tandem::sync
