#include "tandem/sync/enrollment.hpp"

#include "tandem/sync/client.hpp"
#include "tandem/sync/device_token.hpp"
#include "tandem/sync/engine.hpp"

namespace tandem::sync {

Result<EnrollResponse> enroll_device(Store& store, Transport& transport, SkewCorrectedClock& clock,
                                     const EnrollOptions& options) {
  auto previous = store.meta(kMetaSchoolId);
  if (!previous) return std::move(previous).error();
  auto previous_device = store.meta(kMetaDeviceId);
  if (!previous_device) return std::move(previous_device).error();
  const std::string local_school =
      *previous && !(*previous)->empty() ? **previous : store.default_school();

  EnrollRequest request;
  request.code = options.code;
  request.device_name = options.device_name;
  const std::int64_t sent = clock.base().now_ms();
  auto answer = post_enroll(transport, request);
  const std::int64_t received = clock.base().now_ms();
  if (!answer) return std::move(answer).error();

  if (!local_school.empty() && local_school != answer->school.id) {
    return make_error(ErrorCode::kAlreadyExists,
                      "this database holds the data of school " + local_school +
                          "; the code is for school " + answer->school.id + " (use a new database)");
  }
  TANDEM_TRY(store.transaction([&]() -> Status {
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
  // The first answer only proposes an offset (skew_clock.hpp): the first
  // sync's answer confirms it.
  auto step = update_clock_offset(store, clock, measure_offset(answer->server_time_ms, sent, received),
                                  options.clock_tolerance_ms, false);
  if (!step) return std::move(step).error();
  return answer;
}

}  // namespace tandem::sync
