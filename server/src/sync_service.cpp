#include "tandem/server/sync_service.hpp"

#include "tandem/core/schema.hpp"
#include "tandem/core/text/limits.hpp"
#include "tandem/server/access.hpp"
#include "tandem/server/crypto.hpp"
#include "tandem/server/limits.hpp"

namespace tandem::server {
namespace {

// Failures that are not about one change but about the server (the whole
// push is rolled back and answered 5xx; the client retries it later).
bool is_server_failure(ErrorCode code) {
  return code == ErrorCode::kIo || code == ErrorCode::kDiskFull || code == ErrorCode::kCorrupt ||
         code == ErrorCode::kBusy || code == ErrorCode::kInternal || code == ErrorCode::kServer;
}

// Identifies a batch by its change ids, so that a retry (same id, same
// batch) is told apart from a reused id with other changes.
std::string batch_digest(const sync::PushRequest& push) {
  std::string ids;
  ids.reserve(push.changes.size() * 40);
  for (const auto& c : push.changes) {
    ids += c.hlc.str();
    ids += '\n';
  }
  return sha256_hex(ids);
}

}  // namespace

SyncService::SyncService(ServerStorage& storage, Clock& clock, Metrics& metrics,
                         std::int64_t max_skew_ms)
    : storage_(storage), clock_(clock), metrics_(metrics), max_skew_ms_(max_skew_ms) {}

Outcome<sync::EnrollResponse> SyncService::enroll(const sync::EnrollRequest& request) {
  using R = Outcome<sync::EnrollResponse>;
  const std::string code = normalize_enrollment_code(request.code);
  if (code.empty())
    return R::fail(make_error(ErrorCode::kUnauthorized, "unknown or already used enrollment code"));
  auto token = new_device_token();
  if (!token) return R::fail(std::move(token).error());
  auto id = new_device_id();
  if (!id) return R::fail(std::move(id).error());
  const std::int64_t now = now_ms();
  auto enrolled = storage_.enroll(sha256_hex(code),
                                  NewDevice{*id, request.device_name, sha256_hex(*token)}, now);
  if (!enrolled) return R::fail(std::move(enrolled).error());
  sync::EnrollResponse r;
  r.device_id = enrolled->device.id;
  r.token = std::move(*token);
  r.school = enrolled->school;
  r.person = enrolled->person;
  r.server_time_ms = now;
  R out;
  out.value = std::move(r);
  return out;
}

Result<DeviceRecord> SyncService::authenticate(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) {
    return make_error(ErrorCode::kUnauthorized, "missing bearer token");
  }
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = authorization[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kScheme[i]) {
      return make_error(ErrorCode::kUnauthorized, "missing bearer token");
    }
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty() || token.size() > 256)
    return make_error(ErrorCode::kUnauthorized, "malformed bearer token");
  return storage_.device_by_token(sha256_hex(token), now_ms());
}

Status SyncService::check_change(const Change& change, std::int64_t now_ms,
                                 text::TextCost* text_cost) const {
  TANDEM_TRY(validate_change(change, text_cost));
  if (change.hlc.ms > now_ms + max_skew_ms_) {
    return make_error(ErrorCode::kClockSkew,
                      "the change is stamped " + std::to_string((change.hlc.ms - now_ms) / 1000) +
                          " s ahead of server time; fix the device clock (see server_time_ms)");
  }
  return {};
}

// One /v1/sync call in flight, shared by the push callback (on the storage's
// commit thread) and the completion (on the caller's side), never at once.
struct SyncService::SyncCall {
  DeviceRecord device;
  sync::SyncRequest request;
  std::int64_t now = 0;
  // Per pushed change, worked out before the push is queued (what needs no
  // database stays off the commit thread): the schema and clock verdict,
  // and the canonical JSON text the sequence will hold.
  std::vector<Status> checked;
  std::vector<std::string> bodies;
  std::int64_t counts[3] = {0, 0, 0};  // per ChangeStatus, of the committed answer
};

