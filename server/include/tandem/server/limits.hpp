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
// it has started a request (and a new connection to start one).
inline constexpr std::chrono::milliseconds kHeaderTimeout{10'000};
// ...and this long for the body after the headers.
inline constexpr std::chrono::milliseconds kBodyTimeout{30'000};
// A keep-alive connection may sit idle between requests this long.
inline constexpr std::chrono::milliseconds kIdleTimeout{60'000};
// Writing one response (the client must read it).
inline constexpr std::chrono::milliseconds kWriteTimeout{30'000};

// Open connections at once; the next one is answered 503 busy and closed.
inline constexpr std::size_t kMaxConnections = 1024;

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

}  // namespace tandem::server
