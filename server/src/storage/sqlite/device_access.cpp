// The SQLite ServerStorage's devices: enrollment codes and enrollment,
// authentication by token (through the token cache), revocation and the
// wipe order, token rotation. The device rows themselves: devices.hpp.
//
// Every write here that a cached device may reflect (a revocation, a token
// promoted or pending, a rotation asked for) marks its transaction `shared`,
// so that every process's token cache drops it (caches.hpp).
#include <algorithm>

#include "storage/sqlite/devices.hpp"
#include "storage/sqlite/storage.hpp"
#include "tandem/server/limits.hpp"

namespace tandem::server::sqlite_backend {
namespace {

using sqlite::Stmt;

std::string string_field(const Record& r, const char* name) {
  auto it = r.fields.find(name);
  return it != r.fields.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<std::string> SqliteStorage::add_enrollment_code(std::string_view code_hash,
                                                       std::string_view person, std::int64_t now_ms,
                                                       std::int64_t expires_ms) {
  return add_person_code(person, [&](const std::string& school) -> Status {
    auto st = stmts_.get(
        "INSERT INTO server_enrollment_codes(code_hash, person, school, created_ms, expires_ms) "
        "VALUES(?,?,?,?,?)");
    if (!st) return std::move(st).error();
    return (*st)
        ->bind(1, code_hash)
        .bind(2, person)
        .bind(3, school)
        .bind(4, now_ms)
        .bind(5, expires_ms)
        .run();
  });
}

Result<std::vector<DeviceRecord>> SqliteStorage::list_devices(std::string_view school) {
  auto reader = readers_.acquire();
  auto st = reader.stmt("SELECT " TANDEM_DEVICE_COLUMNS
                        " FROM server_devices "
                        "WHERE school=? ORDER BY created_ms, id");
  if (!st) return std::move(st).error();
  (*st)->bind(1, school);
  std::vector<DeviceRecord> out;
  for (;;) {
    auto row = (*st)->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back(sqlite_devices::read(**st));
  }
  return out;
}

Status SqliteStorage::revoke_device(std::string_view device_id, std::int64_t now_ms, bool wipe) {
  std::lock_guard lock(mu_);
  TANDEM_TRY(write([&]() -> Status {
    auto st = stmts_.get(
        "UPDATE server_devices SET revoked_ms=coalesce(revoked_ms, ?1), "
        "wipe_ordered_ms=CASE WHEN ?3 THEN coalesce(wipe_ordered_ms, ?1) ELSE wipe_ordered_ms END "
        "WHERE id=?2");
    if (!st) return std::move(st).error();
    TANDEM_TRY((*st)->bind(1, now_ms).bind(2, device_id).bind(3, std::int64_t{wipe}).run());
    if (sqlite3_changes(db_) == 0) {
      return make_error(ErrorCode::kNotFound,
                        "no device '" + std::string(device_id.substr(0, 64)) + "'");
    }
    caches_.changes().revoked.emplace_back(device_id);
    caches_.changes().shared = true;  // the server's token cache drops the device at once
    return {};
  }));
  return {};
}

Status SqliteStorage::request_token_rotation(std::string_view device_id) {
  std::lock_guard lock(mu_);
  return write([&]() -> Status {
    TANDEM_TRY(sqlite_devices::request_rotation(writer_stmts(), device_id));
    caches_.changes().shared = true;  // cached devices (here or in a running server) learn it
    return {};
  });
}

Result<bool> SqliteStorage::promote_token(std::string_view device_id, std::string_view token_hash,
                                          std::int64_t now_ms) {
  // Every token cache, here and in other processes, drops the old token.
  return token_write(
      [&] { return sqlite_devices::promote(writer_stmts(), device_id, token_hash, now_ms); });
}

Result<bool> SqliteStorage::set_next_token(std::string_view device_id,
                                           std::string_view current_hash,
                                           std::string_view next_hash) {
  // Cached records say whether a token is pending: kept true.
  return token_write(
      [&] { return sqlite_devices::set_next(writer_stmts(), device_id, current_hash, next_hash); });
}

Result<bool> SqliteStorage::token_write(const std::function<Result<bool>()>& change) {
  std::lock_guard lock(mu_);
  bool changed = false;
  TANDEM_TRY(write([&]() -> Status {
    Result<bool> done = change();
    if (!done) return std::move(done).error();
    changed = *done;
    caches_.changes().shared = changed;
    return {};
  }));
  return changed;
}

Result<Enrollment> SqliteStorage::code_holder_locked(std::string_view code_hash,
                                                     std::int64_t now_ms) {
  Enrollment e;
  std::string person_id, school_id;
  {
    auto code = stmts_.get(
        "SELECT person, school, expires_ms, used_ms FROM server_enrollment_codes WHERE "
        "code_hash=?");
    if (!code) return std::move(code).error();
    Stmt& c = **code;
    c.bind(1, code_hash);
    auto row = c.step();
    if (!row) return std::move(row).error();
    if (!*row || !c.is_null(3)) {
      return make_error(ErrorCode::kUnauthorized, "unknown or already used enrollment code");
    }
    if (c.int64(2) <= now_ms) return make_error(ErrorCode::kExpired, "enrollment code has expired");
    person_id = c.text(0);
    school_id = c.text(1);
  }
  auto person = store_->get(person_id);
  auto school = store_->get(school_id);
  if (!person || !person->live() || !school || !school->live()) {
    // The person or school was deleted after the code was issued.
    return make_error(ErrorCode::kUnauthorized, "enrollment code no longer valid");
  }
  e.school = {school_id, string_field(*school, "name")};
  e.person = {person_id, string_field(*person, "name"), string_field(*person, "role")};
  return e;
}

Result<Enrollment> SqliteStorage::enrollment_code(std::string_view code_hash, std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  return code_holder_locked(code_hash, now_ms);
}

Result<Enrollment> SqliteStorage::enroll(std::string_view code_hash, const NewDevice& device,
                                         std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  Enrollment e;
  // Consuming the code and registering the device commit together or not
  // at all: a refused or failed enrollment leaves neither a used code nor
  // a device behind.
  TANDEM_TRY(write([&]() -> Status {
    auto holder = code_holder_locked(code_hash, now_ms);
    if (!holder) return std::move(holder).error();
    e = std::move(*holder);
    auto use =
        stmts_.get("UPDATE server_enrollment_codes SET used_ms=?, device=? WHERE code_hash=?");
    if (!use) return std::move(use).error();
    TANDEM_TRY((*use)->bind(1, now_ms).bind(2, device.id).bind(3, code_hash).run());
    auto ins = stmts_.get(
        "INSERT INTO server_devices(id, school, person, name, token_hash, created_ms, "
        "last_seen_ms, token_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,?6)");
    if (!ins) return std::move(ins).error();
    TANDEM_TRY((*ins)
                   ->bind(1, device.id)
                   .bind(2, e.school.id)
                   .bind(3, e.person.id)
                   .bind(4, device.name)
                   .bind(5, device.token_hash)
                   .bind(6, now_ms)
                   .bind(7, now_ms)
                   .run());
    e.device.id = device.id;
    e.device.school = e.school.id;
    e.device.person = e.person.id;
    e.device.name = device.name;
    e.device.created_ms = e.device.last_seen_ms = e.device.token_ms = now_ms;
    return {};
  }));
  return e;
}

Result<DeviceRecord> SqliteStorage::device_by_token(std::string_view token_hash,
                                                    std::int64_t now_ms) {
  const std::string key(token_hash);
  Caches::Ticket ticket;
  auto in_memory = caches_.token(key, ticket);
  const bool cached = in_memory.has_value();
  DeviceRecord d = cached ? std::move(*in_memory) : DeviceRecord{};
  if (!cached) {
    std::optional<sqlite_devices::TokenMatch> match;
    {
      auto reader = readers_.acquire();
      auto found = sqlite_devices::by_token([&reader](const char* sql) { return reader.stmt(sql); },
                                            token_hash);
      if (!found) return std::move(found).error();
      match = std::move(*found);
    }
    if (!match) return make_error(ErrorCode::kUnauthorized, "unknown or revoked device token");
    d = std::move(match->device);
    if (d.wipe_ordered_ms) return wipe_order(d, now_ms);
    if (d.revoked_ms)
      return make_error(ErrorCode::kUnauthorized, "unknown or revoked device token");
    d.by_pending_token = match->pending;
  }
  const bool touch = now_ms - d.last_seen_ms >= kLastSeenGranularityMs;
  if (touch) d.last_seen_ms = now_ms;
  if (!cached || touch) caches_.keep_token(key, d, ticket, !cached);
  if (touch) {
    // Written by the commit thread with its next group (woken for it if
    // idle): authentication never waits for a disk flush.
    group_.touch(d.id, now_ms);
  }
  return d;
}

Error SqliteStorage::wipe_order(const DeviceRecord& d, std::int64_t now_ms) {
  Error wiped = make_error(ErrorCode::kDeviceWiped,
                           "this device was reported lost: erase its local data now");
  if (d.wipe_delivered_ms) return wiped;
  std::lock_guard lock(mu_);
  Status recorded = write([&]() -> Status {
    auto st = stmts_.get(
        "UPDATE server_devices SET wipe_delivered_ms=coalesce(wipe_delivered_ms, ?) WHERE id=?");
    if (!st) return std::move(st).error();
    return (*st)->bind(1, now_ms).bind(2, d.id).run();
  });
  // Not recorded (disk full, busy): the order still goes out; the next
  // contact records it.
  (void)recorded;
  return wiped;
}

}  // namespace tandem::server::sqlite_backend