void SyncService::sync(DeviceRecord device, sync::SyncRequest request, Resume resume,
                       SyncDone done) {
  auto call = std::make_shared<SyncCall>();
  call->device = std::move(device);
  call->request = std::move(request);
  call->now = now_ms();
  if (!call->request.push) {
    done(finish(*call, nullptr));
    return;
  }
  const sync::PushRequest& push = *call->request.push;
  call->checked.reserve(push.changes.size());
  call->bodies.reserve(push.changes.size());
  std::uint64_t text_ops = 0;
  std::uint64_t inserted = 0;
  for (const Change& change : push.changes) {
    text::TextCost cost;
    call->checked.push_back(check_change(change, call->now, &cost));
    call->bodies.push_back(call->checked.back() ? change.to_json().dump() : std::string());
    text_ops += cost.ops;
    inserted += cost.inserted;
  }
  // The push as a whole, before it reaches the commit thread (limits.hpp).
  if (text_ops > kMaxTextOpsPerPush || inserted > kMaxTextInsertedPerPush) {
    done(Outcome<std::string>::fail(make_error(
        ErrorCode::kPayloadTooLarge,
        "the push's text changes hold " + std::to_string(text_ops) + " ops and " +
            std::to_string(inserted) + " inserted code points; at most " +
            std::to_string(kMaxTextOpsPerPush) + " and " + std::to_string(kMaxTextInsertedPerPush) +
            " per request: send fewer changes at once")));
    return;
  }
  storage_.submit_mutation(
      call->device, push.mutation_id, batch_digest(push),
      push_cost(push.changes.size(), text_ops, inserted),
      [this, call](PushTransaction& txn) { return apply_push(*call, txn); },
      [this, call, resume = std::move(resume),
       done = std::move(done)](Result<MutationOutcome> outcome) mutable {
        resume([this, call = std::move(call), done = std::move(done),
                outcome = std::move(outcome)]() mutable {
          Outcome<std::string> answer;
          try {
            answer = finish(*call, &outcome);
          } catch (const std::exception&) {
            // Never the exception text: it could quote request data.
            answer = Outcome<std::string>::fail(
                make_error(ErrorCode::kInternal, "internal error after the push"));
          }
          done(std::move(answer));
        });
      });
}

Result<std::string> SyncService::apply_push(SyncCall& call, PushTransaction& txn) {
  const sync::PushRequest& push = *call.request.push;
  sync::PushResponse answer;
  answer.mutation_id = push.mutation_id;
  answer.results.reserve(push.changes.size());
  for (std::size_t i = 0; i < push.changes.size(); ++i) {
    const Change& change = push.changes[i];
    sync::ChangeResult result;
    result.hlc = change.hlc.str();
    // Schema and clock first (they need no database, and a change refused
    // for its clock is re-stamped and resent by the device: it should say
    // so rather than not_found for a create refused just before it).
    Status allowed = call.checked[i];
    if (allowed) allowed = check_write_access(call.device, change, txn);
    if (!allowed) {
      if (is_server_failure(allowed.error().code)) return allowed.error();
      result.status = sync::ChangeStatus::kRejected;
      result.error = allowed.error();
    } else if (auto applied = txn.apply(change, call.bodies[i]); !applied) {
      if (is_server_failure(applied.error().code)) return std::move(applied).error();
      result.status = sync::ChangeStatus::kRejected;
      result.error = std::move(applied).error();
    } else {
      result.status = applied->outcome == ApplyOutcome::kDuplicate
                          ? sync::ChangeStatus::kDuplicate
                          : sync::ChangeStatus::kAccepted;
      result.seq = applied->seq;
    }
    answer.results.push_back(std::move(result));
  }
  // Counted for /metrics only once committed (this callback may be rolled
  // back with its group).
  for (const auto& r : answer.results) ++call.counts[static_cast<int>(r.status)];
  return answer.to_json().dump();
}

Outcome<std::string> SyncService::finish(SyncCall& call, Result<MutationOutcome>* pushed) {
  using R = Outcome<std::string>;
  std::string push_json;
  if (pushed) {
    if (!*pushed) return R::fail(std::move(*pushed).error());
    MutationOutcome& outcome = **pushed;
    const std::int64_t mutation_id = call.request.push->mutation_id;
    switch (outcome.state) {
      case MutationState::kStale: {
        R r = R::fail(make_error(ErrorCode::kAlreadyExists,
                                 "push.mutation_id " + std::to_string(mutation_id) +
                                     " is below this device's last one; use a larger id"));
        r.error.last_mutation_id = outcome.last_mutation_id;
        return r;
      }
      case MutationState::kReused: {
        R r = R::fail(make_error(ErrorCode::kAlreadyExists,
                                 "push.mutation_id " + std::to_string(mutation_id) +
                                     " was already used for a different batch"));
        r.error.last_mutation_id = outcome.last_mutation_id;
        return r;
      }
      case MutationState::kCommitted:
        // The stored answer is the text apply_push made: sent as is.
        metrics_.count_changes(call.counts[0], call.counts[1], call.counts[2]);
        push_json = std::move(outcome.response);
        break;
      case MutationState::kReplayed: {
        // Rare: the stored answer of an earlier request, marked as replayed.
        auto json = sync::parse_json(outcome.response);
        auto stored =
            json ? sync::PushResponse::from_json(*json) : Result<sync::PushResponse>(json.error());
        if (!stored)
          return R::fail(make_error(ErrorCode::kCorrupt, "stored push answer unreadable"));
        stored->replayed = true;
        push_json = stored->to_json().dump();
        break;
      }
    }
  }

  std::optional<sync::EncodedPullPage> page;
  if (call.request.pull) {
    auto visible = changes_visible_to(storage_, call.device, *call.request.pull);
    if (!visible) return R::fail(std::move(visible).error());
    page = std::move(*visible);
  }
  R out;
  out.value = sync::encode_sync_response(call.now, push_json, page ? &*page : nullptr);
  return out;
}

}  // namespace tandem::server
