// Joining a school later (Store::join_school): a tablet used offline made
// its records under a school of its own (init --school-name) before it was
// ever enrolled. Nothing it wrote has left it then (a device pushes only
// once enrolled), so its records and pending changes may still be
// rewritten here: a change's school is not in its logged body but in its
// record's row (migration 3; older bodies repeating it are overridden by
// the row when read, store.cpp read_changes), so moving a record is one
// column, and every logged change of it goes out with the new school.
//
// Invariants: people never move (the server takes people only from the
// administration, server/src/access.cpp); a local-only school's changes are
// never in the outbox (merge.cpp leaves them out as they are made).
#include <algorithm>

#include "store_impl.hpp"

namespace tandem {
namespace {

constexpr const char* kMetaLocalSchools = "local_schools";  // as in load_settings

// The kinds a device may not create on the server: they stay where they are.
constexpr const char* kUnmoved = "('school', 'person')";

}  // namespace

Status Store::Impl::load_settings() {
  auto st = stmt("SELECT key, value FROM meta WHERE key IN ('default_school', 'local_schools')");
  if (!st) return std::move(st).error();
  default_school.clear();
  local_only.clear();
  std::string schools;
  for (;;) {
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    ((*st)->text(0) == "default_school" ? default_school : schools) = (*st)->text(1);
  }
  if (schools.empty()) return {};
  Json list = Json::parse(schools, nullptr, false);
  if (!list.is_array()) return make_error(ErrorCode::kCorrupt, "meta 'local_schools' unreadable");
  for (const auto& id : list) {
    if (id.is_string()) local_only.insert(id.get<std::string>());
  }
  return {};
}

std::vector<std::string> Store::local_only_schools() const {
  return {impl_->local_only.begin(), impl_->local_only.end()};
}

bool Store::is_local_only(std::string_view school) const {
  return impl_->local_only.count(std::string(school)) != 0;
}

Result<std::vector<Store::OtherSchool>> Store::other_schools(std::string_view school) const {
  Impl& m = *impl_;
  std::vector<OtherSchool> out;
  ReadSnapshot snapshot(m.db);
  {
    auto st = m.stmt(
        "SELECT school, sum(id <> school), sum(kind = 'person') FROM records "
        "WHERE school <> '' AND school <> ? GROUP BY school ORDER BY school");
    if (!st) return std::move(st).error();
    (*st)->bind(1, school);
    for (;;) {
      auto row = (*st)->step();
      if (!row) return std::move(row).error();
      if (!*row) break;
      out.push_back(OtherSchool{(*st)->text(0), {}, (*st)->int64(1), (*st)->int64(2)});
    }
  }
  for (auto& s : out) {
    auto rec = m.load(s.id);
    if (rec && rec->kind == "school" && rec->fields.contains("name") && rec->fields["name"].is_string())
      s.name = rec->fields["name"].get<std::string>();
  }
  return out;
}

Result<Store::JoinOutcome> Store::join_school(std::string_view school_view, LocalRecords choice) {
  Impl& m = *impl_;
  const std::string school(school_view);
  if (!is_valid_id(school)) return make_error(ErrorCode::kInvalidArgument, "malformed school id");
  JoinOutcome out;
  const std::set<std::string> before = m.local_only;
  const std::string default_before = m.default_school;
  Status done = m.in_transaction([&]() -> Status {
    auto others = other_schools(school);
    if (!others) return std::move(others).error();
    std::set<std::string> local = m.local_only;
    local.erase(school);
    for (const auto& other : *others) {
      if (choice == LocalRecords::kMove && m.local_only.count(other.id) == 0) {
        // Every logged change of a moving record goes out (in log order):
        // its own and any a bundle brought from another offline tablet.
        const std::string pending =
            std::string("INSERT OR IGNORE INTO outbox(seq) SELECT c.seq FROM changes c "
                        "JOIN records r ON r.id = c.record WHERE r.school = ? AND r.kind NOT IN ") +
            kUnmoved;
        auto st = m.stmt(pending.c_str());
        if (!st) return std::move(st).error();
        TANDEM_TRY((*st)->bind(1, other.id).run());
        const std::string rewrite =
            std::string("UPDATE records SET school = ?1 WHERE school = ?2 AND kind NOT IN ") + kUnmoved;
        auto up = m.stmt(rewrite.c_str());
        if (!up) return std::move(up).error();
        TANDEM_TRY((*up)->bind(1, school).bind(2, other.id).run());
        out.moved += sqlite3_changes(m.db);
        if (other.people == 0) {
          // Nothing left in it: the local school record (and its create)
          // goes. The joined school's own record arrives by pull.
          TANDEM_TRY(forget({other.id}));
          out.dropped.push_back(other.id);
          continue;
        }
        out.kept += other.people;
      } else {
        out.kept += other.records;
      }
      // Local-only from here on: nothing of it waits to be sent.
      auto st = m.stmt(
          "DELETE FROM outbox WHERE seq IN (SELECT c.seq FROM changes c JOIN records r "
          "ON r.id = c.record WHERE r.school = ?)");
      if (!st) return std::move(st).error();
      TANDEM_TRY((*st)->bind(1, other.id).run());
      local.insert(other.id);
    }
    Json list = Json::array();
    for (const auto& id : local) list.push_back(id);
    if (local.empty()) {
      TANDEM_TRY(erase_meta(kMetaLocalSchools));
    } else {
      TANDEM_TRY(set_meta(kMetaLocalSchools, list.dump()));
    }
    // New records belong to the joined school from now on, before its
    // record has arrived (set_default_school would want the record).
    TANDEM_TRY(set_meta("default_school", school));
    m.local_only = local;
    m.default_school = school;
    out.local_schools.assign(local.begin(), local.end());
    return {};
  });
  if (!done) {
    m.local_only = before;
    m.default_school = default_before;
    return std::move(done).error();
  }
  return out;
}

}  // namespace tandem
