// One request to the leaders' pages as the handlers see it, and the answers
// they give (web.cpp; the handlers in web_handlers.cpp).
#pragma once

#include <string>
#include <string_view>

#include "http_query.hpp"
#include "http_types.hpp"
#include "tandem/core/error.hpp"
#include "tandem/server/web.hpp"
#include "viewer.hpp"

namespace tandem::server {

struct WebCall {
  const Request& request;
  std::string_view throttle_key;
  std::string_view path;
  std::string_view query;
  std::string token;         // the session cookie ("" none)
  bool lang_chosen = false;  // ?lang= given: remembered in a cookie
  web::PageContext ctx;
  Viewer viewer;  // set by Web::sign_in_required()

  // A query parameter ("" when absent).
  std::string param(std::string_view name) const {
    return form_value(query, name).value_or(std::string());
  }
  std::string_view header(http::field f) const {
    const auto v = request[f];
    return {v.data(), v.size()};
  }
};

// An answer with the pages' headers (no caching, no framing, a strict
// content security policy) and the language cookie when ?lang= chose one.
Response answer(const WebCall& c, http::status status, std::string_view type, std::string body);
Response html(const WebCall& c, http::status status, std::string body);
// 303 See Other.
Response redirect(const WebCall& c, std::string_view location);
// A message page (a dictionary key).
Response message(const WebCall& c, http::status status, std::string_view message_key);
// Whether a form post came from this site (Origin, else Referer, when sent).
bool from_this_site(const WebCall& c);
// A report's error as a status and the key of its message.
http::status status_of(ErrorCode code);
std::string_view message_key_of(ErrorCode code);

}  // namespace tandem::server
