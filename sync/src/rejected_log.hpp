// The table sync_rejected: changes the server refused, kept in the device's
// own database file (beside the Store's tables, created on first use) so the
// user can see them and nothing is lost silently. Private to the engine.
#pragma once

#include <string_view>
#include <vector>

#include "tandem/core/store.hpp"
#include "tandem/sync/engine.hpp"

namespace tandem::sync::detail {

Status ensure_rejected_table(Store& store);
// Inserts (or replaces: a change rejected again keeps its latest reason).
// `body` is the change's JSON, so it can be inspected or re-created later.
Status insert_rejected(Store& store, const RejectedChange& r, std::string_view body);
Result<std::vector<RejectedChange>> read_rejected(Store& store);

}  // namespace tandem::sync::detail
