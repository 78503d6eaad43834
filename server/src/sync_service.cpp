#include "tandem/server/sync_service.hpp"
#include <optional>

#include "tandem/core/json.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/core/text/limits.hpp"
#include "tandem/server/access.hpp"
#include "tandem/server/crypto.hpp"
#include "tandem/server/erasure_log.hpp"
#include "tandem/server/lease.hpp"
#include "tandem/server/limits.hpp"
#include "tandem/server/token_rotation.hpp"

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
                         std::int64_t max_skew_ms, ErasureLog* erasures)
    : storage_(storage),
      clock_(clock),
      metrics_(metrics),
      max_skew_ms_(max_skew_ms),
      erasures_(erasures) {}

Outcome<sync::EnrollCheckResponse> SyncService::check_enrollment(
    const sync::EnrollRequest& request) {
  using R = Outcome<sync::EnrollCheckResponse>;
  const std::string code = normalize_enrollment_code(request.code);
  if (code.empty())
    return R::fail(make_error(ErrorCode::kUnauthorized, "unknown or already used enrollment code"));
  const std::int64_t now = now_ms();
  auto holder = storage_.enrollment_code(sha256_hex(code), now);
  if (!holder) return R::fail(std::move(holder).error());
  R out;
  out.value.emplace();
  out.value->school = std::move(holder->school);
  out.value->person = std::move(holder->person);
  out.value->server_time_ms = now;
  return out;
}

Outcome<sync::EnrollResponse> SyncService::enroll(const sync::EnrollRequest& request) {
  using R = Outcome<sync::EnrollResponse>;
  // Everything that can fail is done before the code is consumed: a failed
  // enrollment leaves the code usable and no device behind. The school's
  // lease is read first (the code names the school); consuming the code
  // and registering the device are then one transaction.
  auto checked = check_enrollment(request);
  if (!checked.value) return R::fail(std::move(checked.error.error));
  auto lease = school_lease_days(storage_, checked.value->school.id);
  if (!lease) return R::fail(std::move(lease).error());
  auto token = new_device_token();
  if (!token) return R::fail(std::move(token).error());
  auto id = new_device_id();
  if (!id) return R::fail(std::move(id).error());
  const std::int64_t now = now_ms();
  auto enrolled = storage_.enroll(sha256_hex(normalize_enrollment_code(request.code)),
                                  NewDevice{*id, request.device_name, sha256_hex(*token)}, now);
  if (!enrolled) return R::fail(std::move(enrolled).error());
  R out;
  out.value.emplace();
  sync::EnrollResponse& r = *out.value;
  r.device_id = enrolled->device.id;
  r.token = std::move(*token);
  r.school = enrolled->school;
  r.person = enrolled->person;
  r.server_time_ms = now;
  r.lease_days = *lease;
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
  sync::DeviceTerms terms;  // what the answer tells the device about itself
};

void SyncService::sync(DeviceRecord device, sync::SyncRequest request, Resume resume,
                       SyncDone done) {
  auto call = std::make_shared<SyncCall>();
  call->device = std::move(device);
  call->request = std::move(request);
  call->now = now_ms();
  auto lease = school_lease_days(storage_, call->device.school);
  if (!lease) {
    done(Outcome<std::string>::fail(std::move(lease).error()));
    return;
  }
  call->terms.lease_days = *lease;
  if (token_write_due(call->device, call->now)) {
    // A new token is stored (as a hash) before the answer can carry it; an
    // answer that then fails or is lost costs nothing: the next sync issues
    // another. A failure fails the request: both tokens still work.
    auto token = settle_token(storage_, call->device, call->now);
    if (!token) {
      done(Outcome<std::string>::fail(std::move(token).error()));
      return;
    }
    call->terms.token = std::move(*token);
  }
  if (!call->request.push) {
    pull(std::move(call), std::string(), std::move(resume), std::move(done));
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
        Resume again = resume;
        resume([this, call = std::move(call), done = std::move(done), again = std::move(again),
                outcome = std::move(outcome)]() mutable {
          std::string push_json;
          Outcome<std::string> failed;
          try {
            failed = finish_push(*call, outcome, push_json);
          } catch (const std::exception&) {
            // Never the exception text: it could quote request data.
            failed = Outcome<std::string>::fail(
                make_error(ErrorCode::kInternal, "internal error after the push"));
          }
          if (!failed.value) {
            done(std::move(failed));
            return;
          }
          pull(std::move(call), std::move(push_json), std::move(again), std::move(done));
        });
      });
}

