// The record operations behind both the generic commands (`new`, `set`, ...)
// and the per-kind ones (`course create`, ...): one implementation, two
// spellings. Each returns the process exit code and has printed its result
// or error through the CliContext.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli_context.hpp"
#include "tandem/core/schema.hpp"

namespace tandem::cli {

// (field name, value text) pairs in command-line order.
using Assignments = std::vector<std::pair<std::string, std::string>>;

// Creates a record of `kind` from text assignments (one store transaction).
// Unknown fields, bad values and repeated fields fail before anything is written.
int create_record(CliContext& ctx, std::string_view kind, const Assignments& fields,
                  std::string_view id = {});
// Sets fields of record `id` (all in one transaction: all or nothing).
// `kind` non-empty: the record must be of that kind (else not_found).
int update_record(CliContext& ctx, std::string_view id, std::string_view kind,
                  const Assignments& fields);
// Adds (add=true) or removes one element of a set field.
int change_set_element(CliContext& ctx, std::string_view id, std::string_view field,
                       std::string_view element, bool add);
int show_record(CliContext& ctx, std::string_view id, std::string_view kind);
int delete_record(CliContext& ctx, std::string_view id, std::string_view kind);
int purge_record(CliContext& ctx, std::string_view id, std::string_view kind);
int list_records(CliContext& ctx, std::string_view kind, bool include_deleted);

// Fetches record `id`; with `kind` non-empty a record of another kind is
// reported as not_found (so `course show <session id>` cannot mislead), and
// people, groups, children and courses may be named instead
// (resolve_reference: not_found, or ambiguous listing the matches).
Result<Record> fetch_record(Store& store, std::string_view id, std::string_view kind);
// `text` as the id of a record of `kind`: the record's name (or initials)
// for kinds referred to by name; the text itself for other kinds.
Result<std::string> resolve_id(const Store& store, std::string_view kind, std::string_view text);
// Prints a created record's id (and the consent notice its fields call
// for): {"id": ID} for one record, {"ids": [...]} for several (made alike:
// the first one's fields decide the notice).
int report_created(CliContext& ctx, const Store& store, std::string_view kind,
                   const std::vector<std::string>& ids);

}  // namespace tandem::cli
