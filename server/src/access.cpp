#include "tandem/server/access.hpp"

#include <algorithm>

#include "tandem/core/excerpt.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/server/limits.hpp"

namespace tandem::server {
namespace {

Error not_found(const std::string& id) {
  return make_error(ErrorCode::kNotFound, "no record " + excerpt(id));
}

// A record that exists must be in the device's school. Unknown ids pass: a
// device may create records (and refer to ones it created) before the
// server has seen them.
Status check_in_school(const DeviceRecord& device, const std::string& id, PushTransaction& txn,
                       bool allow_builtin = false) {
  auto school = txn.record_school(id);
  if (!school) return std::move(school).error();
  // Built-in records (shipped templates, school "") may be referenced by
  // every school but written by none.
  if (allow_builtin && *school && (*school)->empty()) return {};
  if (*school && **school != device.school) return not_found(id);
  return {};
}

Status check_refs(const DeviceRecord& device, const FieldSpec& field, const Json& value,
                  PushTransaction& txn) {
  if (field.type == FieldType::kRef && value.is_string()) {
    return check_in_school(device, value.get<std::string>(), txn, true);
  }
  if (field.type == FieldType::kRefSet) {
    if (value.is_string()) return check_in_school(device, value.get<std::string>(), txn, true);
    if (value.is_array()) {
      for (const auto& el : value) {
        if (el.is_string()) TANDEM_TRY(check_in_school(device, el.get<std::string>(), txn, true));
      }
    }
  }
  return {};
}

}  // namespace

Status check_write_access(const DeviceRecord& device, const Change& change, PushTransaction& txn) {
  if (change.school != device.school) {
    return make_error(ErrorCode::kWrongSchool,
                      "the change names another school than this device's");
  }
  if (change.kind == "school" && change.record != change.school) {
    return make_error(ErrorCode::kInvalidArgument, "a school record's id must be its school");
  }
  {
    // The record must be the device's school's. A change to a record the
    // server does not have is refused too, unless it creates it (an earlier
    // change of the same push may have: the transaction sees it): a record
    // never reaches another device without its create. A purge carries no
    // content and may erase what never arrived. Both refusals read alike
    // (same code, same words): no answer tells whether a record exists in
    // another school.
    auto school = txn.record_school(change.record);
    if (!school) return std::move(school).error();
    if (*school ? **school != device.school
                : (change.op != Op::kCreate && change.op != Op::kPurge)) {
      return not_found(change.record);
    }
  }
  // References to records of other schools are refused like unknown records.
  const KindSpec* kind = find_kind(change.kind);
  if (!kind) return {};  // validate_change reports the unknown kind
  if (change.op == Op::kCreate && change.value.is_object()) {
    for (const auto& [name, v] : change.value.items()) {
      if (const FieldSpec* fs = kind->field(name)) TANDEM_TRY(check_refs(device, *fs, v, txn));
    }
  } else if (change.op == Op::kSet || change.op == Op::kAdd || change.op == Op::kRemove) {
    if (const FieldSpec* fs = kind->field(change.field))
      TANDEM_TRY(check_refs(device, *fs, change.value, txn));
  }
  return {};
}

Result<sync::EncodedPullPage> changes_visible_to(ServerStorage& storage,
                                                 const DeviceRecord& device,
                                                 const sync::PullRequest& request) {
  const std::size_t limit = std::clamp<std::size_t>(request.limit, 1, kMaxPullLimit);
  // Today: a device sees its own school's sequence, all of it, except the
  // changes it pushed itself (it has them; they still advance its cursor).
  // Role- and consent-based filtering goes here (rows filtered out still
  // advance the cursor, so pagination is unaffected).
  auto rows =
      storage.read_changes(device.school, request.cursor, limit, kMaxPullPageBytes, device.id);
  if (!rows) return std::move(rows).error();
  sync::EncodedPullPage page;
  page.more = rows->more;
  page.cursor = std::max(request.cursor, rows->cursor);
  page.changes.reserve(rows->rows.size());
  // Stored bodies are the canonical text of a validated change: served as
  // they are, never decoded and encoded again.
  for (auto& row : rows->rows) page.changes.push_back({row.seq, std::move(row.body)});
  return page;
}

}  // namespace tandem::server