namespace {

// Whether a change can move a record in or out of someone's view (the
// fields access.cpp reads); text edits and most sets cannot.
bool affects_scope(const Change& change) {
  if (change.op == Op::kCreate || change.op == Op::kDelete || change.op == Op::kPurge) return true;
  if (change.kind == "consent" || change.kind == "person") return true;
  static const char* const kFields[] = {"participants", "tovholder", "children", "course",
                                        "session",      "meeting",   "child",    "source"};
  for (const char* f : kFields)
    if (change.field == f) return true;
  return false;
}

}  // namespace

Result<std::string> SyncService::apply_push(SyncCall& call, PushTransaction& txn) {
  const sync::PushRequest& push = *call.request.push;
  // Writes are judged on the view the device acknowledged (offline work done
  // in scope is taken even if the record left the scope since), and on the
  // view last issued to it when that one differs: the device may hold
  // records the issued view brought before it could acknowledge it (a
  // teacher added to a course pulls it, goes offline, edits it). A device
  // that never pulled: its view now.
  View view;
  std::optional<View> issued;
  {
    auto stored = txn.device_view(call.device.id);
    if (!stored) return std::move(stored).error();
    if (*stored) {
      view = View::from_json(Json::parse((*stored)->acked_view, nullptr, false));
      if ((*stored)->view != (*stored)->acked_view)
        issued = View::from_json(Json::parse((*stored)->view, nullptr, false));
    } else {
      auto fresh = compute_view(call.device, copenhagen_date(call.now), txn);
      if (!fresh) return std::move(fresh).error();
      view = std::move(*fresh);
    }
  }
  AuditEntry changed{call.now, call.device.school, call.device.person, call.device.id, "change", {}};
  AuditEntry erased{call.now, call.device.school, call.device.person, call.device.id, "erase", {}};
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
    if (allowed) {
      allowed = check_write_access(call.device, view, change, txn);
      if (!allowed && issued && allowed.error().code == ErrorCode::kNotFound)
        allowed = check_write_access(call.device, *issued, change, txn);
    }
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
      if (applied->outcome == ApplyOutcome::kApplied) {
        // Logged before the group commits: a restore of an older backup
        // re-applies it (backup.hpp). No log, no purge.
        if (change.op == Op::kPurge && erasures_ != nullptr)
          TANDEM_TRY(erasures_->append(change, call.now));
        if (affects_scope(change))
          TANDEM_TRY(note_change(change, applied->seq.value_or(0), call.device.person, txn));
        // Only these kinds name a child (access.cpp derive_scope): no scope
        // read for the rest of a push.
        const bool may_name_child = change.kind == "entry" || change.kind == "agenda_item" ||
                                    change.kind == "child" || change.kind == "consent";
        auto scope = may_name_child ? txn.scope(change.record)
                                    : Result<std::optional<RecordScope>>(std::nullopt);
        if (!scope) return std::move(scope).error();
        if (*scope && !(*scope)->child.empty()) {
          (change.op == Op::kPurge ? erased : changed)
              .records.push_back(AuditRef{change.record, (*scope)->child});
        }
      }
    }
    answer.results.push_back(std::move(result));
  }
  for (AuditEntry* entry : {&changed, &erased}) {
    if (!entry->records.empty()) TANDEM_TRY(txn.append_audit(*entry));
  }
  // Counted for /metrics only once committed (this callback may be rolled
  // back with its group).
  for (const auto& r : answer.results) ++call.counts[static_cast<int>(r.status)];
  return answer.to_json().dump();
}

