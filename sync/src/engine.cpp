#include "tandem/sync/engine.hpp"

#include <algorithm>
#include <charconv>
#include <exception>
#include <limits>
#include <unordered_map>

#include "tandem/sync/client.hpp"
#include "tandem/sync/device_token.hpp"

namespace tandem::sync {
namespace {

// A push body stays well under the server's limit even with long texts.
constexpr std::size_t kMaxBatchBytes = kMaxBodyBytes / 2;
// A background window begins no request with less time left than this
// before the first round trip has been measured.
constexpr std::chrono::milliseconds kMinRequestMs{100};
// Re-batching after a stale/reused mutation id: a few times per sync(), so
// a confused server cannot keep the engine looping.
constexpr int kMaxRebatches = 3;
// Withdrawals of refused stamps per sync(): one is what a wrong clock needs;
// a server that keeps refusing the corrected stamps is not argued with.
constexpr int kMaxWithdrawals = 3;

Result<std::int64_t> meta_int(Store& store, std::string_view key) {
  auto text = store.meta(key);
  if (!text) return std::move(text).error();
  if (!*text || (*text)->empty()) return std::int64_t{0};
  const std::string& s = **text;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) {
    return make_error(ErrorCode::kCorrupt, "metadata '" + std::string(key) + "' is not a number");
  }
  return v;
}

std::chrono::milliseconds backoff(const RetryPolicy& policy, int attempt, std::uint64_t random) {
  // initial * 2^(attempt-1), capped; then "equal jitter": half fixed, half
  // random, so devices that failed together do not retry together.
  std::int64_t base = policy.initial_backoff.count();
  for (int i = 1; i < attempt && base < policy.max_backoff.count(); ++i) base *= 2;
  base = std::clamp<std::int64_t>(base, 1, std::max<std::int64_t>(1, policy.max_backoff.count()));
  const std::int64_t half = base / 2;
  const std::int64_t jitter = static_cast<std::int64_t>(random % static_cast<std::uint64_t>(base - half + 1));
  return std::chrono::milliseconds(half + jitter);
}

std::chrono::steady_clock::time_point monotonic(const EngineOptions& options) {
  return options.monotonic_now ? options.monotonic_now() : std::chrono::steady_clock::now();
}

Error out_of_time(const EngineOptions& options, const std::optional<Error>& last) {
  std::string what = "sync stopped at its overall timeout of " +
                     std::to_string(options.overall_timeout.count()) + " ms";
  if (last) what += " (last try: " + last->message + ")";
  return make_error(ErrorCode::kTimeout,
                    what + "; what was done is kept and the next sync goes on from there");
}

Error cancelled_error() {
  return make_error(ErrorCode::kCancelled,
                    "sync cancelled; what was done is kept and the next sync goes on from there");
}

}  // namespace

Json SyncSummary::to_json() const {
  Json rejected_list = Json::array();
  for (const auto& r : newly_rejected) rejected_list.push_back(r.to_json());
  return Json{{"pushed", pushed},
              {"accepted", accepted},
              {"duplicates", duplicates},
              {"rejected", rejected},
              {"pulled", pulled},
              {"applied", applied},
              {"pulled_refused", pulled_refused},
              {"requests", requests},
              {"retries", retries},
              {"cursor", cursor},
              {"outbox_left", outbox_left},
              {"complete", complete},
              {"server_time_ms", server_time_ms},
              {"clock_offset_ms", clock_offset_ms},
              {"clock_correction_ms", clock_correction_ms},
              {"clock_corrected_now", clock_corrected_now},
              {"clock_offset_pending_ms",
               clock_offset_pending_ms ? Json(*clock_offset_pending_ms) : Json(nullptr)},
              {"clock_wrong", clock_wrong},
              {"clock_refused", clock_refused},
              {"restamped", restamped},
              {"erased", erased},
              {"erasure_waits", erasure_waits},
              {"rewinds", rewinds},
              {"view", view},
              {"checkpoint_pending", checkpoint_pending},
              {"stopped_at_deadline", stopped_at_deadline},
              {"token_rotations", token_rotations},
              {"rejected_changes", rejected_list}};
}

