// Human-readable text for records (labels in Danish, values as stored).
// Used only when --json is not given; scripts must use --json.
#pragma once

#include <map>
#include <string>

#include "tandem/core/local_time.hpp"
#include "tandem/core/store.hpp"

namespace tandem::cli {

// A value as a person reads it: strings raw, sets "a, b", the rest as JSON.
std::string format_value(const Json& value);
// What `show` adds to a record's stored values for people: the names of the
// records it refers to ({"names": {id: name}}) and its date-times in local
// time ({"local": {field: "YYYY-MM-DD HH:MM"}}). Unknown references are left out.
struct ShownValues {
  Json names = Json::object();
  Json local = Json::object();
};
// `labels`: names looked up before (a listing shows many records naming the
// same few), filled on the way; may be null.
ShownValues shown_values(const Record& record, const Store& store, const TimeZone& zone,
                         std::map<std::string, std::string>* labels = nullptr);

// A multi-line description: id and kind, then every field in schema order
// (references by name and id, date-times in local time), then open
// conflicts (with when, in local time) and the delete/purge state.
std::string format_record(const Record& record, const ShownValues& shown, const TimeZone& zone);
// One line for lists: the id, then a short label (title/name/first text field).
std::string format_record_line(const Record& record);

// `text` padded with spaces to `width` code points (aligned columns of
// UTF-8 labels); unchanged when already as wide.
std::string pad_right(const std::string& text, std::size_t width);

}  // namespace tandem::cli
