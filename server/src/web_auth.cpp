#include "web_auth.hpp"

#include "tandem/server/access.hpp"
#include "tandem/server/crypto.hpp"
#include "tandem/server/limits.hpp"

namespace tandem::server {
namespace {

std::string hex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

// Hashes of what a browser holds are kept apart from the devices' by a prefix.
std::string session_hash(std::string_view token) {
  return sha256_hex("web-session\n" + std::string(token));
}
std::string code_hash(std::string_view normalized) {
  return sha256_hex("login-code\n" + std::string(normalized));
}

}  // namespace

Result<Viewer> report_viewer(ServerStorage& storage, std::string_view person) {
  auto record = storage.read_record(person);
  if (!record) return std::move(record).error();
  if (!*record || (*record)->kind != "person" || !(*record)->live())
    return make_error(ErrorCode::kUnauthorized, "no such person");
  const std::string& school = (*record)->school;
  auto allowed = storage.setting(reports_setting_key(school));
  if (!allowed) return std::move(allowed).error();
  TANDEM_TRY(may_view_reports(person, &**record, school, allowed->value_or("no") == "yes"));
  Viewer v;
  v.person = std::string(person);
  v.school = school;
  return v;
}

Result<IssuedLoginCode> issue_login_code(ServerStorage& storage, std::string_view person,
                                         std::int64_t now_ms, std::int64_t ttl_ms) {
  if (ttl_ms <= 0)
    return make_error(ErrorCode::kInvalidValue, "the code's lifetime must be positive");
  auto viewer = report_viewer(storage, person);
  if (!viewer) {
    if (viewer.error().code == ErrorCode::kUnauthorized)
      return make_error(ErrorCode::kNotFound,
                        "no person '" + std::string(person.substr(0, 64)) + "'");
    return std::move(viewer).error();
  }
  auto code = new_enrollment_code();
  if (!code) return std::move(code).error();
  IssuedLoginCode out{*code, viewer->person, viewer->school, now_ms + ttl_ms};
  auto school = storage.add_login_code(code_hash(normalize_enrollment_code(*code)), person, now_ms,
                                       out.expires_ms);
  if (!school) return std::move(school).error();
  return out;
}

Result<StartedSession> start_session(ServerStorage& storage, std::string_view typed_code,
                                     std::int64_t now_ms) {
  const std::string normalized = normalize_enrollment_code(typed_code);
  if (normalized.empty()) return make_error(ErrorCode::kUnauthorized, "not a login code");
  auto person = storage.use_login_code(code_hash(normalized), now_ms);
  if (!person) return std::move(person).error();
  auto viewer = report_viewer(storage, *person);
  if (!viewer) return std::move(viewer).error();
  auto token = new_device_token();  // the same 256 random bits as a device's token
  if (!token) return std::move(token).error();
  auto id = random_bytes(8);
  if (!id) return std::move(id).error();
  StartedSession out;
  out.token = std::move(*token);
  out.viewer = std::move(*viewer);
  out.viewer.session = "ws_" + hex(*id);
  out.expires_ms = now_ms + kWebSessionSeconds * 1000;
  WebSessionRow row{
      out.viewer.session, session_hash(out.token), out.viewer.person, out.viewer.school, now_ms,
      out.expires_ms};
  TANDEM_TRY(storage.add_web_session(row, now_ms));
  return out;
}

Result<Viewer> session_viewer(ServerStorage& storage, std::string_view token, std::int64_t now_ms) {
  if (token.empty()) return make_error(ErrorCode::kUnauthorized, "no session");
  auto session = storage.web_session(session_hash(token), now_ms);
  if (!session) return std::move(session).error();
  auto viewer = report_viewer(storage, session->person);
  if (!viewer) return std::move(viewer).error();
  viewer->session = session->id;
  return viewer;
}

Status end_session(ServerStorage& storage, std::string_view token) {
  if (token.empty()) return {};
  return storage.delete_web_session(session_hash(token));
}

std::string csrf_token(std::string_view session_token) {
  return sha256_hex("logout\n" + std::string(session_token)).substr(0, 32);
}

}  // namespace tandem::server