SyncEngine::SyncEngine(Store& store, Transport& transport, SleepFn sleep, RandomFn random,
                       EngineOptions options)
    : SyncEngine(store, transport, store.skew_clock(), std::move(sleep), std::move(random),
                 std::move(options)) {}

SyncEngine::SyncEngine(Store& store, Transport& transport, SkewCorrectedClock& clock, SleepFn sleep,
                       RandomFn random, EngineOptions options)
    : store_(store),
      transport_(transport),
      clock_(clock),
      sleep_(std::move(sleep)),
      random_(std::move(random)),
      options_(std::move(options)) {}

Result<std::vector<RejectedChange>> SyncEngine::rejected(Store& store) { return store.rejected(); }

void SyncEngine::report(const ProgressFn& progress, SyncProgress::Phase phase) {
  if (!progress) return;
  SyncProgress p;
  p.phase = phase;
  p.pushed = summary_.pushed;
  p.pulled = summary_.pulled;
  auto left = store_.outbox_size();
  p.outbox_left = left ? *left : -1;
  p.cursor = cursor_;
  p.more = more_;
  progress(p);
}

Status SyncEngine::drop_inflight() { return store_.set_meta(kMetaInflight, ""); }

Result<std::optional<SyncEngine::Batch>> SyncEngine::current_batch() {
  using Out = std::optional<Batch>;
  auto inflight = store_.meta(kMetaInflight);
  if (!inflight) return std::move(inflight).error();
  if (*inflight && !(*inflight)->empty()) {
    // A batch was sent (or was about to be) and its answer not processed:
    // resend exactly it, under the same id.
    Json j = Json::parse(**inflight, nullptr, false);
    if (j.is_object() && j.contains("mutation_id") && j["mutation_id"].is_number_integer() &&
        j["mutation_id"].get<std::int64_t>() >= 1 &&
        j["mutation_id"].get<std::int64_t>() <= kMaxMutationId && j.contains("hlcs") &&
        j["hlcs"].is_array()) {
      const auto& hlcs = j["hlcs"];
      auto head = store_.outbox(hlcs.size());
      if (!head) return std::move(head).error();
      bool same = head->size() == hlcs.size();
      for (std::size_t i = 0; same && i < hlcs.size(); ++i) {
        same = hlcs[i].is_string() && (*head)[i].change.id() == hlcs[i].get<std::string>();
      }
      if (same) {
        // All of it, as it was formed: the id names exactly these changes.
        Batch b = form_batch(std::move(*head), std::numeric_limits<std::size_t>::max());
        b.mutation_id = j["mutation_id"].get<std::int64_t>();
        return Out(std::move(b));
      }
    }
    // The outbox no longer starts with that batch (another process synced
    // it): a fresh batch under a new id is safe, known changes come back as
    // duplicates.
    TANDEM_TRY(drop_inflight());
  }

  std::optional<Batch> formed;
  if (prefetched_) {
    // Read while the last batch was at the server: used if the outbox still
    // starts with exactly its changes (a stamp names one change for good).
    Batch next = std::move(*prefetched_);
    prefetched_.reset();
    if (!next.changes.empty() && next.changes.size() <= batch_size_) {
      auto head = store_.outbox_stamps(next.changes.size());
      if (!head) return std::move(head).error();
      bool same = head->size() == next.changes.size();
      for (std::size_t i = 0; same && i < head->size(); ++i) same = (*head)[i] == next.changes[i].id();
      if (same) formed = std::move(next);
    }
  }
  if (!formed) {
    auto pending = store_.outbox(batch_size_);
    if (!pending) return std::move(pending).error();
    if (pending->empty()) return Out();
    formed = form_batch(std::move(*pending), kMaxBatchBytes);
  }
  Batch& b = *formed;
  Json hlcs = Json::array();
  for (const Change& c : b.changes) hlcs.push_back(c.id());
  auto last = meta_int(store_, kMetaMutationId);
  if (!last) return std::move(last).error();
  if (*last < 0) return make_error(ErrorCode::kCorrupt, "metadata 'sync.mutation_id' is negative");
  if (*last >= kMaxMutationId) {
    // Only a server that named an id this high gets a device here (2^53
    // pushes take no device's lifetime): no id is left to push under.
    return make_error(
        ErrorCode::kInvalidValue,
        "this device has used every mutation id up to " + std::to_string(kMaxMutationId) +
            "; enroll it again (a new device starts at 1): its local changes are kept");
  }
  b.mutation_id = *last + 1;
  const std::string record = Json{{"mutation_id", b.mutation_id}, {"hlcs", std::move(hlcs)}}.dump();
  // Committed BEFORE the first send: whatever happens next, a retry (in this
  // process or after a crash) resends this batch under this id.
  TANDEM_TRY(store_.transaction([&]() -> Status {
    TANDEM_TRY(store_.set_meta(kMetaMutationId, std::to_string(b.mutation_id)));
    return store_.set_meta(kMetaInflight, record);
  }));
  return Out(std::move(b));
}

