// Numbered schema migrations, applied on open inside one transaction each and
// recorded in PRAGMA user_version. Never edit a released migration: append.
#pragma once

#include <vector>

namespace tandem::detail {

struct Migration {
  int version;
  const char* sql;
};

const std::vector<Migration>& migrations();
inline int latest_schema_version() { return static_cast<int>(migrations().size()); }

}  // namespace tandem::detail