Outcome<std::string> SyncService::finish_push(SyncCall& call, Result<MutationOutcome>& pushed,
                                              std::string& push_json) {
  using R = Outcome<std::string>;
  {
    if (!pushed) return R::fail(std::move(pushed).error());
    MutationOutcome& outcome = *pushed;
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

  R ok;
  ok.value.emplace();
  return ok;
}

void SyncService::pull(std::shared_ptr<SyncCall> call, std::string push_json, Resume resume,
                       SyncDone done) {
  using R = Outcome<std::string>;
  if (!call->request.pull) {
    R out;
    out.value = sync::encode_sync_response(call->now, push_json, nullptr, &call->terms);
    done(std::move(out));
    return;
  }
  std::string day = copenhagen_date(call->now);
  auto state = storage_.pull_state(call->device.id, call->device.school,
                                   call->device.person);
  if (!state) {
    done(R::fail(std::move(state).error()));
    return;
  }
  if (!view_needs_update(*state, *call->request.pull, day)) {
    serve(std::move(call), std::move(push_json), *state->view, std::move(resume), std::move(done));
    return;
  }
  // The view moves first (a write: the device's acknowledgement, or what
  // entered or left its view), then the page is read under it.
  auto updated = std::make_shared<DeviceView>();
  const std::string school = call->device.school;
  storage_.submit_write(
      school, kPullWriteCost,
      [call, day = std::move(day), updated](PushTransaction& txn) -> Status {
        auto view = update_view(call->device, *call->request.pull, day, txn);
        if (!view) return std::move(view).error();
        *updated = std::move(*view);
        return {};
      },
      [this, call, push_json = std::move(push_json), resume, done = std::move(done),
       updated](Status written) mutable {
        Resume again = resume;
        resume([this, call = std::move(call), push_json = std::move(push_json),
                again = std::move(again), done = std::move(done), updated,
                written = std::move(written)]() mutable {
          if (!written) {
            done(R::fail(std::move(written).error()));
            return;
          }
          serve(std::move(call), std::move(push_json), *updated, std::move(again),
                std::move(done));
        });
      });
}

void SyncService::serve(std::shared_ptr<SyncCall> call, std::string push_json,
                        const DeviceView& state, Resume resume, SyncDone done) {
  using R = Outcome<std::string>;
  Result<VisiblePage> visible = make_error(ErrorCode::kInternal, "internal error in the pull");
  try {
    visible = changes_visible_to(storage_, call->device, *call->request.pull, state);
  } catch (const std::exception&) {
  }
  if (!visible) {
    done(R::fail(std::move(visible).error()));
    return;
  }
  R out;
  out.value = sync::encode_sync_response(call->now, push_json, &visible->page, &call->terms);
  if (visible->delivered.empty()) {
    done(std::move(out));
    return;
  }
  // Records that name a child leave the server only once their reading is
  // in the audit trail: one entry for the page, in the next commit group.
  auto entry = std::make_shared<AuditEntry>(AuditEntry{call->now, call->device.school,
                                                       call->device.person, call->device.id,
                                                       "read", std::move(visible->delivered)});
  storage_.submit_write(
      call->device.school, kPullWriteCost,
      [entry](PushTransaction& txn) { return txn.append_audit(*entry); },
      [resume, done = std::move(done), out = std::move(out)](Status written) mutable {
        resume([done = std::move(done), out = std::move(out),
                written = std::move(written)]() mutable {
          if (!written) {
            done(R::fail(std::move(written).error()));
            return;
          }
          done(std::move(out));
        });
      });
}

}  // namespace tandem::server