SyncEngine::Batch SyncEngine::form_batch(std::vector<LoggedChange>&& pending, std::size_t max_bytes) {
  Batch b;
  b.changes.reserve(pending.size());
  b.texts.reserve(pending.size());
  std::size_t bytes = 0;
  for (auto& lc : pending) {
    std::string text = lc.change.to_json().dump();
    bytes += text.size();
    if (!b.changes.empty() && bytes > max_bytes) break;
    b.texts.push_back(std::move(text));
    b.last_seq = lc.seq;
    b.changes.push_back(std::move(lc.change));
  }
  return b;
}

void SyncEngine::prefetch_after(const Batch& sent) {
  prefetched_.reset();
  if (!options_.push || sent.changes.empty()) return;
  // Only reads: nothing here may change what the answer finds. A failed
  // read (or out of memory) leaves the next batch to current_batch().
  try {
    auto next = store_.outbox(batch_size_, sent.last_seq);
    if (!next || next->empty()) return;
    prefetched_ = form_batch(std::move(*next), kMaxBatchBytes);
  } catch (const std::exception&) {
    prefetched_.reset();
  }
}

Result<SyncResponse> SyncEngine::send_with_retry(const std::string& token, const std::string& body,
                                                 ErrorResponse* details, const ProgressFn& progress,
                                                 const std::function<void()>& meanwhile) {
  std::optional<Error> last;
  for (int attempt = 1;; ++attempt) {
    *details = ErrorResponse{};
    // Within overall_timeout: the request gets what is left, a wait that
    // would end past it is not begun.
    if (options_.cancelled && options_.cancelled()) return cancelled_error();
    const auto left = time_left();
    if (left && left->count() <= 0) return out_of_time(options_, last);
    // The first attempt carries `meanwhile` (work for while the server works).
    auto answer = post_sync(transport_, token, body, details, left.value_or(std::chrono::milliseconds(0)),
                            attempt == 1 ? meanwhile : std::function<void()>());
    if (answer) return answer;
    if (!is_retryable(answer.error().code) || attempt >= options_.retry.max_attempts) return answer;
    const auto wait = backoff(options_.retry, attempt, random_ ? random_() : 0);
    last = answer.error();
    if (const auto left_now = time_left(); left_now && wait >= *left_now)
      return out_of_time(options_, last);
    if (options_.cancelled && options_.cancelled()) return cancelled_error();
    ++summary_.retries;
    if (progress) {
      SyncProgress p;
      p.phase = SyncProgress::Phase::kRetrying;
      p.pushed = summary_.pushed;
      p.pulled = summary_.pulled;
      p.cursor = cursor_;
      p.more = more_;
      p.attempt = attempt;
      p.retry_in = wait;
      p.error = answer.error();
      progress(p);
    }
    if (sleep_) sleep_(wait);
  }
}

bool SyncEngine::offset_confirmable() {
  const auto& pending = summary_.clock_offset_pending_ms;
  return pending && (*pending < clock_.offset_ms() || may_confirm_offset());
}

bool SyncEngine::may_confirm_offset() {
  // A candidate from an earlier sync() may be confirmed now, whatever its
  // direction. One from this sync() may, unless it moves the clock forward
  // on a device whose clock shows nothing wrong (what a forged answer looks
  // like): the device's clock provably reads too early when it is behind a
  // stamp this device already holds.
  if (!candidate_this_sync_) return true;
  return clock_.now_ms() + options_.clock_tolerance_ms < store_.clock().last().ms;
}

