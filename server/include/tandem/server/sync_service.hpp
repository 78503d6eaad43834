// SyncService: the /v1 operations — enroll, authenticate, sync — independent
// of HTTP. It owns the per-change rules of a push (write access, schema,
// clock bound) and calls ServerStorage for everything kept.
//
// Thread-safety: safe from any thread; it holds no mutable state of its own
// (storage and metrics are thread-safe, the clock must be).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "tandem/core/hlc.hpp"
#include "tandem/core/text/limits.hpp"
#include "tandem/server/metrics.hpp"
#include "tandem/server/storage.hpp"
#include "tandem/sync/protocol.hpp"

namespace tandem::server {

class ErasureLog;

// A wall clock shifted by a fixed offset (--now-offset-ms). Thread-safe.
class OffsetClock final : public Clock {
 public:
  explicit OffsetClock(std::int64_t offset_ms) : offset_ms_(offset_ms) {}
  std::int64_t now_ms() override { return base_.now_ms() + offset_ms_; }

 private:
  SystemClock base_;
  std::int64_t offset_ms_;
};

// Either a response or the error to send (with its extra members).
template <typename T>
struct Outcome {
  std::optional<T> value;
  sync::ErrorResponse error;  // meaningful when !value

  static Outcome fail(Error e) {
    Outcome o;
    o.error.error = std::move(e);
    return o;
  }
};

class SyncService {
 public:
  // REQUIRES: storage, clock and metrics outlive the service.
  // `erasures`: where purges are logged before they commit (backup.hpp);
  // nullptr: not logged.
  SyncService(ServerStorage& storage, Clock& clock, Metrics& metrics, std::int64_t max_skew_ms,
              ErasureLog* erasures = nullptr);

  std::int64_t now_ms() { return clock_.now_ms(); }

  // POST /v1/enroll. Errors: kUnauthorized (unknown/used code), kExpired.
  Outcome<sync::EnrollResponse> enroll(const sync::EnrollRequest& request);
  // POST /v1/enroll with "check": whom the code is for, nothing consumed.
  // Same errors as enroll().
  Outcome<sync::EnrollCheckResponse> check_enrollment(const sync::EnrollRequest& request);

  // The device behind an "Authorization: Bearer <token>" header value.
  // kUnauthorized when missing, malformed, unknown or revoked.
  Result<DeviceRecord> authenticate(std::string_view authorization);

  // Runs a task on the caller's side (an HTTP session's strand): how work
  // comes back after a commit. Must not block.
  using Resume = std::function<void(std::function<void()>)>;
  using SyncDone = std::function<void(Outcome<std::string>)>;

  // POST /v1/sync for an authenticated device: push (exactly once per
  // mutation id), then pull. A push that fails as a whole changes nothing.
  // The answer is the JSON text of a sync::SyncResponse, built from the
  // stored texts of the push answer and of the pulled changes. First the
  // device's tokens are settled (token_rotation.hpp): a pending token used
  // becomes current, or, when a rotation is due, the answer carries a new
  // token (device.token). That waits for a commit: when
  // token_write_due(device, now_ms()), call this off the network threads.
  // `done` gets it exactly once: at once when there is nothing to push, else
  // through `resume` once the push's commit group is durable (the pull is
  // read after the push, on the caller's side). No thread waits meanwhile.
  void sync(DeviceRecord device, sync::SyncRequest request, Resume resume, SyncDone done);

 private:
  struct SyncCall;

  // Per-change rules other than write access: schema (with the text cost
  // limits; *text_cost gets the change's text cost) and clock bound.
  Status check_change(const Change& change, std::int64_t now_ms, text::TextCost* text_cost) const;
  // Merges the push of `call` inside its mutation; the answer's JSON text.
  Result<std::string> apply_push(SyncCall& call, PushTransaction& txn);
  // The push's answer once its mutation is settled (into push_json), or the
  // error that answers the whole request (then the returned value is empty).
  Outcome<std::string> finish_push(SyncCall& call, Result<MutationOutcome>& pushed,
                                   std::string& push_json);
  // The pull part: moves the device's view on when needed (a write), reads
  // the page under it, logs what it delivers that names a child (a write),
  // then answers.
  void pull(std::shared_ptr<SyncCall> call, std::string push_json, Resume resume, SyncDone done);
  void serve(std::shared_ptr<SyncCall> call, std::string push_json, const DeviceView& state,
             Resume resume, SyncDone done);

  ServerStorage& storage_;
  Clock& clock_;
  Metrics& metrics_;
  std::int64_t max_skew_ms_;
  ErasureLog* erasures_;
};

}  // namespace tandem::server
