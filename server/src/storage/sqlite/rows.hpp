// How the server's visibility and sequence rows are read and written on any
// connection (the writer's or a reader's): the column lists and the codecs
// shared by the push transaction (push_transaction.cpp) and the pull reads
// (reads.cpp). The tables themselves: schema.cpp.
//
// SQL texts are constants with static storage: the statement caches key
// prepared statements by the text's address.
// Thread-safety: none needed; each function uses only the statement it is
// given, on its caller's connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/sqlite.hpp"
#include "tandem/server/storage.hpp"

namespace tandem::server::sqlite_backend {

// The columns of server_scope, in this order, for every query that reads one.
inline constexpr const char* kScopeColumns =
    "record, school, kind, parent, anchor, anchor_kind, child, author, assignee, first_seq, "
    "anchor_author";

// The scope in the current row of a SELECT kScopeColumns.
RecordScope read_scope(const sqlite::Stmt& st);
// Every row of a SELECT kScopeColumns.
Result<std::vector<RecordScope>> read_scopes(sqlite::Stmt& st);
// The first column of every row.
Result<std::vector<std::string>> read_texts(sqlite::Stmt& st);

// A list of strings as a JSON array (for json_each(?) and the list columns).
std::string json_list(const std::vector<std::string>& items);
// The strings of a JSON array; anything else reads as an empty list.
std::vector<std::string> parse_list(const std::string& text);

// A device view's columns, in the order device_view_columns() reads them.
inline constexpr const char* kDeviceViewColumns =
    "number, view, acked_view, scope_version, day, gone, backfill, backfill_upto, rewind";
// A device's view by device id (bind 1), for read_device_view(). (Statements
// are cached by their text's address: these live as long as the program.)
inline const std::string kDeviceViewSql =
    std::string("SELECT ") + kDeviceViewColumns + " FROM server_device_views WHERE device=?";
// The views of a school's devices (bind 1), the device id last.
inline const std::string kSchoolDeviceViewsSql =
    std::string("SELECT ") + kDeviceViewColumns +
    ", device FROM server_device_views WHERE device IN "
    "(SELECT id FROM server_devices WHERE school=?) ORDER BY device";
// The view of `device` through `st`, the prepared kDeviceViewSql; nullopt:
// the device has none yet.
Result<std::optional<DeviceView>> read_device_view(sqlite::Stmt& st, std::string_view device);
// The view in columns [at, at + 9) of the current row, in kDeviceViewColumns' order.
DeviceView device_view_columns(const sqlite::Stmt& st, int at);

// The school's last seq (0 before its first change) through `st`, the
// prepared kLastSeqSql of whichever connection asks.
inline constexpr const char* kLastSeqSql = "SELECT last_seq FROM server_school_seq WHERE school=?";
Result<std::int64_t> last_seq_of(Result<sqlite::StmtLease> st, std::string_view school);

}  // namespace tandem::server::sqlite_backend