std::optional<std::chrono::milliseconds> SyncEngine::time_left() const {
  std::optional<std::chrono::steady_clock::time_point> end = deadline_;
  if (window_end_ && (!end || *window_end_ < *end)) end = window_end_;
  if (!end) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(*end - monotonic(options_));
}

bool SyncEngine::window_allows_request() const {
  if (!window_end_) return true;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*window_end_ - monotonic(options_));
  return left > std::max(slowest_, kMinRequestMs);
}

Status SyncEngine::learn_clock(std::int64_t server_time_ms, std::int64_t sent_ms, std::int64_t received_ms) {
  if (server_time_ms <= 0) return {};
  summary_.server_time_ms = server_time_ms;
  summary_.clock_offset_ms = measure_offset(server_time_ms, sent_ms, received_ms);
  auto before = load_offset_state(store_);
  if (!before) return std::move(before).error();
  auto step = update_clock_offset(store_, clock_, summary_.clock_offset_ms, options_.clock_tolerance_ms,
                                  may_confirm_offset());
  if (!step) return std::move(step).error();
  auto after = load_offset_state(store_);
  if (!after) return std::move(after).error();
  if (*step == OffsetStep::kAdopted) {
    summary_.clock_corrected_now = true;
    candidate_this_sync_ = false;
  } else if (after->candidate != before->candidate) {
    candidate_this_sync_ = after->candidate.has_value();
  }
  summary_.clock_offset_pending_ms = after->candidate;
  summary_.clock_correction_ms = clock_.offset_ms();
  const std::int64_t off = summary_.clock_offset_ms;
  summary_.clock_wrong = off > options_.clock_tolerance_ms || off < -options_.clock_tolerance_ms;
  return {};
}

Status SyncEngine::note_server_stamp(const std::string& hlc) {
  if (hlc > server_stamp_) server_stamp_ = hlc;
  return {};
}

Status SyncEngine::withdraw_stamps() {
  // The floor: the later of the last stamp the server accepted or sent and
  // the corrected time. Nothing the server has is above it.
  Hlc floor{clock_.now_ms(), 0, std::string(16, '0')};
  if (!server_stamp_.empty()) {
    if (auto known = Hlc::parse(server_stamp_); known && *known > floor) floor = *known;
  }
  prefetched_.reset();  // its stamps are withdrawn
  auto renamed = store_.restamp_outbox_after(floor);
  if (!renamed) return std::move(renamed).error();
  summary_.restamped += static_cast<std::int64_t>(renamed->size());
  ++withdrawals_;
  clock_refused_ = false;
  return {};
}

Status SyncEngine::record_rejected(const Change& change, const Error& error, std::int64_t mutation_id) {
  RejectedChange r;
  r.hlc = change.id();
  r.record = change.record;
  r.kind = change.kind;
  r.op = std::string(op_name(change.op));
  r.field = change.field;
  r.error = error;
  r.mutation_id = mutation_id;
  r.at_ms = clock_.now_ms();
  TANDEM_TRY(store_.record_rejected(r, change));
  summary_.newly_rejected.push_back(std::move(r));
  return {};
}

