// The handlers of the leaders' pages that act: login, logout, the report
// pages (web.hpp has the routes).
#include <chrono>

#include "tandem/core/schema.hpp"
#include "tandem/server/limits.hpp"
#include "web.hpp"
#include "web_auth.hpp"
#include "web_call.hpp"

namespace tandem::server {
namespace {

// Milliseconds on a clock that never jumps (the throttle's time).
std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Response Web::login(WebCall& c) {
  // Login CSRF: a foreign page must not sign a browser in as someone else.
  if (!from_this_site(c))
    return html(c, http::status::forbidden, web::render_login(c.ctx, "login.foreign"));
  const std::int64_t wait = login_failures_.wait_ms(c.throttle_key, steady_ms());
  if (wait > 0) {
    Response res =
        html(c, http::status::too_many_requests, web::render_login(c.ctx, "login.throttled"));
    res.set(http::field::retry_after, std::to_string((wait + 999) / 1000));
    return res;
  }
  const std::string& body = c.request.body();
  const std::string code = body.size() <= kMaxWebFormBytes
                               ? form_value(body, "code").value_or(std::string())
                               : std::string();
  auto session = start_session(storage_, code, now_());
  if (!session) {
    const ErrorCode e = session.error().code;
    if (e == ErrorCode::kUnauthorized || e == ErrorCode::kExpired) {
      login_failures_.failed(c.throttle_key, steady_ms());
      return html(c, http::status::unauthorized, web::render_login(c.ctx, "login.bad_code"));
    }
    if (e == ErrorCode::kForbidden)
      return html(c, http::status::forbidden, web::render_login(c.ctx, "login.forbidden"));
    return html(c, http::status::internal_server_error, web::render_login(c.ctx, "error.internal"));
  }
  Response res = redirect(c, "/overview");
  res.insert(http::field::set_cookie,
             web::session_cookie(session->token, kWebSessionSeconds, options_.secure_cookies));
  return res;
}

Response Web::logout(WebCall& c) {
  // SameSite=Strict keeps the cookie off other sites' posts; the Origin
  // check and the form's token hold even where a browser ignores it.
  const std::string csrf =
      form_value(c.request.body().size() <= kMaxWebFormBytes ? std::string_view(c.request.body())
                                                             : std::string_view(),
                 "csrf")
          .value_or(std::string());
  if (!c.token.empty() && (!from_this_site(c) || csrf != csrf_token(c.token)))
    return message(c, http::status::forbidden, "login.foreign");
  if (Status ended = end_session(storage_, c.token); !ended)
    return message(c, http::status::internal_server_error, "error.internal");
  Response res = redirect(c, "/login?out=1");
  res.insert(http::field::set_cookie, web::session_cookie("", 0, options_.secure_cookies));
  return res;
}

Response Web::report_page(WebCall& c, std::string_view which) {
  const std::string from = c.param("from");
  const std::string to = c.param("to");
  auto range = parse_range(from, to, reports_.today());
  if (!range) return message(c, http::status::bad_request, "error.bad_range");
  // Links and forms keep what the leader chose (the default stays "this year").
  c.ctx.from = from;
  c.ctx.to = to;
  auto overview = reports_.overview(c.viewer, c.viewer.school, *range);
  if (!overview || !overview->is_object()) {
    const ErrorCode e = overview ? ErrorCode::kInternal : overview.error().code;
    return message(c, status_of(e), message_key_of(e));
  }
  return html(c, http::status::ok,
              which == "/print" ? web::render_print(*overview, c.ctx)
                                : web::render_overview(*overview, c.ctx));
}

Response Web::course_page(WebCall& c, std::string_view course) {
  if (!is_valid_id(course)) return message(c, http::status::not_found, "error.not_found");
  auto detail = reports_.course(c.viewer, c.viewer.school, course);
  if (!detail || !detail->is_object()) {
    const ErrorCode e = detail ? ErrorCode::kInternal : detail.error().code;
    return message(c, status_of(e), message_key_of(e));
  }
  return html(c, http::status::ok, web::render_course(*detail, c.ctx));
}

}  // namespace tandem::server
