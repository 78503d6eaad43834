// What an app's screens ask of the notebook, answered once for every host
// (the CLI, the C API, the server): whole-value edits, people, groups,
// children and courses by name, open and overdue actions, open conflicts
// with who and when, and a course or meeting with what hangs under it.
//
// Thread-safety: as the Store (one thread at a time).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tandem/core/error.hpp"
#include "tandem/core/local_time.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/core/store.hpp"

namespace tandem {

// ---- whole values ----
// Writes `value` (validated by validate_value) into `field` of the live
// record `current`, the way the field merges: scalars with Store::set; sets
// by adding and removing the difference (concurrent edits of other elements
// survive); text by Store::set's minimal replacement (concurrent typing
// elsewhere in the text survives). Several changes may result: call inside
// Store::transaction for all or nothing.
Status write_value(Store& store, const Record& current, const FieldSpec& field, const Json& value);

// ---- names ----
// Kinds that can be referred to by name: person (name, initials), group
// (name), child (pseudonym), course (title), and school, template, meeting.
bool nameable_kind(std::string_view kind);
// A name as shown: person "Anne Hansen (AH)", child its pseudonym, course its
// title; the id when the record has none. Children's pseudonyms are shown to
// the user, never put in error messages.
std::string record_label(const Record& record);

struct ReferenceMatch {
  std::string id;
  std::string label;
};
// Records of `kind` that `text` names, best tier only: the exact id of any
// record here (taken as given, whatever its kind or state: the store says
// why it cannot be used); else among live records of `kind`
// the whole name or the initials (case-insensitive, Danish letters
// included); else a word of the name or the name's beginning ("Anne" for
// "Anne Hansen", "3.a" for "3.a dansk"). Sorted by id.
Result<std::vector<ReferenceMatch>> find_references(const Store& store, std::string_view kind,
                                                    std::string_view text);
// The one record `text` names. Errors: kNotFound (none), kAmbiguous (several:
// the message lists their ids, and their names except for children).
Result<std::string> resolve_reference(const Store& store, std::string_view kind,
                                      std::string_view text);

// ---- actions ----
struct ActionQuery {
  std::string person;         // "" = everyone's; else only those with this tovholder
  bool overdue_only = false;  // only those due before `today`
  std::string today;          // "YYYY-MM-DD" in the host's zone (local_date)
};
struct OpenAction {
  Record record;
  std::string due;  // "" when none
  bool overdue = false;
};
// Live actions not done, by due date (undated last), then id.
// REQUIRES: today is a valid date when overdue_only.
Result<std::vector<OpenAction>> open_actions(const Store& store, const ActionQuery& query);

// ---- conflicts ----
// One value that lost a concurrent write and is kept until resolved.
struct OpenConflict {
  std::string record, kind, field;
  std::string label;         // record_label of the record
  Json current;              // the value that won (shown now)
  Json value;                // the losing value
  std::string hlc;           // its stamp (resolve takes it)
  std::int64_t at_ms = 0;    // when it was written (the stamp's time, UTC)
  std::string site;          // the device that wrote it
  bool this_device = false;  // written here
};
// Every open conflict of live records, by record and field. Reads only the
// records that have one (Store::conflicted).
Result<std::vector<OpenConflict>> open_conflicts(const Store& store);

// ---- merged texts ----
// Who wrote one side of a merge of overlapping concurrent edits.
struct MergeAuthor {
  std::string site;          // the device (its site id: the text's agent)
  std::string name;          // the person, when known here; "" otherwise
  bool this_device = false;  // written here
};
// A text field holding overlapping concurrent edits not confirmed yet
// (Record::merged, text/sequence.hpp MERGE MARKS).
struct MergedText {
  std::string field;
  std::vector<MergeAuthor> by;  // sorted by site
};
// The record's merged text fields, by field. A device knows one person by
// name, the one it is enrolled for: `self_name` ("" when none) names this
// device's site; other devices are named by their site id.
std::vector<MergedText> merged_texts(const Store& store, const Record& record,
                                     std::string_view self_name);
// "merged from concurrent edits by A and B" (English) or "flettet sammen af
// samtidige ændringer fra A og B" (Danish); A, B, ... the authors' names, or
// their site ids when not known.
std::string merge_notice(const MergedText& merged, bool danish);

// ---- what hangs under a record ----
struct RecordTree {
  Record record;
  std::int64_t entries = 0;          // a session's observation entries
  std::vector<RecordTree> children;  // sessions of a course; reflections of a
                                     // session; agenda items of a meeting
  std::vector<Record> actions;       // actions whose source is this record
};
// A course or a meeting (or a session) with what hangs under it, to any
// depth the schema gives. Errors: kNotFound.
Result<RecordTree> record_tree(const Store& store, std::string_view id);

}  // namespace tandem