Status SyncEngine::handle_push(const Batch& batch, const PushResponse& answer) {
  std::unordered_map<std::string_view, const ChangeResult*> by_hlc;
  for (const auto& r : answer.results) by_hlc.emplace(r.hlc, &r);
  std::vector<std::string> acks;
  std::int64_t accepted = 0;
  std::int64_t duplicates = 0;
  std::int64_t clock_refused = 0;
  std::int64_t kept = 0;
  const std::string stamp_before = server_stamp_;
  const std::size_t rejected_before = summary_.newly_rejected.size();
  Status done = store_.transaction([&]() -> Status {
    for (const Change& change : batch.changes) {
      const std::string id = change.id();
      auto it = by_hlc.find(id);
      if (it == by_hlc.end()) continue;  // not answered: stays in the outbox, goes again
      switch (it->second->status) {
        case ChangeStatus::kAccepted:
          ++accepted;
          TANDEM_TRY(note_server_stamp(id));
          break;
        case ChangeStatus::kDuplicate:
          ++duplicates;
          TANDEM_TRY(note_server_stamp(id));
          break;
        case ChangeStatus::kRejected: {
          const Error error = it->second->error.value_or(make_error(ErrorCode::kInternal, "rejected"));
          if (error.code == ErrorCode::kClockSkew) {
            // Not lost: stays in the outbox, re-stamped once the clock is
            // settled (withdraw_stamps).
            ++clock_refused;
            continue;
          }
          if (error.code == ErrorCode::kNotFound) {
            // The server does not have the record; if its create is still
            // here, this change goes again after it.
            auto waiting = store_.create_pending(change.record);
            if (!waiting) return std::move(waiting).error();
            if (*waiting) {
              ++kept;
              continue;
            }
          }
          TANDEM_TRY(record_rejected(change, error, batch.mutation_id));
          break;
        }
      }
      acks.push_back(id);
    }
    TANDEM_TRY(store_.ack(acks));
    if (!server_stamp_.empty()) TANDEM_TRY(store_.set_meta(kMetaServerStamp, server_stamp_));
    return drop_inflight();
  }, Durability::kDeferred);  // lost with its in-flight record: the batch is answered again
  if (!done) {
    summary_.newly_rejected.resize(rejected_before);
    server_stamp_ = stamp_before;
    return done;
  }
  summary_.pushed += static_cast<std::int64_t>(acks.size());
  summary_.accepted += accepted;
  summary_.duplicates += duplicates;
  summary_.rejected += static_cast<std::int64_t>(summary_.newly_rejected.size() - rejected_before);
  summary_.clock_refused += clock_refused;
  if (clock_refused > 0) clock_refused_ = true;
  // A batch whose changes all wait for their creates makes no progress:
  // twice in a row is the server's fault, not a reason to loop.
  no_progress_ = (acks.empty() && clock_refused == 0) ? no_progress_ + 1 : 0;
  if (acks.empty() && clock_refused == 0 && !batch.changes.empty() && (kept == 0 || no_progress_ > 2)) {
    return make_error(ErrorCode::kServer, "the server answered none of the " +
                                              std::to_string(batch.changes.size()) + " changes pushed");
  }
  return {};
}

