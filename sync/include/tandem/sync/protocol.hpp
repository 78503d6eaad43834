// The /v1 wire protocol: the messages a device and the server exchange, and
// their JSON codec. Shared by the server (server/) and the client sync engine
// (sync/); docs/protocol.md and docs/openapi.yaml describe the same messages
// for people.
//
// Decoding is strict: unknown members, wrong JSON types, missing members and
// out-of-range numbers are errors with the stable codes of error.hpp
// (kUnknownField, kWrongType, kMissingField, kInvalidValue, ...), and the
// message names the offending member ("push.changes[3]: unknown member 'x'").
// Messages never contain note contents: only member names and limits; a
// name the request held is quoted as a short escaped excerpt, and every
// message sent is bounded (tandem/core/excerpt.hpp).
//
// Thread-safety: every function here is pure (no shared state) and may be
// called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/change.hpp"
#include "tandem/core/error.hpp"
#include "tandem/core/json.hpp"
#include "tandem/core/lease.hpp"

namespace tandem::sync {

// ---- hard limits of /v1 (the server enforces them; a client stays below) ----
inline constexpr std::size_t kMaxChangesPerPush = 1000;
inline constexpr std::size_t kMaxPullLimit = 1000;  // larger requests are clamped
inline constexpr std::size_t kDefaultPullLimit = 500;
// pull.gone names at most this many records per answer (the server spreads
// a larger narrowing over several answers).
inline constexpr std::size_t kMaxGonePerPage = 1000;
// A pull page ends before its changes' JSON text passes this many bytes (it
// always holds at least one change, however large: a single change is
// bounded by kMaxBodyBytes). 1 MiB keeps an answer far below any client's
// response cap and what a server holds per slow reader small (40 clients
// that never read cost the server ~40 MiB, not 40 full pages).
inline constexpr std::size_t kMaxPullPageBytes = 1024 * 1024;
inline constexpr std::size_t kMaxBodyBytes = 8 * 1024 * 1024;  // 413 above
using tandem::kMaxJsonDepth;                                   // 64: nesting of arrays/objects
inline constexpr std::int64_t kDefaultMaxSkewMs = 5 * 60 * 1000;

// Every integer on the wire (ids, seqs, cursors, times, limits) lies within
// 0..2^53: the range a JSON number keeps exactly in any decoder (IEEE
// doubles), and far from int64 overflow when a device adds to it. Decoders
// refuse anything beyond (kInvalidValue on the server's side; a client
// turns it into kBadResponse).
inline constexpr std::int64_t kMaxWireInteger = std::int64_t{1} << 53;
// push.mutation_id is 1..kMaxMutationId (400 invalid_value otherwise). A
// device that has used kMaxMutationId pushes no more until it enrolls again
// (a new device starts at 1).
inline constexpr std::int64_t kMaxMutationId = kMaxWireInteger;

// ---- limits a client holds a server's answer to ----
// The largest answer (decoded body) a client reads; beyond it the transfer
// is aborted (kResponseTooLarge), so a server cannot make a device hold more.
// A conforming answer carries one push's verdicts (short: under 1 MiB for
// kMaxChangesPerPush) and one pull page, which the server keeps within
// kMaxBodyBytes (a single change never exceeds it: it arrived in one request).
inline constexpr std::size_t kMaxResponseBytes = 2 * kMaxBodyBytes;
// The answer's status line and headers together.
inline constexpr std::size_t kMaxResponseHeaderBytes = 64 * 1024;
inline constexpr std::string_view kServerTimeHeader = "X-Tandem-Server-Time";

// ---- JSON text ----

// Parses `text` as one JSON value: parse_json_text (core/json.hpp), whose
// pre-scan refuses nesting deeper than `max_depth` before the parser runs, so
// a hostile body cannot exhaust the stack. Errors: kInvalidJson (syntax,
// invalid UTF-8, too deep).
Result<Json> parse_json(std::string_view text, std::size_t max_depth = kMaxJsonDepth);

// ---- errors: {"error":{"code":"...","message":"..."}, "server_time_ms": N} ----
struct ErrorResponse {
  Error error;
  std::optional<std::int64_t> server_time_ms;
  // Set only with a stale or reused push.mutation_id: the last id the server
  // holds for this device, so a restored device can continue after it.
  std::optional<std::int64_t> last_mutation_id;

