// Hard limits of tandem-server, written down in one place (STYLE.md: limits
// are named constants in the code, not folklore). Protocol-level limits that
// a client must also know (batch size, page size, body size, JSON depth)
// live in tandem/sync/protocol.hpp and are re-exported here.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "tandem/sync/protocol.hpp"

namespace tandem::server {

using sync::kMaxBodyBytes;       // 8 MiB: larger bodies get 413 payload_too_large
using sync::kMaxChangesPerPush;  // 1000: more gets 413 too_many_changes
using sync::kMaxJsonDepth;       // 64: deeper gets 400 invalid_json
using sync::kMaxPullLimit;       // 1000 changes per pull page
using sync::kMaxPullPageBytes;   // 1 MiB of changes per pull page (at least one change)
using sync::kMaxGonePerPage;     // 1000 record ids that left a view, per answer

// ---- text work in one push (the per-change limits are the core's:
// tandem/core/text/limits.hpp, refused per change with text_too_large) ----
// Checked before a push is queued, over the changes that passed their own
// checks; beyond: 413 payload_too_large, the code on which a device's sync
// engine splits its batch in halves (a new code would strand devices that
// only split on that one). So an honest device is never stuck here: one
// change within its own limits always fits (4 changes at the per-change
// limits do), and its outbox goes up in smaller pushes. The numbers keep one
// push's merge on the commit thread at a few hundred milliseconds on the
// slowest server we support (tests/fault/commit_fairness_test.cpp).
// Visibility: a pull of a device that sees part of its school reads on past
// rows it may not see until its page fills, at most this many rows per
// request (the cursor still moves past them, so the next request goes on):
// about 5 ms of an io thread on a 2-core VM (bench_server_rps --roles
// mixed), so a teacher's catch-up never holds other requests for long.
inline constexpr std::size_t kMaxScannedRowsPerPull = 5'000;
// ... in reads of this many rows once its first read showed that it is
// filtered (most rows may be others'): a few reads per request, not hundreds.
inline constexpr std::size_t kPullScanBatchRows = 1'000;
// The school's view (reports.hpp): a report reads at most this many records
// of one school (a school year is about 25,000; a school past this limit gets
// kTooLong, never a server that runs out of memory), keeps at most this many
// schools and records in memory between reports (least recently used go;
// about 1 GB at most for 400,000 records), and
// lists at most this many rows in one overview list (overdue actions).
inline constexpr std::size_t kMaxReportRecords = 400'000;
inline constexpr std::size_t kMaxCachedReportSchools = 8;
inline constexpr std::size_t kMaxCachedReportRecords = 400'000;
inline constexpr std::size_t kMaxReportListRows = 500;
// Reports run on the worker pool (never the network threads), one at a
// time; at most this many are in flight (beyond: 503 busy).
inline constexpr std::size_t kMaxQueuedReports = 16;
// The cost in the commit queue of a pull's bookkeeping (its view, its audit entry).
inline constexpr std::uint64_t kPullWriteCost = 4;

inline constexpr std::uint64_t kMaxTextOpsPerPush = 16'384;          // ins ops + del ranges
inline constexpr std::uint64_t kMaxTextInsertedPerPush = 2'000'000;  // code points

// ---- fairness of the commit path (CommitQueue, commit_queue.hpp) ----
// A push's cost in work units of the commit thread, estimated before it is
// queued: an ordinary change is kCostPerChange, and a text op or
// kInsertedPerCost inserted code points one unit more. A commit group takes
// pushes up to kCommitGroupBudget; a costlier push is a group of its own.
inline constexpr std::uint64_t kCostPerChange = 4;
inline constexpr std::uint64_t kInsertedPerCost = 256;
inline constexpr std::uint64_t kCommitGroupBudget = 4096;
// A group that has run this long takes no further push; the rest go back to
// the queue for the next group (estimates cannot see how large a record's
// stored text already is).
inline constexpr std::chrono::milliseconds kCommitGroupTime{100};

constexpr std::uint64_t push_cost(std::uint64_t changes, std::uint64_t text_ops,
                                  std::uint64_t inserted) {
  return changes * kCostPerChange + text_ops + inserted / kInsertedPerCost;
}

// Request line + headers. Beyond it: 431 payload_too_large.
inline constexpr std::size_t kMaxHeaderBytes = 16 * 1024;

// A client has this long to send a complete request line and headers once
// it has started a request (and a new connection to start one). Over TLS a
// new connection first has this long to finish its handshake (counted as
// reading: reapable at the connection limit), then again for its request.
inline constexpr std::chrono::milliseconds kHeaderTimeout{10'000};
// ...and this long for the body after the headers.
inline constexpr std::chrono::milliseconds kBodyTimeout{30'000};
// A keep-alive connection may sit idle between requests this long.
inline constexpr std::chrono::milliseconds kIdleTimeout{60'000};
// Writing one response: a client that does not read it (or reads at a
// trickle) is cut off (reset) when this has passed.
inline constexpr std::chrono::milliseconds kWriteTimeout{30'000};
// One request as a whole, from its first byte to the last byte of its
// answer (headers, body, handling, writing): each phase's own timeout is cut
// to what is left of this.
inline constexpr std::chrono::milliseconds kRequestTimeout{60'000};
// ...except that an answer always gets this long to be written, even when
// the server's own handling used up the request's time (a push answer lost
// to the deadline would only be sent again).
inline constexpr std::chrono::milliseconds kMinWriteTime{2'000};

// Open connections at once (lowered at start to fit the process's file
// limit, see kReservedFds). At the limit, a new connection makes room:
// idle connections (between requests) are closed, oldest first, then slow
// ones (reading a request), longest reading first; one that is being
// handled or answered is never closed for another. Only when none can go
// is the new one turned away (503 busy). Nothing here looks at addresses:
// behind a school's NAT every tablet shares one.
inline constexpr std::size_t kMaxConnections = 1024;
// One scan of the open connections closes up to this many, making room for
// the next new connections as well (so the scan is paid once per batch).
inline constexpr std::size_t kReapBatch = 16;
// Connections over the limit with nothing left to close are still read, up
// to this many at once, for /healthz (answered) and everything else (503
// busy); they must send their request within kOverflowHeaderTimeout.
inline constexpr std::size_t kMaxOverflowConnections = 64;
inline constexpr std::chrono::milliseconds kOverflowHeaderTimeout{2'000};
// File descriptors kept for everything but connections (database files,
// readers, logs, the acceptor): the connection limit is lowered to fit
// RLIMIT_NOFILE minus these (and the soft limit is first raised toward the
// hard one).
inline constexpr std::size_t kReservedFds = 128;
// Each connection's kernel send buffer, fixed (no autotuning; Linux
// doubles it for bookkeeping): what a client that does not read leaves in
// the kernel is bounded too, and a slow reader of an answer larger than this
// meets the write deadline instead of the kernel reading it out for ever.
// Plenty for a school's LAN (256 KiB in flight per connection).
inline constexpr int kSocketSendBufferBytes = 256 * 1024;
// A connection's read buffer is shrunk back to this between requests (a
// large push must not leave megabytes behind on an idle connection).
inline constexpr std::size_t kMaxIdleBufferBytes = 16 * 1024;
// What one open connection can hold at most, then: its read buffer and
// parsed request (kMaxHeaderBytes + kMaxBodyBytes while reading) or one
// answer (a pull page of kMaxPullPageBytes, plus one larger change, plus a
// push answer) while writing; kMaxIdleBufferBytes while idle.

// Failed attempts per client address (IPv6: per /64), a token bucket each:
// a burst, then a steady rate; beyond them the request is answered 429
// rate_limited with Retry-After before anything is looked up. Successes
// cost nothing, so a school enrolling all its tablets behind one NAT address
// is never slowed by its valid codes, and its typos have room to spare.
// Enrollment: a wrong code costs a write transaction and is a guess at a
// code, so few per second.
inline constexpr double kEnrollFailureBurst = 30;
inline constexpr double kEnrollFailuresPerSecond = 1;
// Authentication: an unknown or revoked token (devices left revoked retry
// at their sync interval).
inline constexpr double kAuthFailureBurst = 100;
inline constexpr double kAuthFailuresPerSecond = 5;
// Addresses remembered per throttle (~100 bytes each); when full, those
// whose bucket has refilled are forgotten first, then the stalest.
inline constexpr std::size_t kMaxThrottledAddresses = 4096;

// Threads per core (default) for requests that wait for their own commit
// (enrollment). Pushes do not take a thread while they wait: they join the
// commit queue and are answered when their group is durable, so the network
// threads and one commit thread carry every sync.
inline constexpr unsigned kBlockingThreadsPerCore = 1;

// After SIGTERM/SIGINT, in-flight requests get this long to finish.
inline constexpr std::chrono::milliseconds kDrainTimeout{30'000};

// A device's last_seen is written at most this often (it costs a commit).
inline constexpr std::int64_t kLastSeenGranularityMs = 60'000;

// "Active devices" in /metrics: seen within this window.
inline constexpr std::int64_t kActiveDeviceWindowMs = 24LL * 60 * 60 * 1000;

// Enrollment codes live this long unless the admin says otherwise.
inline constexpr std::int64_t kDefaultEnrollmentTtlMs = 15LL * 60 * 1000;

// Device tokens: random bytes (256 bits, >= 128 required).
inline constexpr std::size_t kTokenBytes = 32;
// A device token older than this (since it became the device's) is rotated
// at the device's next sync (token_rotation.hpp): a token copied off a
// tablet or out of a backup stops working within a school term or so, and a
// tablet that syncs weekly rotates a few times a year.
inline constexpr std::int64_t kTokenMaxAgeMs = 90LL * 24 * 60 * 60 * 1000;

// ---- leaders' web pages (web.hpp) ----
// A login code lives this long unless the administration says otherwise
// (typed at once from the administration's message, and single use).
inline constexpr std::int64_t kDefaultLoginCodeTtlMs = 10LL * 60 * 1000;
// A browser session lasts a working day (Max-Age of the cookie and expiry
// of its row), then the leader asks for a new code.
inline constexpr std::int64_t kWebSessionSeconds = 8LL * 60 * 60;
// Wrong login codes per client address (a guess at a code, as for
// enrollment; a school's leaders share their NAT's address, so some room).
inline constexpr double kLoginFailureBurst = 20;
inline constexpr double kLoginFailuresPerSecond = 0.5;
// A login or logout form body (one short field and a token): anything larger
// is not a form of ours and is refused before it is decoded.
inline constexpr std::size_t kMaxWebFormBytes = 4 * 1024;

// ---- the audit trail (audit.hpp) ----
// Records one entry may list: a delivered page or a push holds at most 1000
// changes (kMaxPullLimit, kMaxChangesPerPush); the rest is room for a
// widening backfill or a report, which callers split beyond it.
inline constexpr std::size_t kMaxAuditRefsPerEntry = 4096;
// An id in an entry (record, child, person, device, school): ids only, so
// short; anything longer is not an id.
inline constexpr std::size_t kMaxAuditIdBytes = 128;
// Entries are kept this long by default (--audit-retention-days): six
// months, the period the Danish public sector's standard data processing
// agreements (and the former security order for public authorities) set for
// logs of the use of personal data. Long enough to answer a parent's request
// for the log of a school year's half, short enough that the log does not
// become a second record of the child.
inline constexpr std::int64_t kDefaultAuditRetentionDays = 183;
// Retention given on the command line: at most ~270 years.
inline constexpr std::int64_t kMaxAuditRetentionDays = 100'000;
// The server prunes at start and then this often.
inline constexpr std::chrono::hours kAuditPruneInterval{24};
// Entries deleted per transaction when pruning: a long backlog is pruned in
// steps, so the commit thread is never held up for long.
inline constexpr std::int64_t kAuditPruneBatch = 5000;

}  // namespace tandem::server
