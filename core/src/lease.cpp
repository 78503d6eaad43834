// The offline lease (lease.hpp): kept in one metadata row, checked by every
// record read of the Store.
#include "tandem/core/lease.hpp"

#include <algorithm>

#include "store_impl.hpp"

namespace tandem {
namespace {

constexpr const char* kLeaseKey = "offline_lease";  // {"anchor","lease","seen"} (ms)

bool has_text(const Json& fields, const char* name) {
  const auto it = fields.find(name);
  return it != fields.end() && it->is_string() && !it->get_ref<const std::string&>().empty();
}

std::int64_t member(const Json& j, const char* name) {
  const auto it = j.find(name);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

}  // namespace

bool names_child(const Record& record) {
  if (record.kind == "child" || record.kind == "consent") return true;
  if (record.kind == "entry" || record.kind == "agenda_item")
    return has_text(record.fields, "child");
  if (record.kind == "course") {
    const auto it = record.fields.find("children");
    return it != record.fields.end() && it->is_array() && !it->empty();
  }
  return false;
}

Result<Store::OfflineLease> Store::Impl::lease() {
  Store::OfflineLease out;
  Json j;
  {
    auto st = stmt("SELECT value FROM meta WHERE key=?");
    if (!st) return std::move(st).error();
    (*st)->bind(1, kLeaseKey);
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    if (!*row) return out;
    j = Json::parse((*st)->text(0), nullptr, false);
  }
  out.anchor_ms = member(j, "anchor");
  out.lease_ms = member(j, "lease");
  const std::int64_t seen = member(j, "seen");
  out.now_ms = std::max({hybrid->last().ms, wall->now_ms(), seen});
  if (out.lease_ms <= 0) return out;
  out.expired = out.now_ms - out.anchor_ms > out.lease_ms;
  if (out.now_ms >= seen + kLeaseSeenStepMs) {
    // Kept, so that a clock set back after a restart does not give this
    // time back. Best effort: a busy or read-only file is checked on the
    // clock alone.
    Json next = j;
    next["seen"] = out.now_ms;
    auto put = stmt(
        "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET "
        "value=excluded.value");
    if (put) (void)(*put)->bind(1, kLeaseKey).bind(2, next.dump()).run();
  }
  return out;
}

Status Store::Impl::check_lease(const Record& record, bool locked) {
  if (!locked || !names_child(record)) return {};
  return make_error(
      ErrorCode::kLeaseExpired,
      "this tablet has not reached its server for longer than its school's offline "
      "lease: records that name a child are locked until it syncs (writing still works)");
}

Result<bool> Store::Impl::lease_locked() {
  auto l = lease();
  if (!l) return std::move(l).error();
  return l->expired;
}

Status Store::confirm_offline_lease(std::int64_t server_time_ms,
                                    std::optional<std::int64_t> lease_ms) {
  auto now = impl_->lease();
  if (!now) return std::move(now).error();
  // The server's time, or the corrected clock when it reads later (a fast
  // clock the offset has not corrected yet must not lock the tablet now).
  const std::int64_t anchor = std::max(server_time_ms, impl_->wall->now_ms());
  const Json j{{"anchor", anchor}, {"lease", lease_ms.value_or(now->lease_ms)}, {"seen", anchor}};
  return set_meta(kLeaseKey, j.dump());
}

Result<Store::OfflineLease> Store::offline_lease() const { return impl_->lease(); }

}  // namespace tandem