  Json to_json() const;
  static Result<ErrorResponse> from_json(const Json& j);
};

// ---- POST /v1/enroll ----
struct EnrollRequest {
  std::string code;         // as typed; dashes, spaces and case are ignored
  std::string device_name;  // a label for admins ("tablet 3"); may be empty
  // "check": true asks whom the code is for (EnrollCheckResponse) without
  // consuming it or registering anything; on the wire only when true.
  // Refusals are those of a redeeming request, throttled alike.
  bool check = false;

  Json to_json() const;
  static Result<EnrollRequest> from_json(const Json& j);
};

struct SchoolInfo {
  std::string id;
  std::string name;
};

struct PersonInfo {
  std::string id;
  std::string name;
  std::string role;
};

struct EnrollResponse {
  std::string device_id;
  std::string token;  // shown once; the server keeps only its SHA-256
  SchoolInfo school;
  PersonInfo person;
  std::int64_t server_time_ms = 0;
  // The school's offline lease in days (kMinLeaseDays..kMaxLeaseDays,
  // core/lease.hpp); absent from older servers.
  std::optional<std::int64_t> lease_days{};

  Json to_json() const;
  static Result<EnrollResponse> from_json(const Json& j);
};

// The answer to a check: whom the code is for. Nothing was consumed.
struct EnrollCheckResponse {
  SchoolInfo school;
  PersonInfo person;
  std::int64_t server_time_ms = 0;

  Json to_json() const;
  static Result<EnrollCheckResponse> from_json(const Json& j);
};

// ---- POST /v1/sync ----
struct PushRequest {
  std::int64_t mutation_id = 0;  // per device, strictly increasing, 1..kMaxMutationId
  std::vector<Change> changes;   // at most kMaxChangesPerPush
};

struct PullRequest {
  std::int64_t cursor = 0;                // last seq the device has applied (0 = nothing yet)
  std::size_t limit = kDefaultPullLimit;  // 1.. ; the server clamps to kMaxPullLimit
  // The last view number the device stored from a pull answer (0: none yet;
  // on the wire only when > 0, so an old client's request is unchanged).
  std::int64_t view = 0;
};

struct SyncRequest {
  std::optional<PushRequest> push;
  std::optional<PullRequest> pull;

  Json to_json() const;
  // The same text as to_json().dump(), with the push's changes given as
  // their texts (change_texts[i] == push->changes[i].to_json().dump()): a
  // batch is encoded once, for its size and for the body.
  // REQUIRES: push, and one text per change.
  std::string to_text(const std::vector<std::string>& change_texts) const;
  static Result<SyncRequest> from_json(const Json& j);
};

enum class ChangeStatus {
  kAccepted,   // merged and stored (seq set), or stored as a no-op on a
               // deleted/purged record (seq absent)
  kDuplicate,  // the server already had this change (same hlc)
  kRejected,   // not stored; `error` says why (never retried by the client as is)
};

std::string_view change_status_name(ChangeStatus s) noexcept;
Result<ChangeStatus> change_status_from_name(std::string_view name);

struct ChangeResult {
  std::string hlc;
  ChangeStatus status = ChangeStatus::kAccepted;
  std::optional<std::int64_t> seq;  // accepted: its place in the school's sequence
  std::optional<Error> error;       // rejected only

  Json to_json() const;
  static Result<ChangeResult> from_json(const Json& j);
};

struct PushResponse {
  std::int64_t mutation_id = 0;
  std::vector<ChangeResult> results;  // one per pushed change, in request order
  bool replayed = false;              // true: the stored answer to an earlier identical request

