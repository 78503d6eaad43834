// Withdrawing refused stamps (SYNC.md, Clock): a device whose clock ran
// ahead stamped its work in the future; the server refused those changes.
// They are not lost and not dropped: they get new stamps from the corrected
// clock, in their original order, and go out again. The outbox and the log
// keep their order (log positions do not change), only the stamps do.
#include <map>
#include <set>

#include "store_impl.hpp"

namespace tandem {
namespace {

// A change of the withdrawn suffix of the outbox.
struct Withdrawn {
  std::int64_t seq = 0;
  std::string hlc;
  std::string record;
  std::string body;
};

// The body with every stamp of `renamed` in its `seen` list replaced; the
// same text when it has none (most changes: creates, text, set elements).
std::string map_seen(const std::string& body, const std::map<std::string, std::string>& renamed) {
  if (body.find("\"seen\"") == std::string::npos) return body;
  Json j = Json::parse(body, nullptr, false);
  auto seen = j.is_object() ? j.find("seen") : j.end();
  if (seen == j.end() || !seen->is_array()) return body;
  bool changed = false;
  for (auto& s : *seen) {
    if (!s.is_string()) continue;
    auto it = renamed.find(s.get<std::string>());
    if (it == renamed.end()) continue;
    s = it->second;
    changed = true;
  }
  return changed ? j.dump() : body;
}

}  // namespace

Result<bool> Store::create_pending(std::string_view record) const {
  auto st = impl_->stmt(
      "SELECT 1 FROM records r JOIN changes c ON c.hlc = r.created JOIN outbox o ON o.seq = c.seq "
      "WHERE r.id = ?");
  if (!st) return std::move(st).error();
  (*st)->bind(1, record);
  return (*st)->step();
}

Result<std::vector<Restamped>> Store::restamp_outbox_after(const Hlc& floor) {
  Impl& m = *impl_;
  const Hlc before = m.hybrid->last();
  std::vector<Restamped> out;
  Status done = m.in_transaction([&]() -> Status {
    // The suffix of the outbox from its first change stamped above the floor:
    // everything after it goes too, so that the original order survives even
    // in a file whose stamps once went backwards.
    std::vector<Withdrawn> rows;
    {
      auto st = m.stmt(
          "SELECT c.seq, c.hlc, c.record, c.body FROM outbox o JOIN changes c ON c.seq = o.seq "
          "WHERE o.seq >= (SELECT min(o2.seq) FROM outbox o2 JOIN changes c2 ON c2.seq = o2.seq "
          "WHERE c2.hlc > ?) ORDER BY o.seq");
      if (!st) return std::move(st).error();
      (*st)->bind(1, floor.str());
      for (;;) {
        auto row = (*st)->step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        rows.push_back(Withdrawn{(*st)->int64(0), (*st)->text(1), (*st)->text(2), (*st)->text(3)});
      }
    }
    // First every withdrawn stamp leaves the log's unique index, so that a
    // new stamp may be one that a later change of the suffix held.
    std::set<std::string> old_stamps;
    for (const auto& w : rows) {
      old_stamps.insert(w.hlc);
      auto st = m.stmt("UPDATE changes SET hlc = 'withdrawn-' || seq WHERE seq = ?");
      if (!st) return std::move(st).error();
      TANDEM_TRY((*st)->bind(1, w.seq).run());
    }
    m.hybrid->restore(floor.ms, floor.counter);
    m.clock_dirty = true;
    std::map<std::string, std::string> renamed;
    for (const auto& w : rows) {
      // A new stamp names no other change (kept or withdrawn): rows are
      // renamed by their old stamp below.
      std::string next;
      for (;;) {
        next = m.hybrid->tick().str();
        if (old_stamps.count(next) != 0) continue;
        auto st = m.stmt("SELECT 1 FROM changes WHERE hlc = ?");
        if (!st) return std::move(st).error();
        auto taken = (*st)->bind(1, next).step();
        if (!taken) return std::move(taken).error();
        if (!*taken) break;
      }
      renamed.emplace(w.hlc, next);
      {
        auto st = m.stmt("UPDATE changes SET hlc = ?, body = ? WHERE seq = ?");
        if (!st) return std::move(st).error();
        TANDEM_TRY((*st)->bind(1, next).bind(2, map_seen(w.body, renamed)).bind(3, w.seq).run());
      }
      static const char* const kRename[] = {
          "UPDATE records SET created = ?1 WHERE id = ?2 AND created = ?3",
          "UPDATE records SET deleted = ?1 WHERE id = ?2 AND deleted = ?3",
          "UPDATE records SET purged = ?1 WHERE id = ?2 AND purged = ?3",
          "UPDATE field_writes SET hlc = ?1 WHERE record = ?2 AND hlc = ?3",
          "UPDATE set_elements SET hlc = ?1 WHERE record = ?2 AND hlc = ?3",
      };
      for (const char* sql : kRename) {
        auto st = m.stmt(sql);
        if (!st) return std::move(st).error();
        TANDEM_TRY((*st)->bind(1, next).bind(2, w.record).bind(3, w.hlc).run());
      }
      out.push_back(Restamped{w.hlc, std::move(next)});
    }
    return {};
  });
  if (!done) {
    m.hybrid->restore(before.ms, before.counter);
    return std::move(done).error();
  }
  return out;
}

}  // namespace tandem
