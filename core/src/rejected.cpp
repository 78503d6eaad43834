// The refused-change log (table sync_rejected, migration 4): what the server
// refused for good, kept so that nothing is lost silently. A purge of the
// record removes its rows (merge.cpp, purge_record).
#include "store_impl.hpp"

namespace tandem {

Json RejectedChange::to_json() const {
  return Json{{"hlc", hlc},
              {"record", record},
              {"kind", kind},
              {"op", op},
              {"field", field},
              {"error", {{"code", error_code_name(error.code)}, {"message", error.message}}},
              {"mutation_id", mutation_id},
              {"at_ms", at_ms}};
}

Status Store::record_rejected(const RejectedChange& r, const Change& change) {
  auto st = impl_->stmt(
      "INSERT OR REPLACE INTO sync_rejected(hlc, record, kind, op, field, code, message, "
      "mutation_id,"
      " at_ms, body) VALUES(?,?,?,?,?,?,?,?,?,?)");
  if (!st) return std::move(st).error();
  return (*st)
      ->bind(1, r.hlc)
      .bind(2, r.record)
      .bind(3, r.kind)
      .bind(4, r.op)
      .bind(5, r.field)
      .bind(6, error_code_name(r.error.code))
      .bind(7, r.error.message)
      .bind(8, r.mutation_id)
      .bind(9, r.at_ms)
      .bind(10, change.to_json().dump())
      .run();
}

Result<std::vector<RejectedChange>> Store::rejected() const {
  auto st = impl_->stmt(
      "SELECT hlc, record, kind, op, field, code, message, mutation_id, at_ms FROM sync_rejected"
      " ORDER BY at_ms, hlc");
  if (!st) return std::move(st).error();
  std::vector<RejectedChange> out;
  for (;;) {
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    auto& s = **st;
    RejectedChange r;
    r.hlc = s.text(0);
    r.record = s.text(1);
    r.kind = s.text(2);
    r.op = s.text(3);
    r.field = s.text(4);
    r.error = make_error(error_code_from_name(s.text(5)), s.text(6));
    r.mutation_id = s.int64(7);
    r.at_ms = s.int64(8);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace tandem
