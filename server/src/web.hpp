// Web: the leaders' pages of tandem-server (routes; the rendering and the
// browser's HTTP details are in tandem/server/web.hpp, who may sign in in
// web_auth.hpp). Api hands it every request whose path is one of its own
// (Web::route), on a thread that may block: a login waits for its commit
// and a page for its report.
//
//   GET  /                 303 to /overview (signed in) or /login
//   GET  /login            the form (?out=1: after logout)
//   POST /login            form field `code`: 303 to /overview with the
//                          session cookie; 401 wrong/used/expired code,
//                          403 not a leader or a foreign Origin/Referer,
//                          429 after too many wrong codes from the address
//   POST /logout           form field `csrf`: ends the session, 303 /login
//   GET  /overview         ?from=YYYY-MM-DD&to=YYYY-MM-DD&lang=da|en
//   GET  /print            the årsplan/evaluation page (same parameters)
//   GET  /courses/{id}     one course
//   GET  /assets/tandem.css
// A page without a live session answers 303 to /login.
//
// Thread-safety: handle() may run on several threads at once.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http_types.hpp"
#include "tandem/core/error.hpp"
#include "tandem/server/reports.hpp"
#include "tandem/server/storage.hpp"
#include "tandem/server/throttle.hpp"
#include "tandem/server/web.hpp"
#include "viewer.hpp"

namespace tandem::server {

struct WebOptions {
  // Set the cookie's Secure attribute: on once the server speaks TLS (or
  // sits behind a proxy that does).
  bool secure_cookies = false;
};

// One request as the page handlers see it (web.cpp).
struct WebCall;

class Web {
 public:
  using Now = std::function<std::int64_t()>;

  // REQUIRES: storage and reports outlive the Web.
  Web(ServerStorage& storage, Reports& reports, Now now, WebOptions options = {});

  // The access log's name of the route when `path` is one of the pages
  // (never the raw path); nullopt: not a page of ours.
  static std::optional<std::string_view> route(std::string_view path);

  // The viewer of a request's session cookie (for /v1/schools/..., whose
  // downloads the pages link to). kUnauthorized: no live session;
  // kForbidden: its person may no longer view reports.
  Result<Viewer> viewer_of(const Request& request);

  // Answers a request for one of the pages. `throttle_key`: the client's
  // address key (ClientInfo). Never throws (an error page instead).
  Response handle(const Request& request, std::string_view throttle_key) noexcept;

 private:
  Response dispatch(WebCall& call);
  Response login(WebCall& call);
  Response logout(WebCall& call);
  Response report_page(WebCall& call, std::string_view which);
  Response course_page(WebCall& call, std::string_view course);
  // Sets the call's viewer from its session, or returns the answer to give
  // instead (303 to /login, 403 no longer a leader).
  std::optional<Response> sign_in_required(WebCall& call);

  ServerStorage& storage_;
  Reports& reports_;  // checks who may see what, and audits what it shows
  Now now_;
  WebOptions options_;
  FailureThrottle login_failures_;
};

}  // namespace tandem::server
