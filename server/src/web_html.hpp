// Building blocks of the leaders' pages (web.hpp): the frame of a page,
// tables of counts, inline SVG bar charts with their table, and the
// formatting of values. Everything returned is HTML; every text from the
// data passes through html_escape here or in the caller.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tandem/server/web.hpp"

namespace tandem::server::web::html {

using Bars = std::vector<std::pair<std::string, double>>;  // label (plain text), value

// The whole page around `main_html`: skip link, header with the menu
// (signed in: overview, print page, language, logout), <main>.
std::string page(const PageContext& ctx, std::string_view title, std::string_view main_html,
                 bool signed_in);

// "?from=..&to=.." of the range in ctx ("" when none), with `extra` added.
std::string range_query(const PageContext& ctx, std::string_view extra = {});

// A word of the dictionary, escaped.
std::string t(const PageContext& ctx, std::string_view key);
// A value of the data's enumerations or a built-in focus area: its word
// (dictionary "v.<value>"), else the value itself (a school's own areas,
// names). word() is plain text, label() escaped.
std::string word(const PageContext& ctx, std::string_view value);
std::string label(const PageContext& ctx, std::string_view value);
// Text of a JSON value (string, number, bool; "–" for null), escaped.
std::string text(const PageContext& ctx, const Json& v);
// A number for people: integers as they are, others with one decimal
// (decimal comma in Danish).
std::string number(const PageContext& ctx, double v);
// The string `key` of an object ("" when absent or not a string).
std::string str(const Json& object, std::string_view key);
// The integer `key` of an object (0 when absent or not a number).
long long count(const Json& object, std::string_view key);

// The entries of a {name: count} object, largest first (ties by name), or
// in the object's key order (months) when !by_value; labels translated
// when `translate`.
Bars bars_of(const PageContext& ctx, const Json& counts, bool translate, bool by_value = true);

// A horizontal bar chart (inline SVG, role img, with its <title>) followed
// by a table of the same figures (the reading for screen readers and print).
// `id`: unique on the page; `value_heading`: the table's value column.
std::string bar_chart(const PageContext& ctx, std::string_view id, std::string_view title,
                      const Bars& bars, std::string_view value_heading);
// A table of counts with a caption (no chart).
std::string counts_table(const PageContext& ctx, std::string_view caption, const Bars& bars);

// The figures of resource-team meetings (themes, participation, follow-up),
// from the overview JSON: shared by the overview and the print page.
std::string meetings(const PageContext& ctx, const Json& overview);
// The period shown and the form to choose another (GET `action`).
std::string range_form(const PageContext& ctx, const Json& overview, std::string_view action);
// The link to a course's page.
std::string course_link(std::string_view id, std::string_view text);

// <section aria-labelledby> with an <h2>.
std::string section(std::string_view id, std::string_view heading, std::string_view content);

}  // namespace tandem::server::web::html
