// A school's offline lease (core/lease.hpp), as the server keeps it: a
// setting per school (ServerStorage::setting, backend-neutral), set by the
// administration and sent in every sync and enrollment answer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tandem/core/error.hpp"
#include "tandem/server/storage.hpp"

namespace tandem::server {

std::string lease_setting_key(std::string_view school);

// The school's lease in days; kDefaultLeaseDays when never set (or when the
// stored value is out of bounds: the default is the safe reading).
Result<std::int64_t> school_lease_days(ServerStorage& storage, std::string_view school);

// kInvalidValue: outside kMinLeaseDays..kMaxLeaseDays; kNotFound: no such
// school. Devices learn it at their next sync.
Status set_school_lease_days(ServerStorage& storage, std::string_view school, std::int64_t days);

}  // namespace tandem::server
