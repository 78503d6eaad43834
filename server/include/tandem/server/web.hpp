// The leaders' web pages, served by tandem-server itself: the pure parts
// (no sockets, no storage) that the routes in server/src/web.cpp put
// together, public so that tests can hold them to their word.
//
//  - HTTP details of a browser: cookies, form and query fields, the
//    same-origin check of a form post, the session cookie's attributes.
//  - One dictionary, Danish and English, for every word on a page.
//  - Rendering: whole HTML pages from the report engine's JSON (shapes in
//    docs/openapi.yaml, /v1/schools/{school}/overview and .../courses/{id}).
//    Pages read without JavaScript: headings, numbers and tables are in the
//    HTML, charts are inline SVG drawn here, each beside a table of its
//    figures. Every text from the data is HTML-escaped.
//
// Thread-safety: all functions are pure; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "tandem/core/change.hpp"  // Json

namespace tandem::server::web {

// ---- HTTP of a browser ----

inline constexpr std::string_view kSessionCookie = "tandem_session";
inline constexpr std::string_view kLangCookie = "tandem_lang";

// `text` with & < > " ' as character references.
std::string html_escape(std::string_view text);
// `text` percent-encoded for a URL's query or path segment (unreserved kept).
std::string url_encode(std::string_view text);

// The value of cookie `name` in a Cookie header ("" when absent).
std::string cookie_value(std::string_view cookie_header, std::string_view name);
// Whether an Origin header (or a Referer URL) names the site at `host` (the
// request's Host header): scheme http or https, the same host and port.
// "null" and anything unparsable are foreign.
bool same_origin(std::string_view origin_or_referer, std::string_view host);
// The Set-Cookie value of a session: HttpOnly; SameSite=Strict; Path=/;
// Max-Age; Secure when the server is behind TLS. max_age 0 clears it.
std::string session_cookie(std::string_view token, std::int64_t max_age_seconds, bool secure);

// ---- words ----

enum class Lang { kDa, kEn };

struct DictEntry {
  std::string_view key;
  std::string_view da;
  std::string_view en;
};

// Every entry of the dictionary (a test checks each is complete).
std::span<const DictEntry> dictionary();
// The word for `key`; the key itself when the dictionary lacks it.
std::string_view tr(Lang lang, std::string_view key);
// "da" / "en" -> Lang; nullopt otherwise.
std::optional<Lang> parse_lang(std::string_view text);
std::string_view lang_code(Lang lang);

// ---- pages ----

struct PageContext {
  Lang lang = Lang::kDa;
  std::string csrf;  // the logout form's token ("" on the login page: no logout)
  std::string from;  // the range shown (YYYY-MM-DD), for links and forms
  std::string to;
  std::string path;  // the page's own path, for the language switch
};

// The login form; `message_key` (a dictionary key, "" none) says why it is
// shown again.
std::string render_login(const PageContext& ctx, std::string_view message_key);
// An error page for a signed-in leader (not found, forbidden, ...).
std::string render_message(const PageContext& ctx, std::string_view title_key,
                           std::string_view message_key);
// The overview of a school from Reports::overview's JSON.
std::string render_overview(const Json& overview, const PageContext& ctx);
// One course from Reports::course's JSON.
std::string render_course(const Json& course, const PageContext& ctx);
// The årsplan/evaluation page (themes, follow-up, participation) from the
// overview JSON, laid out to print on one page.
std::string render_print(const Json& overview, const PageContext& ctx);

// The stylesheet served at /assets/tandem.css.
std::string_view stylesheet();

}  // namespace tandem::server::web
