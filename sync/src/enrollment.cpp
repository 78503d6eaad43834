#include "tandem/sync/enrollment.hpp"

#include <algorithm>

#include "tandem/sync/client.hpp"
#include "tandem/sync/device_token.hpp"
#include "tandem/sync/engine.hpp"

namespace tandem::sync {

namespace {

// Records made offline under other schools, which this enrollment must
// settle (Store::join_school), and the refusal when no choice was given.
Result<std::vector<Store::OtherSchool>> pending_schools(Store& store, const std::string& school) {
  auto others = store.other_schools(school);
  if (!others) return std::move(others).error();
  std::vector<Store::OtherSchool> out;
  for (auto& o : *others) {
    if (!store.is_local_only(o.id)) out.push_back(std::move(o));
  }
  return out;
}

Error choice_needed(const std::vector<Store::OtherSchool>& pending, const SchoolInfo& school) {
  std::int64_t records = 0;
  std::string names;
  for (const auto& o : pending) {
    records += o.records;
    names += (names.empty() ? "'" : ", '") + (o.name.empty() ? o.id : o.name) + "'";
  }
  return make_error(ErrorCode::kAlreadyExists,
                    "this database holds " + std::to_string(records) + " records made offline (school " +
                        names + ") and the code is for school '" + school.name +
                        "': choose whether they move into that school (sent at the next sync) or "
                        "are kept as a separate local school on this tablet only "
                        "(tandem enroll --local-records move|keep); nothing was used or changed");
}

}  // namespace

Result<EnrollResponse> enroll_device(Store& store, Transport& transport, SkewCorrectedClock& clock,
                                     const EnrollOptions& options, Store::JoinOutcome* joined) {
  auto previous = store.meta(kMetaSchoolId);
  if (!previous) return std::move(previous).error();
  auto previous_device = store.meta(kMetaDeviceId);
  if (!previous_device) return std::move(previous_device).error();
  const std::string enrolled_school = *previous ? **previous : std::string();

  EnrollRequest request;
  request.code = options.code;
  request.device_name = options.device_name;
  // 1. Whom the code is for; nothing is consumed yet.
  auto holder = post_enroll_check(transport, request);
  if (!holder && holder.error().code != ErrorCode::kUnknownField) return std::move(holder).error();
  if (!holder) {
    // A server older than the check: redeeming is the only way to learn the
    // school. Safe only when nothing here depends on which school it is.
    auto others = store.other_schools("");
    if (!others) return std::move(others).error();
    const bool offline_records =
        enrolled_school.empty() && std::any_of(others->begin(), others->end(), [&](const auto& o) {
          return o.records > 0 && !store.is_local_only(o.id);
        });
    if (offline_records) {
      return make_error(ErrorCode::kUnsupportedVersion,
                        "this database holds records made offline, and the server cannot check "
                        "an enrollment code before using it (an older Tandem server): update the "
                        "server first; nothing was used or changed");
    }
  }
  // "" when the server could not say (then checked once redeemed).
  const std::string school = holder ? holder->school.id : std::string();

  // 2. Every local reason to refuse, before the code is used.
  if (!school.empty() && !enrolled_school.empty() && enrolled_school != school) {
    return make_error(ErrorCode::kAlreadyExists,
                      "this database was enrolled at school " + enrolled_school +
                          " and its changes may have reached that server; the code is for school " +
                          school + " (use a new database); nothing was used or changed");
  }
  std::vector<Store::OtherSchool> pending;
  if (enrolled_school.empty() && !school.empty()) {
    // Never enrolled: nothing written here has left it.
    auto found = pending_schools(store, school);
    if (!found) return std::move(found).error();
    pending = std::move(*found);
  }
  std::optional<Store::LocalRecords> choice = options.local_records;
  if (!pending.empty() && !choice) {
    // A school made offline that holds nothing but itself is no data to
    // choose about: it is dropped (as by a move).
    const bool empty = std::all_of(pending.begin(), pending.end(),
                                   [](const Store::OtherSchool& o) { return o.records == 0; });
    if (!empty) return choice_needed(pending, holder->school);
    choice = Store::LocalRecords::kMove;
  }

  // 3. The preparation and the redeeming in one local transaction: a refused
  // redeem rolls the preparation back.
  Result<EnrollResponse> answer = make_error(ErrorCode::kInternal, "enrollment not answered");
  std::int64_t sent = 0;
  std::int64_t received = 0;
  Store::JoinOutcome outcome;
  TANDEM_TRY(store.transaction([&]() -> Status {
    if (!pending.empty()) {
      auto done = store.join_school(school, *choice);
      if (!done) return std::move(done).error();
      outcome = std::move(*done);
    }
    sent = clock.base().now_ms();
    answer = post_enroll(transport, request);
    received = clock.base().now_ms();
    if (!answer) return answer.error();
    if (!school.empty() && answer->school.id != school) {
      return make_error(ErrorCode::kBadResponse, "the server enrolled this device at another school "
                                                 "than the code's check named");
    }
    if (school.empty() && !enrolled_school.empty() && answer->school.id != enrolled_school) {
      // An older server, unchecked: the code is used, the database unchanged.
      return make_error(ErrorCode::kAlreadyExists,
                        "this database was enrolled at school " + enrolled_school +
                            "; the code is for school " + answer->school.id + " (use a new database)");
    }
    if (school.empty() && enrolled_school.empty()) {
      // An older server, unchecked: only schools made here that hold
      // nothing but themselves can be left (checked above); they go.
      auto found = pending_schools(store, answer->school.id);
      if (!found) return std::move(found).error();
      if (!found->empty()) {
        auto done = store.join_school(answer->school.id, Store::LocalRecords::kMove);
        if (!done) return std::move(done).error();
        outcome = std::move(*done);
      }
    }
    if (!*previous_device || **previous_device != answer->device_id) {
      // Mutation ids count per device on the server: a new device starts at
      // 1 (also how a device that used every id up to kMaxMutationId goes
      // on). Changes of an unanswered batch stay in the outbox and go again.
      TANDEM_TRY(store.set_meta(kMetaMutationId, "0"));
      TANDEM_TRY(store.set_meta(kMetaInflight, ""));
    }
    TANDEM_TRY(store.set_meta(kMetaServerUrl, options.server_url));
    TANDEM_TRY(save_device_token(store, answer->token));
    TANDEM_TRY(store.set_meta(kMetaDeviceId, answer->device_id));
    TANDEM_TRY(store.set_meta(kMetaSchoolId, answer->school.id));
    TANDEM_TRY(store.set_meta(kMetaSchoolName, answer->school.name));
    TANDEM_TRY(store.set_meta(kMetaPersonId, answer->person.id));
    TANDEM_TRY(store.set_meta(kMetaPersonName, answer->person.name));
    TANDEM_TRY(store.set_meta(kMetaPersonRole, answer->person.role));
    // The lease counts from the enrollment (core/lease.hpp).
    std::optional<std::int64_t> lease_ms;
    if (answer->lease_days) lease_ms = *answer->lease_days * kDayMs;
    return store.confirm_offline_lease(answer->server_time_ms, lease_ms);
  }));
  if (joined) *joined = std::move(outcome);
  // The first answer only proposes an offset (skew_clock.hpp): the first
  // sync's answer confirms it.
  auto step = update_clock_offset(store, clock, measure_offset(answer->server_time_ms, sent, received),
                                  options.clock_tolerance_ms, false);
  if (!step) return std::move(step).error();
  return answer;
}

}  // namespace tandem::sync