Result<SyncSummary> SyncEngine::sync(const ProgressFn& progress) {
  summary_ = SyncSummary{};
  deadline_.reset();
  window_end_.reset();
  slowest_ = std::chrono::milliseconds(0);
  const auto started = monotonic(options_);
  if (options_.overall_timeout.count() > 0) deadline_ = started + options_.overall_timeout;
  if (options_.deadline.count() > 0) window_end_ = started + options_.deadline;
  auto token = load_device_token(store_);
  if (!token) return std::move(token).error();
  if (!*token) {
    return make_error(ErrorCode::kUnauthorized, "device revoked or not enrolled: this database has no device token");
  }
  auto cursor = meta_int(store_, kMetaCursor);
  if (!cursor) return std::move(cursor).error();
  cursor_ = *cursor;
  summary_.cursor = cursor_;
  auto view = meta_int(store_, kMetaView);
  if (!view) return std::move(view).error();
  view_ = *view;
  summary_.view = view_;
  more_ = false;
  erasure_waits_ = 0;
  stalled_pages_ = 0;
  // An erasure committed before a crash (or while another connection held
  // the WAL) still has its bytes in the -wal file.
  TANDEM_TRY(checkpoint_if_due());
  batch_size_ = std::clamp<std::size_t>(options_.push_batch, 1, kMaxChangesPerPush);
  const std::size_t pull_limit = std::clamp<std::size_t>(options_.pull_limit, 1, kMaxPullLimit);
  summary_.clock_correction_ms = clock_.offset_ms();
  {
    auto stamp = store_.meta(kMetaServerStamp);
    if (!stamp) return std::move(stamp).error();
    server_stamp_ = stamp->value_or("");
    auto state = load_offset_state(store_);
    if (!state) return std::move(state).error();
    summary_.clock_offset_pending_ms = state->candidate;
  }
  clock_refused_ = false;
  candidate_this_sync_ = false;
  prefetched_.reset();
  withdrawals_ = 0;
  no_progress_ = 0;
  int rebatches = 0;
  int confirmations = 0;
  bool first = true;
  std::optional<std::int64_t> lease_days;  // the school's, from the last answer naming it

  for (;;) {
    // The clock first: stamps the server refused (or that it would refuse:
    // the clock is far ahead of the corrected time) are withdrawn once the
    // offset is settled; an offset one answer measured is confirmed by a
    // pull-only request first. Never with a batch in flight: the server may
    // have taken some of it.
    bool confirm = false;
    auto inflight = store_.meta(kMetaInflight);
    if (!inflight) return std::move(inflight).error();
    const bool nothing_in_flight = !*inflight || (*inflight)->empty();
    const HybridClock& hybrid = store_.clock();
    const bool clock_ahead = hybrid.last().ms > clock_.now_ms() + hybrid.max_ahead_ms();
    if (nothing_in_flight && (clock_refused_ || (clock_ahead && withdrawals_ == 0))) {
      if (offset_confirmable() && confirmations < kMaxRebatches) {
        confirm = true;
        ++confirmations;
      } else if (withdrawals_ < kMaxWithdrawals) {
        TANDEM_TRY(withdraw_stamps());
      } else {
        auto left = store_.outbox_size();
        summary_.outbox_left = left ? *left : -1;
        return make_error(ErrorCode::kClockSkew,
                          "the server refused this device's stamps again after they were corrected; "
                          "the changes are kept and go again at the next sync");
      }
    }

    if (options_.cancelled && options_.cancelled()) {
      auto left = store_.outbox_size();
      summary_.outbox_left = left ? *left : -1;
      return cancelled_error();
    }
    std::optional<Batch> batch;
    if (options_.push && !confirm) {
      auto b = current_batch();
      if (!b) return std::move(b).error();
      batch = std::move(*b);
    }
    // Within a background window the outbox goes first: push-only requests
    // until it is empty, then the pull.
    const bool push_first = window_end_.has_value() && batch.has_value();
    const bool want_pull = options_.pull && !push_first && (first || more_);
    if (!batch && !want_pull && !confirm) {
      // Done, unless one more answer would settle a measured offset (a
      // device whose clock provably reads too early corrects it now).
      if (offset_confirmable() && confirmations < kMaxRebatches) {
        confirm = true;
        ++confirmations;
      } else {
        break;
      }
    }
    if (options_.max_requests > 0 && summary_.requests >= options_.max_requests) break;
    if (!window_allows_request()) {
      // Not enough of the window left for another round trip (a batch
      // formed here stays in flight and goes first next time, under its id).
      summary_.stopped_at_deadline = true;
      break;
    }
    SyncRequest request;
    if (batch) request.push = PushRequest{batch->mutation_id, batch->changes};
    if ((options_.pull && !push_first) || confirm) {
      request.pull = PullRequest{cursor_, pull_limit, view_};
      first = false;
    }
    const std::string body = batch ? request.to_text(batch->texts) : request.to_json().dump();
    report(progress, SyncProgress::Phase::kSending);
    ErrorResponse details;
    const std::int64_t sent = clock_.base().now_ms();
    const auto began = monotonic(options_);
    // While the server merges this batch, the next one is read and encoded.
    std::function<void()> meanwhile;
    if (batch) meanwhile = [this, &batch] { prefetch_after(*batch); };
    auto answer = send_with_retry(**token, body, &details, progress, meanwhile);
    const std::int64_t received = clock_.base().now_ms();
    slowest_ = std::max(slowest_, std::chrono::duration_cast<std::chrono::milliseconds>(monotonic(options_) - began));
    if (!answer && answer.error().code == ErrorCode::kTimeout && window_end_ &&
        monotonic(options_) >= *window_end_ - kMinRequestMs) {
      // Cut at the window's end: the batch (if any) stays in flight and goes
      // again, under its id, at the next sync.
      summary_.stopped_at_deadline = true;
      break;
    }

    if (!answer) {
      if (details.server_time_ms) TANDEM_TRY(learn_clock(*details.server_time_ms, sent, received));
      Error e = std::move(answer).error();
      if (batch && e.code == ErrorCode::kAlreadyExists && details.last_mutation_id && rebatches < kMaxRebatches) {
        // Our id is at or below the server's last one for this device (a
        // restored backup, or a batch that changed under its id): continue
        // above it. Changes the server has are answered as duplicates.
        ++rebatches;
        const std::int64_t next = std::max(*details.last_mutation_id, batch->mutation_id);
        TANDEM_TRY(store_.transaction([&]() -> Status {
          TANDEM_TRY(store_.set_meta(kMetaMutationId, std::to_string(next)));
          return drop_inflight();
        }));
        continue;
      }
      if (batch && (e.code == ErrorCode::kPayloadTooLarge || e.code == ErrorCode::kTooManyChanges)) {
        // Refused as a whole, so nothing happened: smaller batches, new ids.
        if (batch->changes.size() > 1) {
          batch_size_ = std::max<std::size_t>(1, batch->changes.size() / 2);
          TANDEM_TRY(drop_inflight());
          continue;
        }
        const Change& lone = batch->changes.front();
        TANDEM_TRY(store_.transaction([&]() -> Status {
          TANDEM_TRY(record_rejected(lone, e, batch->mutation_id));
          TANDEM_TRY(store_.ack({lone.id()}));
          return drop_inflight();
        }));
        ++summary_.pushed;
        ++summary_.rejected;
        continue;
      }
      if (e.code == ErrorCode::kUnauthorized) {
        e.message = "device revoked or not enrolled (" + e.message + "); local data is kept";
      }
      if (e.code == ErrorCode::kDeviceWiped) {
        // Lost tablet (revoke --wipe): the server refused the request before
        // reading it, so nothing was pushed, and nothing more will be: what
        // was not synced is lost by design. The token goes at once; erasing
        // the database is the host's next step (destroy_database), once it
        // has closed the Store.
        TANDEM_TRY(erase_device_token(store_));
        e.message = "this device was reported lost and must erase its local data (" + e.message + ")";
        summary_.outbox_left = 0;
        return e;
      }
      auto left = store_.outbox_size();
      summary_.outbox_left = left ? *left : -1;
      return e;
    }

    ++summary_.requests;
    // Before any of it is used: an answer that breaks the protocol changes nothing here.
    TANDEM_TRY(check_sync_response(request, *answer));
    TANDEM_TRY(learn_clock(answer->server_time_ms, sent, received));
    if (answer->device) {
      lease_days = answer->device->lease_days;
      if (answer->device->token && *answer->device->token != **token) {
        // Rotation: kept before anything else, used from the next request on
        // (the server takes the old one until it sees the new one).
        TANDEM_TRY(save_device_token(store_, *answer->device->token));
        *token = answer->device->token;
        ++summary_.token_rotations;
      }
    }
    const std::int64_t pushed_before = summary_.pushed;
    if (batch) TANDEM_TRY(handle_push(*batch, *answer->push));
    if (answer->pull) {
      TANDEM_TRY(handle_pull(*answer->pull, summary_.pushed > pushed_before));
    } else {
      more_ = false;
    }
    report(progress, SyncProgress::Phase::kApplied);
  }

  // Enrolled devices learn their school from the first pull.
  if (store_.default_school().empty()) {
    auto school = store_.meta(kMetaSchoolId);
    if (!school) return std::move(school).error();
    if (*school && !(*school)->empty()) {
      Status set = store_.set_default_school(**school);
      if (!set && set.error().code != ErrorCode::kNotFound) return set.error();
    }
  }
  TANDEM_TRY(store_.set_meta(kMetaLastSync, std::to_string(clock_.now_ms())));
  // The server confirmed this device: the offline lease starts again from
  // its time (core/lease.hpp), which unlocks child-linked data at once.
  if (summary_.requests > 0) {
    std::optional<std::int64_t> lease_ms;
    if (lease_days) lease_ms = *lease_days * kDayMs;
    TANDEM_TRY(store_.confirm_offline_lease(summary_.server_time_ms, lease_ms));
  }
  auto left = store_.outbox_size();
  if (!left) return std::move(left).error();
  summary_.outbox_left = *left;
  summary_.cursor = cursor_;
  summary_.complete = summary_.outbox_left == 0 && !more_;
  report(progress, SyncProgress::Phase::kDone);
  return summary_;
}

}  // namespace tandem::sync
