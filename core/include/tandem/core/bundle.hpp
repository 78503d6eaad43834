// Change bundles: a file of changes for sneakernet sync (USB stick when a
// school has no network) and for moving changes between replicas in tests.
//
//   {"format":"tandem-bundle","version":1,"site":"<exporting site>",
//    "since":0,"cursor":812,"changes":[<Change>, ...]}
//
// The changes are in the same JSON form as on the wire (change.hpp).
// Importing is idempotent and order-independent (Store::apply).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/change.hpp"
#include "tandem/core/error.hpp"
#include "tandem/core/store.hpp"

namespace tandem {

inline constexpr std::size_t kMaxBundleChanges = 5'000'000;

// Every change in the store's log after `since` (a cursor from an earlier
// export's "cursor"; 0 = everything). Purged content is never exported.
Result<Json> export_bundle(const Store& store, std::int64_t since = 0);

struct ImportReport {
  std::size_t applied = 0;
  std::size_t duplicates = 0;
  std::size_t ignored = 0;  // changes to deleted or purged records
  struct Rejected {
    std::string hlc;
    Error error;
  };
  std::vector<Rejected> rejected;  // e.g. clock_skew, unknown_field
  Json to_json() const;
};

// Parses a bundle file's text (any bytes: it comes from a USB stick), bounded
// like every JSON text from outside (json.hpp). kInvalidJson for malformed
// text or nesting deeper than kMaxJsonDepth. Import what this returns: a
// Json nested deeper could not be copied or compared without exhausting the
// stack.
Result<Json> parse_bundle(std::string_view text);

// Applies every change of a bundle in one transaction. A malformed bundle
// (not JSON of the shape above) is refused whole with kInvalidJson/kCorrupt
// and changes nothing; individual invalid changes are rejected and reported
// while the valid ones are applied.
Result<ImportReport> import_bundle(Store& store, const Json& bundle);

}  // namespace tandem
