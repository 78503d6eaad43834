// Who sees what and who may write what (SYNC.md, Visibility; the final table
// is in docs/visibility.md). Everything that decides is in access.cpp; every
// backend and every endpoint goes through it. The backend only keeps the
// rows these rules write (RecordScope, members, links, consents, device
// views) and answers the queries below.
//
// Thread-safety: stateless; safe from any thread (storage calls are).
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "tandem/core/change.hpp"
#include "tandem/core/error.hpp"
#include "tandem/server/storage.hpp"
#include "tandem/sync/protocol.hpp"

namespace tandem::server {

// What one device may see, worked out from its person's record, the
// memberships, the consents in force on `day` and the records that name
// children. Stored with the device (DeviceView) as JSON.
struct View {
  std::string person;
  std::string role;
  bool all = false;    // the resource centre (leader, resource_person): the whole school
  bool notes = true;   // false: reference data only (admin; a person no longer there)
  std::set<std::string> anchors;   // courses, meetings and actions the person takes part in
  std::set<std::string> consents;  // "child scope" pairs in force
  std::set<std::string> children;  // child records (and their consents) the device sees

  Json to_json() const;
  static View from_json(const Json& j);
  std::string text() const { return to_json().dump(); }
};

// Reference data (school, people, groups, templates): every view sees it.
bool is_reference_kind(std::string_view kind);

// THE visibility rule for one record.
bool visible(const RecordScope& scope, const View& view);

// The consent scope that lets a record under `anchor_kind` reach a person of
// `role` beyond its author and the resource centre: core's consent_scope_for
// (tandem/core/consent.hpp), shared with the devices.

// Whether `device` may push `change`, judged on the view it acknowledged
// (offline work done in scope is taken even if the record left the scope
// since). Runs inside the push transaction. Errors (the change is refused,
// nothing else):
//  - kWrongSchool: the change names another school than the device's;
//  - kNotFound: the record, or the record it hangs under, is outside the
//    device's view or in another school or unknown (one answer for all, so
//    no answer tells what exists beyond the view);
//  - kForbidden: people's roles, professions and schools, the school record,
//    and anything but reference data for a reference-data-only view are the
//    administration's;
//  - kInvalidArgument: a school record whose id is not its school.
Status check_write_access(const DeviceRecord& device, const View& view, const Change& change,
                          PushTransaction& txn);

// Whether a person may see the school's view (reports.hpp) of `school`:
// its leaders, and its resource persons when the school allows it
// (setting kReportsForResourcePersons). `person_id` "" is the
// administration (admin CLI): always. `person`: the person's record as
// merged now (nullptr: unknown). kNotFound: not a live person of `school`
// (one answer for another school's reports and for a school that does not
// exist); kForbidden: any other role.
Status may_view_reports(std::string_view person_id, const Record* person, std::string_view school,
                        bool resource_persons_allowed);
// The setting key that lets a school's resource persons see its reports
// ("yes" / "no").
std::string reports_setting_key(std::string_view school);

// Keeps the scope rows, memberships, links and consents in step with a
// change just merged (`seq`: its place in the sequence, 0 if none). `author`:
// the person whose device pushed it ("" the administration).
Status note_change(const Change& change, std::int64_t seq, std::string_view author,
                   PushTransaction& txn);

// Builds the scope rows of records merged before they existed (a server
// upgraded to version 4). Runs once; a no-op afterwards.
Status rebuild_scopes(PushTransaction& txn);
// Runs rebuild_scopes through the storage's commit queue and waits for it
// (server start).
Status prepare_visibility(ServerStorage& storage);

// The view of `device` on `day`, from the rows above.
Result<View> compute_view(const DeviceRecord& device, std::string_view day,
                          PushTransaction& txn);

// Whether a pull with this state must first move the device's view on (a
// write): a first pull, an acknowledgement to record, a changed school or day.
bool view_needs_update(const PullState& state, const sync::PullRequest& request,
                       std::string_view day);

// Moves the device's view on, inside a write: records the acknowledgement of
// the last one, works the view out again if the school or the day changed,
// and when it differs lists the records that left it (to erase) and that
// entered it (sent again from the start). Returns what is stored.
Result<DeviceView> update_view(const DeviceRecord& device, const sync::PullRequest& request,
                               std::string_view day, PushTransaction& txn);

// A page a device may receive, and the child-linked records it delivers
// (for the audit trail).
struct VisiblePage {
  sync::EncodedPullPage page;
  std::vector<AuditRef> delivered;  // records that name a child
};

// The changes after `request.cursor` that `device` may receive under `state`
// (from update_view, or read when no update was needed): at most
// min(request.limit, kMaxPullLimit) changes and kMaxPullPageBytes of their
// JSON (at least one change), with the cursor to store and whether more
// remain. THE function that decides what a device receives. Rows filtered out
// still advance the cursor. A device does not receive the changes it pushed
// itself; its cursor still moves past them.
Result<VisiblePage> changes_visible_to(ServerStorage& storage, const DeviceRecord& device,
                                       const sync::PullRequest& request,
                                       const DeviceView& state);

}  // namespace tandem::server
