// The audit chain's rules, shared by every backend (see audit.hpp).
#include "tandem/server/audit.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include "tandem/core/excerpt.hpp"
#include "tandem/core/json.hpp"
#include "tandem/server/crypto.hpp"
#include "tandem/server/limits.hpp"

namespace tandem::server {
namespace {

// An id as an audit entry may hold it: letters, digits and "_-.:" (record
// ids, "dev_<hex>"), so that no text (a name, a note) passes for an id, and
// an id needs no quoting in JSON or CSV.
bool is_audit_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxAuditIdBytes &&
         std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-' || c == '.' || c == ':';
         });
}

Status bad(const std::string& what) { return make_error(ErrorCode::kInvalidArgument, what); }

// A field of the canonical encoding: its length in decimal, ':', its bytes.
void put(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

}  // namespace

Status validate_audit_entry(const AuditEntry& entry) {
  if (std::none_of(std::begin(kAuditActions), std::end(kAuditActions),
                   [&](const char* a) { return entry.action == a; })) {
    return bad("unknown audit action " + excerpt(entry.action));
  }
  if (!is_audit_id(entry.school)) return bad("an audit entry needs its school's id");
  // Empty person and device: the administration (admin CLI).
  if (!entry.person.empty() && !is_audit_id(entry.person))
    return bad("an audit entry's person must be an id");
  if (!entry.device.empty() && !is_audit_id(entry.device))
    return bad("an audit entry's device must be an id");
  if (entry.records.empty()) return bad("an audit entry names at least one record");
  if (entry.records.size() > kMaxAuditRefsPerEntry) {
    return make_error(ErrorCode::kTooLong, "an audit entry names at most " +
                                               std::to_string(kMaxAuditRefsPerEntry) + " records");
  }
  for (const auto& ref : entry.records) {
    if (!is_audit_id(ref.record) || !is_audit_id(ref.child))
      return bad("an audit entry's records and children must be ids");
  }
  return {};
}

std::string audit_canonical(const AuditEntry& entry, std::int64_t n) {
  std::string out = "tandem-audit-1;";
  put(out, entry.school);
  put(out, std::to_string(n));
  put(out, std::to_string(entry.at_ms));
  put(out, entry.person);
  put(out, entry.device);
  put(out, entry.action);
  put(out, std::to_string(entry.records.size()));
  for (const auto& ref : entry.records) {
    put(out, ref.record);
    put(out, ref.child);
  }
  return out;
}

std::string audit_hash(std::string_view prev_hash, const AuditEntry& entry, std::int64_t n) {
  std::string data(prev_hash);
  data += audit_canonical(entry, n);
  return sha256_hex(data);
}

AuditChainChecker::AuditChainChecker(AuditChainState state)
    : state_(std::move(state)), next_n_(state_.first_n), prev_(state_.first_prev) {}

bool AuditChainChecker::add(const AuditEntryRow& row) {
  if (broken_) return false;
  const auto fail = [&](std::int64_t n, std::string problem) {
    broken_ = AuditBreak{state_.school, n, std::move(problem)};
    return false;
  };
  if (row.n < next_n_) {
    return fail(row.n, next_n_ == state_.first_n
                           ? "entry kept before the checkpoint (first kept entry is " +
                                 std::to_string(state_.first_n) + ")"
                           : "entry out of order");
  }
  if (row.n > next_n_) return fail(next_n_, "entry missing (deleted)");
  if (row.entry.school != state_.school) return fail(row.n, "entry filed under another school");
  if (audit_hash(prev_, row.entry, row.n) != row.hash) {
    // Either this entry's content changed, or it no longer follows the
    // previous one (replaced, reordered).
    return fail(row.n, "hash does not match the entry's content and the entry before it");
  }
  prev_ = row.hash;
  ++next_n_;
  ++checked_;
  return true;
}

std::optional<AuditBreak> AuditChainChecker::finish() {
  if (broken_) return broken_;
  const std::int64_t last = next_n_ - 1;
  if (last < state_.last_n) {
    broken_ = AuditBreak{state_.school, last + 1,
                         "entry missing (deleted): the head says the chain ends at " +
                             std::to_string(state_.last_n)};
  } else if (last > state_.last_n) {
    broken_ = AuditBreak{state_.school, state_.last_n + 1, "entry after the head"};
  } else if (prev_ != state_.last_hash) {
    broken_ = AuditBreak{state_.school, last, "the head's hash does not match the last entry"};
  }
  return broken_;
}

std::int64_t audit_retention_cutoff(std::int64_t now_ms, std::int64_t days) {
  constexpr std::int64_t kDayMs = 24LL * 60 * 60 * 1000;
  constexpr std::int64_t kMaxDays = 1'000'000;  // ~2,700 years: nothing is older
  if (days >= kMaxDays) return std::numeric_limits<std::int64_t>::min();
  return now_ms - std::max<std::int64_t>(days, 0) * kDayMs;
}

std::vector<AuditExportLine> audit_export_lines(const std::vector<AuditEntryRow>& rows) {
  std::vector<AuditExportLine> out;
  for (const auto& row : rows) {
    for (const auto& ref : row.entry.records) {
      out.push_back(AuditExportLine{row.entry.at_ms, row.entry.person, row.entry.device, ref.record,
                                    row.entry.action});
    }
  }
  return out;
}

std::string audit_encode_records(const std::vector<AuditRef>& refs) {
  Json list = Json::array();
  for (const auto& r : refs) list.push_back(Json::array({r.record, r.child}));
  return list.dump();
}

std::optional<std::vector<AuditRef>> audit_decode_records(std::string_view text) {
  auto parsed = parse_json_text(text);
  if (!parsed || !parsed->is_array()) return std::nullopt;
  std::vector<AuditRef> refs;
  refs.reserve(parsed->size());
  for (const auto& pair : *parsed) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string())
      return std::nullopt;
    refs.push_back(AuditRef{pair[0].get<std::string>(), pair[1].get<std::string>()});
  }
  return refs;
}

}  // namespace tandem::server
