// Who may use the leaders' web pages, and the sessions that carry them:
// the administration issues a one-time login code for a person (admin CLI),
// the browser exchanges it at POST /login for a session cookie, and every
// request reads the session's person afresh (a leader who is no longer one
// is refused at the next page, not at the end of the session).
//
// Codes and cookies are shown once; only their SHA-256 is stored.
// Thread-safety: stateless; safe from any thread (storage calls are).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tandem/core/error.hpp"
#include "tandem/server/storage.hpp"
#include "viewer.hpp"

namespace tandem::server {

// The viewer a person is now (their school and role read from their record).
// kUnauthorized: no such live person; kForbidden: they may not view their
// school's reports. THE admission rule of the web pages and of login codes.
Result<Viewer> report_viewer(ServerStorage& storage, std::string_view person);

struct IssuedLoginCode {
  std::string code;  // shown once, "K7QM-2HXD-9RTA"
  std::string person;
  std::string school;
  std::int64_t expires_ms = 0;
};

// A one-time login code for `person`, valid `ttl_ms` (refused, and nothing
// stored, for a person report_viewer refuses). kInvalidValue: ttl_ms <= 0.
Result<IssuedLoginCode> issue_login_code(ServerStorage& storage, std::string_view person,
                                         std::int64_t now_ms, std::int64_t ttl_ms);

struct StartedSession {
  std::string token;  // the cookie's value (shown once)
  Viewer viewer;
  std::int64_t expires_ms = 0;
};

// Exchanges a typed login code for a new session of kWebSessionSeconds.
// The code is used up even when its person is refused. kUnauthorized:
// unknown, malformed or used code (or its person is gone); kExpired: too
// late; kForbidden: the person may not view reports.
Result<StartedSession> start_session(ServerStorage& storage, std::string_view typed_code,
                                     std::int64_t now_ms);

// The viewer of a session cookie. kUnauthorized: unknown or expired session,
// or its person is gone; kForbidden: no longer allowed.
Result<Viewer> session_viewer(ServerStorage& storage, std::string_view token, std::int64_t now_ms);

// Logout: the session stops working at once.
Status end_session(ServerStorage& storage, std::string_view token);

// The logout form's anti-CSRF token, derived from the session's cookie (a
// page of another site can neither read the cookie nor this).
std::string csrf_token(std::string_view session_token);

}  // namespace tandem::server