  Json to_json() const;
  static Result<PushResponse> from_json(const Json& j);
};

struct PulledChange {
  std::int64_t seq = 0;
  Change change;
};

// Replication follows visibility (docs/protocol.md, "Visibility"):
//  - `view`: the server's view number for this device (1..2^53, absent when
//    0). Stored with the page's cursor and sent back as pull.view.
//  - `gone`: records that left the device's scope (valid ids, at most
//    kMaxGonePerPage). The device erases them locally (Store::forget) in
//    the page's transaction, unless its outbox still holds a change to one
//    of them: then it applies nothing of the pull part, pushes, and pulls
//    again (the server repeats `gone` until a pull carries its view).
//  - `rewind`: records entered the scope; `cursor` (<= the request's)
//    replaces the device's, which pulls on from there. No changes, more=true.
struct PullResponse {
  std::vector<PulledChange> changes;  // seq ascending, all > request cursor
  std::int64_t cursor = 0;            // store this with the applied page
  bool more = false;                  // ask again with the new cursor
  std::optional<std::int64_t> view{};
  std::vector<std::string> gone{};
  bool rewind = false;

  Json to_json() const;
  static Result<PullResponse> from_json(const Json& j);
};

// What the server tells the device about itself in a sync answer
// (docs/protocol.md, "Lost tablet, offline lease, device token").
struct DeviceTerms {
  std::int64_t lease_days = 0;  // the school's offline lease, kMinLeaseDays..kMaxLeaseDays
  // A new device token (rotation): the device stores it and uses it from
  // its next request; the old one stays valid until the server sees it.
  std::optional<std::string> token;
  bool operator==(const DeviceTerms&) const = default;
};
// A token on the wire: 1..kMaxTokenBytes printable ASCII characters.
inline constexpr std::size_t kMaxTokenBytes = 256;

struct SyncResponse {
  std::int64_t server_time_ms = 0;
  std::optional<PushResponse> push;
  std::optional<PullResponse> pull;
  std::optional<DeviceTerms> device{};  // absent from older servers

  Json to_json() const;
  static Result<SyncResponse> from_json(const Json& j);
};

// Checks a decoded answer against the request it answers: what no single
// member can show. The push part answers this push (same mutation_id, at most
// one result per pushed change, each for a change that was pushed); the pull
// page moves forward (cursor not below the request's unless `rewind`; seqs
// ascending, above the request's cursor and not beyond the page's; no more
// changes than the limit asked; `more` only with progress: a cursor moved,
// records gone or a rewind); a rewind carries no changes, asks for more and
// does not move the cursor forward; `gone` holds at most kMaxGonePerPage
// valid ids; each part is there exactly when asked for. from_json has
// already bounded every number.
// Errors: kBadResponse, naming the member; an answer refused here must not
// change anything on the device.
Status check_sync_response(const SyncRequest& request, const SyncResponse& answer);

// ---- answers from parts already encoded (the server's fast path) ----

// A pulled change whose JSON text is at hand: the server keeps every
// accepted change as Change::to_json().dump() and serves that text as is.
struct EncodedChange {
  std::int64_t seq = 0;
  std::string json;  // Change::to_json().dump()
};

struct EncodedPullPage {
  std::vector<EncodedChange> changes;  // seq ascending, all > request cursor
  std::int64_t cursor = 0;
  bool more = false;
  std::int64_t view = 0;          // written only when > 0
  std::vector<std::string> gone;  // written only when non-empty; valid ids
  bool rewind = false;            // written only when true
};

// Exactly the text of SyncResponse::to_json().dump() for the same answer,
// built without decoding the parts: `push_json` is the push answer as
// PushResponse::to_json().dump() (empty: no push part); `pull` may be null
// (no pull part).
std::string encode_sync_response(std::int64_t server_time_ms, std::string_view push_json,
                                 const EncodedPullPage* pull, const DeviceTerms* device = nullptr);

}  // namespace tandem::sync
