// The row codecs shared by the push transaction and the pull reads: see
// rows.hpp.
#include "storage/sqlite/rows.hpp"

#include <utility>

#include "tandem/core/json.hpp"

namespace tandem::server::sqlite_backend {

using sqlite::Stmt;
using sqlite::StmtLease;

RecordScope read_scope(const Stmt& st) {
  RecordScope r;
  r.record = st.text(0);
  r.school = st.text(1);
  r.kind = st.text(2);
  r.parent = st.text(3);
  r.anchor = st.text(4);
  r.anchor_kind = st.text(5);
  r.child = st.text(6);
  r.author = st.text(7);
  r.assignee = st.text(8);
  r.first_seq = st.int64(9);
  r.anchor_author = st.text(10);
  return r;
}

Result<std::vector<RecordScope>> read_scopes(Stmt& st) {
  std::vector<RecordScope> out;
  for (;;) {
    auto row = st.step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(read_scope(st));
  }
  return out;
}

Result<std::vector<std::string>> read_texts(Stmt& st) {
  std::vector<std::string> out;
  for (;;) {
    auto row = st.step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(st.text(0));
  }
  return out;
}

std::string json_list(const std::vector<std::string>& items) { return Json(items).dump(); }

std::vector<std::string> parse_list(const std::string& text) {
  std::vector<std::string> out;
  auto j = Json::parse(text, nullptr, false);
  if (j.is_array()) {
    for (const auto& e : j)
      if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

Result<std::optional<DeviceView>> read_device_view(Stmt& st, std::string_view device) {
  st.bind(1, device);
  auto row = st.step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<DeviceView>();
  return std::optional<DeviceView>(device_view_columns(st, 0));
}

DeviceView device_view_columns(const Stmt& st, int at) {
  DeviceView v;
  v.number = st.int64(at);
  v.view = st.text(at + 1);
  v.acked_view = st.text(at + 2);
  v.scope_version = st.int64(at + 3);
  v.day = st.text(at + 4);
  v.gone = parse_list(st.text(at + 5));
  v.backfill = parse_list(st.text(at + 6));
  v.backfill_upto = st.int64(at + 7);
  v.rewind = st.int64(at + 8) != 0;
  return v;
}

Result<std::int64_t> last_seq_of(Result<StmtLease> st, std::string_view school) {
  if (!st) return std::move(st).error();
  (*st)->bind(1, school);
  auto row = (*st)->step();
  if (!row) return std::move(row).error();
  return *row ? (*st)->int64(0) : 0;
}

}  // namespace tandem::server::sqlite_backend
