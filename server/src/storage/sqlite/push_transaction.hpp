// What a push's merge sees of the SQLite backend (PushTransaction in
// tandem/server/storage.hpp): the Store's records and the server's
// visibility, device and audit tables, all on the writer connection inside
// the commit group's transaction, so that a push's merge, its sequence rows
// and its bookkeeping commit (or roll back) together.
//
// Invariants: every change applied is sequenced with this push's device as
// its origin ("" for the server's own writes); a write to a device view or
// a scope version is noted for the caches (Caches::Changes::views).
// Thread-safety: used only on the commit thread (or by an admin write),
// under the storage's writer mutex, for the span of one transaction.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tandem/core/sqlite.hpp"
#include "tandem/server/storage.hpp"

namespace tandem::server::sqlite_backend {

class SqliteStorage;

class SqlitePushTransaction final : public PushTransaction {
 public:
  // `device_id`: the pushing device, each applied change's origin ("" for
  // the server's own writes); it must outlive this transaction.
  SqlitePushTransaction(SqliteStorage& s, std::string_view device_id)
      : s_(s), device_id_(device_id) {}
  Result<std::optional<std::string>> record_school(std::string_view record_id) override;
  Result<AppliedChange> apply(const Change& change, std::string_view body) override;
  Result<std::optional<Record>> record(std::string_view id) override;
  Result<std::optional<RecordScope>> scope(std::string_view record) override;
  Status put_scope(const RecordScope& scope) override;
  Result<std::vector<RecordScope>> scopes_under(std::string_view parent) override;
  Result<std::vector<RecordScope>> school_scopes(std::string_view school) override;
  Status set_members(std::string_view school, std::string_view anchor,
                     const std::vector<std::string>& persons) override;
  Status set_links(std::string_view school, std::string_view anchor,
                   const std::vector<std::string>& children) override;
  Result<std::vector<std::string>> anchors_of(std::string_view school,
                                              std::string_view person) override;
  Result<std::vector<std::pair<std::string, std::string>>> links_of(
      const std::vector<std::string>& anchors) override;
  Status put_consent(const ConsentRow& consent) override;
  Result<std::vector<ConsentRow>> consents(std::string_view school) override;
  Result<std::vector<std::string>> members(std::string_view anchor) override;
  Result<std::int64_t> scope_version(std::string_view key) override;
  Status bump_scope_version(std::string_view school) override;
  Result<std::optional<DeviceView>> device_view(std::string_view device) override;
  Status put_device_view(std::string_view device, const DeviceView& view) override;
  Result<std::vector<std::pair<std::string, DeviceView>>> school_device_views(
      std::string_view school) override;
  Result<std::optional<DeviceRecord>> device(std::string_view device_id) override;
  Result<std::vector<std::string>> record_ids(std::string_view kind) override;
  Result<std::int64_t> first_seq(std::string_view school, std::string_view record) override;
  Result<std::optional<std::string>> meta(std::string_view key) override;
  Status set_meta(std::string_view key, std::string_view value) override;
  Status append_audit(const AuditEntry& entry) override;

 private:
  Result<sqlite::StmtLease> stmt(const char* sql);
  SqliteStorage& s_;
  std::string_view device_id_;  // the pushing device: each change's origin
};

}  // namespace tandem::server::sqlite_backend
