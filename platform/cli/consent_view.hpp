// Parental consent on screen (core's rule: tandem/core/consent.hpp): the state
// of consent records in `show` and listings, a child's consents, and the
// notice when a note or agenda item about a child stays with its author and
// the resource centre because no consent covers its forum.
//
// Human text is Danish like the rest of the CLI's screen output (format.hpp);
// --json carries the stable English codes (in_force, not_yet, withdrawn,
// consent_missing) and English messages.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cli_context.hpp"
#include "tandem/core/store.hpp"

namespace tandem::cli {

// Today's Danish date on the CLI's clock. REQUIRES: ctx.store() succeeded.
std::string consent_day(CliContext& ctx);

// Adds what consent means for `record` on `day` to its `show`/`list` output:
// a consent gets {"consent": {state...}} and a state line; a child gets
// {"consents": {"on", "in_force": [scopes], "records": [...]}} and a line per
// consent. Other kinds are left as they are. `line`: the one-line listing
// form (a short suffix) instead of the multi-line `show` form.
Status describe_consent(const Store& store, const Record& record, std::string_view day, Json& doc,
                        std::string& human, bool line);

// After a write that leaves `kind` with these merged `fields`: when it names
// a child whose consent does not cover the forum today, the notice for the
// user (also when the check itself failed: the write stands either way).
// The JSON goes into the command's document as "notice"; `text` to stderr.
struct ConsentNotice {
  Json json;
  std::string text;
};
std::optional<ConsentNotice> consent_notice(CliContext& ctx, const Store& store,
                                            std::string_view kind, const Json& fields);

}  // namespace tandem::cli
