// The audit trail: who used which child's data, when and how (issue 12).
//
// Every read (a record that names a child delivered to a device, shown in a
// report or exported), change and erasure of child-linked data is one
// AuditRef in an AuditEntry: when, the person and device, the action, and the
// ids of the record and of the child it names. Never text, never pseudonyms:
// a trail that a data-subject request hands out must not itself leak.
// Entries are batched (one per delivered page, one per push) so that reads
// stay cheap.
//
// The chain (backend-neutral; every backend stores and checks it with the
// functions below, so they agree bit for bit):
//  - one chain per school (schools never wait on each other's appends);
//    entries are numbered n = 1, 2, ... per school, without gaps;
//  - hash(n) = SHA-256(hash(n-1) || canonical(entry n)) in lowercase hex,
//    with hash(0) = kAuditGenesisHash; canonical() encodes (school, n, at_ms,
//    person, device, action, records) with a length before every field, so
//    no two different entries encode alike;
//  - a head per school (its last n and last hash): deleting the newest
//    entries leaves the head pointing past them;
//  - a checkpoint per school (the first n kept and the hash it chains from):
//    retention deletes the oldest entries and moves the checkpoint, and the
//    rest still verifies.
// Nothing updates an entry. The chain finds accidental damage and edits by
// anyone who does not also recompute every later hash and the head; `audit
// verify` prints each school's head hash so that an operator can note it
// outside the server and see a rewrite too.
//
// Thread-safety: the functions are pure; call them from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/error.hpp"

namespace tandem::server {

struct AuditRef {
  std::string record;
  std::string child;  // the child the record names (ids only)
};

// One entry as a caller appends it (its number and hash are the backend's).
struct AuditEntry {
  std::int64_t at_ms = 0;
  std::string school, person, device;  // person/device "" = the administration (admin CLI)
  std::string action;                  // "read" | "change" | "erase" | "export"
  std::vector<AuditRef> records;       // batched: one entry per delivered page / per push
};

// One stored entry.
struct AuditEntryRow {
  std::int64_t n = 0;
  AuditEntry entry;
  std::string hash;  // hex SHA-256, see above
};

// A school's chain as its head and checkpoint rows state it.
struct AuditChainState {
  std::string school;
  std::int64_t first_n = 1;  // the first entry kept
  std::string first_prev;    // the hash it chains from (kAuditGenesisHash before any pruning)
  std::int64_t last_n = 0;   // 0: no entry yet
  std::string last_hash;     // kAuditGenesisHash before the first entry
};

struct AuditBreak {
  std::string school;
  std::int64_t n = 0;   // the first entry found broken (or missing)
  std::string problem;  // what is wrong, in English
};

struct AuditSchoolHead {
  std::string school;
  std::int64_t first_n = 0, last_n = 0;
  std::string last_hash;
};

struct AuditVerification {
  std::int64_t schools = 0;
  std::int64_t entries = 0;            // checked
  std::optional<AuditBreak> broken;    // the first break found; nullopt: intact
  std::vector<AuditSchoolHead> heads;  // of the schools checked, in school order
  bool ok() const { return !broken; }
};

inline constexpr const char* kAuditActions[] = {"read", "change", "erase", "export"};
inline const std::string kAuditGenesisHash(64, '0');

// Whether `entry` may be appended: a known action, a school, at least one
// record and at most kMaxAuditRefsPerEntry (else kTooLong), every id
// non-empty, at most kMaxAuditIdBytes of [A-Za-z0-9_.:-] (ids only, never
// text). kInvalidArgument otherwise.
Status validate_audit_entry(const AuditEntry& entry);

// The canonical encoding of entry number `n` (see above).
std::string audit_canonical(const AuditEntry& entry, std::int64_t n);
// hash(n) from hash(n-1).
std::string audit_hash(std::string_view prev_hash, const AuditEntry& entry, std::int64_t n);

// The records of an entry as stored ([[record, child], ...] JSON text), and
// back; nullopt when the text is not what audit_encode_records writes.
std::string audit_encode_records(const std::vector<AuditRef>& refs);
std::optional<std::vector<AuditRef>> audit_decode_records(std::string_view text);

// Checks one school's chain, fed its stored entries in ascending n. Reports
// the first problem: a gap (a deleted entry), a hash that does not match the
// entry's content or its predecessor (an edited, reordered or replaced
// entry), or entries that end before or after the head says.
class AuditChainChecker {
 public:
  explicit AuditChainChecker(AuditChainState state);
  // False once a break is found (then feed no more).
  bool add(const AuditEntryRow& row);
  // After the last row: the first break, if any.
  std::optional<AuditBreak> finish();
  std::int64_t checked() const { return checked_; }

 private:
  AuditChainState state_;
  std::int64_t next_n_;
  std::string prev_;
  std::int64_t checked_ = 0;
  std::optional<AuditBreak> broken_;
};

// Retention: entries stamped before this are pruned when they are kept for
// `days` days (a number of days past any clock's range keeps everything).
std::int64_t audit_retention_cutoff(std::int64_t now_ms, std::int64_t days);

// One line per record of `rows` (batched entries expanded), for a
// data-subject request (rows from ServerStorage::audit_entries_for_child).
struct AuditExportLine {
  std::int64_t at_ms = 0;
  std::string person, device, record, action;
};
std::vector<AuditExportLine> audit_export_lines(const std::vector<AuditEntryRow>& rows);

}  // namespace tandem::server
