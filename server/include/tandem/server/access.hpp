// Access rules of the sync protocol: what a device may write, and what it may
// receive. These two functions are the only places that decide; every backend
// and every endpoint goes through them (ROADMAP step 3 widens them with role
// and consent without touching anything else).
//
// Thread-safety: stateless; safe from any thread (storage calls are).
#pragma once

#include "tandem/core/change.hpp"
#include "tandem/core/error.hpp"
#include "tandem/server/storage.hpp"
#include "tandem/sync/protocol.hpp"

namespace tandem::server {

// Whether `device` may push `change`. Runs inside the push transaction.
// Errors (the change is rejected, nothing else):
//  - kWrongSchool: the change names another school than the device's;
//  - kNotFound: the record, or a record the change refers to, exists in
//    another school (answered exactly as for an unknown id, so it reveals
//    nothing about other schools);
//  - kInvalidArgument: a school record whose id is not its school.
Status check_write_access(const DeviceRecord& device, const Change& change, PushTransaction& txn);

// The changes after `request.cursor` that `device` may receive, one page of
// at most min(request.limit, kMaxPullLimit) changes and kMaxPullPageBytes of
// their JSON (but at least one change), with the cursor to store and
// whether more remain. THE function that decides what a device receives.
// A device does not receive the changes it pushed itself; its cursor still
// moves past them.
Result<sync::EncodedPullPage> changes_visible_to(ServerStorage& storage,
                                                 const DeviceRecord& device,
                                                 const sync::PullRequest& request);

}  // namespace tandem::server
