// Enrolling a device: trade a one-time code for a device token and record in
// the Store's metadata what later syncs need (server URL, token, device id,
// school, person). The school record itself arrives with the first pull.
//
// Every check that can refuse happens before the code is consumed: the
// server is first asked whom the code is for (a check that consumes
// nothing), then the local preparation (a database used offline joining the
// school, Store::join_school) and the redeeming request run in one local
// transaction, rolled back when redeeming fails. The server consumes the
// code and registers the device in one transaction of its own.
//
// Thread-safety: one thread at a time (Store and Transport rules).
#pragma once

#include <optional>
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
  // What becomes of records of another school made here before the first
  // enrollment (Store::join_school). Without a choice such a database is
  // refused (before the code is consumed) and the message names both.
  std::optional<Store::LocalRecords> local_records{};
};

// POST /v1/enroll (a check, then the redeeming request) through
// `transport` (pointed at options.server_url); the sync metadata is stored
// in the transaction that redeems; the clock offset is learned from the
// answer. Errors: kUnauthorized/kExpired (code unknown, used or expired),
// kAlreadyExists (the database was enrolled at another school before: its
// changes may have reached that server; or it holds records made offline
// under another school and options.local_records is not set),
// kUnsupportedVersion (a server without the check, and records made offline
// here: refused before the code is used), transport errors. Only a failure after the server's answer to the redeeming
// request (the local commit) can leave the code used. A device that was
// revoked may enroll again with a new code of the same school: the new
// token replaces the old one and unsynced local changes are kept.
// `joined`: what happened to records of other schools (nothing to do:
// left empty).
Result<EnrollResponse> enroll_device(Store& store, Transport& transport, SkewCorrectedClock& clock,
                                     const EnrollOptions& options,
                                     Store::JoinOutcome* joined = nullptr);

}  // namespace tandem::sync
