#include "tandem/server/admin.hpp"

#include "tandem/server/backup.hpp"

#include "tandem/core/excerpt.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/server/audit.hpp"
#include "tandem/server/crypto.hpp"
#include "tandem/server/erasure_log.hpp"
#include "tandem/server/lease.hpp"
#include "tandem/server/limits.hpp"
#include "web_auth.hpp"

namespace tandem::server {
namespace {

// Everything printed passes through one of these two: names come from
// devices and typed commands, and a control character in one must not
// reach the administrator's terminal as it is.
std::string shown(std::string_view text) { return escape_controls(text); }

void print_json(AdminIo io, const Json& j) {
  io.out << json_escape_controls(j.dump(-1, ' ', false, Json::error_handler_t::replace)) << "\n";
}


// "none", "ordered" (revoke --wipe, not yet told) or "delivered" (told
// at its first contact since; what it had not synced is gone).
const char* device_wipe_state(const DeviceRecord& d) {
  if (!d.wipe_ordered_ms) return "none";
  return d.wipe_delivered_ms ? "delivered" : "ordered";
}

// "none", "due" (rotate-token asked for, no new token sent yet) or "sent"
// (a new token sent, not yet used: both work). An automatic rotation by age
// shows as "sent" once the device has synced.
const char* device_rotation_state(const DeviceRecord& d) {
  if (d.token_pending) return "sent";
  return d.rotate_due ? "due" : "none";
}

Json device_json(const DeviceRecord& d) {
  Json j{{"id", d.id},
         {"school", d.school},
         {"person", d.person},
         {"name", d.name},
         {"created_ms", d.created_ms},
         {"last_seen_ms", d.last_seen_ms},
         {"revoked", d.revoked_ms.has_value()}};
  if (d.revoked_ms) j["revoked_ms"] = *d.revoked_ms;
  j["wipe"] = device_wipe_state(d);
  if (d.wipe_ordered_ms) j["wipe_ordered_ms"] = *d.wipe_ordered_ms;
  if (d.wipe_delivered_ms) j["wipe_delivered_ms"] = *d.wipe_delivered_ms;
  j["token_ms"] = d.token_ms;
  j["rotation"] = device_rotation_state(d);
  return j;
}

// A CSV field (RFC 4180): quoted when it holds a separator, quote or line
// break. Ids never do; a damaged row might.
std::string csv_field(std::string_view text) {
  std::string s = shown(text);
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

int admin_fail(const Error& e, AdminIo io) {
  if (io.json) {
    sync::ErrorResponse r;
    r.error = e;
    print_json(io, r.to_json());
  } else {
    io.err << "tandem-server: " << error_code_name(e.code) << ": " << shown(e.message) << "\n";
  }
  return 1;
}

int admin_school_create(ServerStorage& storage, const std::string& name, AdminIo io) {
  auto school = storage.create_school(name);
  if (!school) return admin_fail(school.error(), io);
  if (io.json) {
    print_json(io, Json{{"id", school->id}, {"name", school->name}});
  } else {
    io.out << shown(school->id) << "\n";
  }
  return 0;
}

int admin_person_add(ServerStorage& storage, const std::string& school, const std::string& name,
                     const std::string& role, const std::string& profession, AdminIo io) {
  auto person = storage.add_person(school, name, role, profession);
  if (!person) return admin_fail(person.error(), io);
  if (io.json) {
    Json j{{"id", person->id}, {"school", school}, {"name", person->name}, {"role", person->role}};
    if (!profession.empty()) j["profession"] = profession;
    print_json(io, j);
  } else {
    io.out << shown(person->id) << "\n";
  }
  return 0;
}

int admin_person_set(ServerStorage& storage, const std::string& person, const std::string& role,
                     const std::optional<std::string>& profession, AdminIo io) {
  Status done = storage.update_person(person, role, profession);
  if (!done) return admin_fail(done.error(), io);
  if (io.json) {
    Json j{{"id", person}, {"role", role}};
    if (profession) j["profession"] = *profession;
    print_json(io, j);
  } else {
    io.out << shown(person) << " " << shown(role) << "\n";
  }
  return 0;
}

int admin_enroll_code(ServerStorage& storage, Clock& clock, const std::string& person,
                      std::int64_t ttl_ms, AdminIo io) {
  if (ttl_ms <= 0)
    return admin_fail(make_error(ErrorCode::kInvalidValue, "the code's lifetime must be positive"), io);
  auto code = new_enrollment_code();
  if (!code) return admin_fail(code.error(), io);
  const std::int64_t now = clock.now_ms();
  const std::int64_t expires = now + ttl_ms;
  auto school = storage.add_enrollment_code(sha256_hex(normalize_enrollment_code(*code)), person,
                                            now, expires);
  if (!school) return admin_fail(school.error(), io);
  if (io.json) {
    print_json(
        io,
        Json{{"code", *code}, {"person", person}, {"school", *school}, {"expires_ms", expires}});
  } else {
    io.out << shown(*code) << "\n";
  }
  return 0;
}

int admin_login_code(ServerStorage& storage, Clock& clock, const std::string& person,
                     std::int64_t ttl_ms, AdminIo io) {
  auto code = issue_login_code(storage, person, clock.now_ms(), ttl_ms);
  if (!code) return admin_fail(code.error(), io);
  if (io.json) {
    print_json(io, Json{{"code", code->code},
                        {"person", code->person},
                        {"school", code->school},
                        {"expires_ms", code->expires_ms},
                        {"expires_at", format_datetime_ms(code->expires_ms)}});
  } else {
    // The code alone on stdout (scripts take it from there); its terms beside.
    io.out << shown(code->code) << "\n";
    io.err << "single use, valid until " << format_datetime_ms(code->expires_ms)
           << "; type it at /login\n";
  }
  return 0;
}

int admin_device_list(ServerStorage& storage, const std::string& school, AdminIo io) {
  auto devices = storage.list_devices(school);
  if (!devices) return admin_fail(devices.error(), io);
  if (io.json) {
    Json list = Json::array();
    for (const auto& d : *devices) list.push_back(device_json(d));
    print_json(io, list);
  } else {
    // Tab-separated: a tab or newline in a name is escaped like the rest.
    for (const auto& d : *devices) {
      io.out << shown(d.id) << "\t" << shown(d.person) << "\t"
             << (!d.revoked_ms          ? "active"
                 : !d.wipe_ordered_ms   ? "revoked"
                 : d.wipe_delivered_ms ? "wiped"
                                        : "wipe-ordered")
             << "\t" << shown(d.name) << "\n";
    }
  }
  return 0;
}

int admin_device_revoke(ServerStorage& storage, Clock& clock, const std::string& device,
                        bool wipe, AdminIo io) {
  Status s = storage.revoke_device(device, clock.now_ms(), wipe);
  if (!s) return admin_fail(s.error(), io);
  if (io.json) {
    print_json(io, Json{{"id", device}, {"revoked", true}, {"wipe", wipe}});
  } else {
    io.out << "revoked " << shown(device)
           << (wipe ? "; it erases its local data at its next contact" : "") << "\n";
  }
  return 0;
}

int admin_device_rotate_token(ServerStorage& storage, const std::string& device, AdminIo io) {
  Status s = storage.request_token_rotation(device);
  if (!s) return admin_fail(s.error(), io);
  if (io.json) {
    print_json(io, Json{{"id", device}, {"rotation", "due"}});
  } else {
    io.out << "rotate-token " << shown(device)
           << ": a new token goes to the device with its next sync; the old one works until "
              "the device uses the new one\n";
  }
  return 0;
}

int admin_school_set_lease(ServerStorage& storage, const std::string& school, std::int64_t days,
                           AdminIo io) {
  Status s = set_school_lease_days(storage, school, days);
  if (!s) return admin_fail(s.error(), io);
  if (io.json) {
    print_json(io, Json{{"school", school}, {"lease_days", days}});
  } else {
    io.out << "offline lease of " << shown(school) << ": " << days
           << " days (devices learn it at their next sync)\n";
  }
  return 0;
}

int admin_audit_verify(ServerStorage& storage, AdminIo io) {
  auto v = storage.verify_audit();
  if (!v) return admin_fail(v.error(), io);
  if (io.json) {
    Json j{{"ok", v->ok()}, {"schools", v->schools}, {"entries", v->entries}};
    if (v->broken) {
      j["broken"] =
          Json{{"school", v->broken->school}, {"n", v->broken->n}, {"problem", v->broken->problem}};
    } else {
      Json heads = Json::array();
      for (const auto& h : v->heads) {
        heads.push_back(Json{{"school", h.school},
                             {"first_n", h.first_n},
                             {"last_n", h.last_n},
                             {"hash", h.last_hash}});
      }
      j["heads"] = std::move(heads);
    }
    print_json(io, j);
  }
  if (v->broken) {
    if (!io.json) {
      io.err << "tandem-server: audit trail broken: school " << shown(v->broken->school)
             << " entry " << v->broken->n << ": " << shown(v->broken->problem) << "\n";
    }
    return kAuditBrokenExit;
  }
  if (!io.json) {
    io.out << "audit trail intact: " << v->schools << " schools, " << v->entries
           << " entries checked\n";
    for (const auto& h : v->heads) {
      io.out << shown(h.school) << "\tentries " << h.first_n << ".." << h.last_n << "\thead "
             << shown(h.last_hash) << "\n";
    }
  }
  return 0;
}

int admin_audit_export(ServerStorage& storage, const std::string& child, AdminIo io) {
  if (!is_valid_id(child))
    return admin_fail(make_error(ErrorCode::kInvalidArgument, "--child expects a record id"), io);
  auto rows = storage.audit_entries_for_child(child);
  if (!rows) return admin_fail(rows.error(), io);
  const auto lines = audit_export_lines(*rows);
  if (io.json) {
    Json list = Json::array();
    for (const auto& l : lines) {
      list.push_back(Json{{"at", format_datetime_ms(l.at_ms)},
                          {"person", l.person},
                          {"device", l.device},
                          {"record", l.record},
                          {"action", l.action}});
    }
    print_json(io, list);
    return 0;
  }
  io.out << "at,person,device,record,action\n";
  for (const auto& l : lines) {
    io.out << format_datetime_ms(l.at_ms) << ',' << csv_field(l.person) << ','
           << csv_field(l.device) << ',' << csv_field(l.record) << ',' << csv_field(l.action)
           << "\n";
  }
  return 0;
}

int admin_audit_prune(ServerStorage& storage, Clock& clock, std::int64_t days, AdminIo io) {
  if (days < 0 || days > kMaxAuditRetentionDays) {
    return admin_fail(make_error(ErrorCode::kInvalidValue, "--older-than-days must be 0.." +
                                                         std::to_string(kMaxAuditRetentionDays)),
                io);
  }
  const std::int64_t before = audit_retention_cutoff(clock.now_ms(), days);
  auto deleted = storage.prune_audit(before);
  if (!deleted) return admin_fail(deleted.error(), io);
  if (io.json) {
    print_json(io, Json{{"deleted", *deleted}, {"before", format_datetime_ms(before)}});
  } else {
    io.out << "deleted " << *deleted << " audit entries stamped before "
           << format_datetime_ms(before) << "\n";
  }
  return 0;
}

int admin_backup(const std::string& data_dir, const std::string& db_key_file, const std::string& to,
                 AdminIo io) {
  auto made = backup_database(data_dir, db_key_file, to);
  if (!made) return admin_fail(made.error(), io);
  if (io.json) {
    print_json(io, Json{{"file", made->file}, {"bytes", made->bytes}});
  } else {
    io.out << "backup written to " << shown(made->file) << " (" << made->bytes << " bytes)\n";
  }
  return 0;
}

int admin_restore(const std::string& data_dir, const std::string& db_key_file, const std::string& from,
                  const std::string& erasure_log, Clock& clock, AdminIo io) {
  auto restored = restore_database(data_dir, db_key_file, from, erasure_log, clock);
  if (!restored) return admin_fail(restored.error(), io);
  if (io.json) {
    print_json(io, Json{{"data", data_dir},
                        {"erasures_in_log", restored->erasures_in_log},
                        {"erasures_reapplied", restored->erasures_reapplied}});
  } else {
    io.out << "restored into " << shown(data_dir) << "; erasure log: " << restored->erasures_in_log
           << " purges, " << restored->erasures_reapplied << " re-applied\n";
  }
  return 0;
}

int admin_erasures_reapply(ServerStorage& storage, Clock& clock, const std::vector<std::string>& logs,
                           AdminIo io) {
  std::vector<Change> purges;
  for (const auto& log : logs) {
    auto read = ErasureLog::read(log);
    if (!read) return admin_fail(read.error(), io);
    purges.insert(purges.end(), read->begin(), read->end());
  }
  std::int64_t applied = 0;
  if (!purges.empty()) {
    auto done = reapply_erasures(storage, purges, clock.now_ms());
    if (!done) return admin_fail(done.error(), io);
    applied = *done;
  }
  if (io.json) {
    print_json(io, Json{{"erasures_in_logs", static_cast<std::int64_t>(purges.size())},
                        {"erasures_reapplied", applied}});
  } else {
    io.out << "erasure logs: " << purges.size() << " purges, " << applied << " re-applied\n";
  }
  return 0;
}

}  // namespace tandem::server
