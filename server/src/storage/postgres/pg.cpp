// libpq wrapper (pg.hpp).
#include "storage/postgres/pg.hpp"

#include <charconv>
#include <chrono>
#include <cstring>
#include <thread>

namespace tandem::server::pg {
namespace {

// Bounds on what one statement may take (a stuck lock, a runaway scan):
// the caller gets kTimeout and the transaction rolls back.
constexpr const char* kSessionSetup =
    "SET TIME ZONE 'UTC'; SET client_encoding = 'UTF8'; SET synchronous_commit = on; "
    "SET statement_timeout = '30s'; SET lock_timeout = '20s'; "
    "SET idle_in_transaction_session_timeout = '60s'; SET client_min_messages = warning";
constexpr int kBusyRetries = 5;

bool is_transaction_control(std::string_view sql) {
  for (std::string_view word : {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"})
    if (sql.starts_with(word)) return true;
  return false;
}
constexpr auto kPoolWait = std::chrono::seconds(30);

}  // namespace

std::int64_t Rows::int64(int row, int col) const {
  const char* v = PQgetvalue(r_.get(), row, col);
  const int n = PQgetlength(r_.get(), row, col);
  std::int64_t out = 0;
  if (v && n > 0) std::from_chars(v, v + n, out);
  return out;
}

std::int64_t Rows::affected() const {
  if (!r_) return 0;
  const char* n = PQcmdTuples(r_.get());
  std::int64_t out = 0;
  if (n && *n) std::from_chars(n, n + std::strlen(n), out);
  return out;
}

Error error_of(PGconn* c, const PGresult* r, std::string_view what) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string message = std::string(what) + ": ";
  if (primary) {
    message += primary;
  } else if (c) {
    message += PQerrorMessage(c);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      message.pop_back();
  }
  if (message.size() > 300) message.resize(300);
  const std::string_view s = state ? state : "";
  ErrorCode code = ErrorCode::kInternal;
  if (c && PQstatus(c) != CONNECTION_OK) {
    code = ErrorCode::kBusy;  // 503: the database is away; the client retries
  } else if (s == "40001" || s == "40P01") {
    code = ErrorCode::kBusy;
  } else if (s == "23505") {
    code = ErrorCode::kAlreadyExists;
  } else if (s == "57014" || s == "55P03") {
    code = ErrorCode::kTimeout;  // statement or lock timeout
  } else if (s.starts_with("08") || s == "57P01" || s == "57P02" || s == "57P03") {
    code = ErrorCode::kBusy;  // connection lost, server shutting down or starting: retry
  } else if (s == "53100") {
    code = ErrorCode::kDiskFull;
  }
  if (!s.empty()) message += " (SQLSTATE " + std::string(s) + ")";
  return make_error(code, std::move(message));
}

Status Conn::setup(PGconn* c) {
  PGresult* r = PQexec(c, kSessionSetup);
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  Status s = ok ? Status{} : Status(error_of(c, r, "session setup"));
  PQclear(r);
  return s;
}

Result<std::unique_ptr<Conn>> Conn::open(const std::string& url) {
  const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
  const char* values[] = {url.c_str(), "10", "tandem-server", nullptr};
  PGconn* c = PQconnectdbParams(keys, values, 1);
  if (!c) return make_error(ErrorCode::kServer, "PostgreSQL: out of memory");
  if (PQstatus(c) != CONNECTION_OK) {
    Error e = error_of(c, nullptr, "cannot connect to PostgreSQL at " + redact_url(url));
    PQfinish(c);
    return e;
  }
  if (Status s = setup(c); !s) {
    PQfinish(c);
    return s.error();
  }
  return std::unique_ptr<Conn>(new Conn(c, url));
}

Conn::~Conn() { PQfinish(c_); }

bool Conn::ensure_ok() {
  if (PQstatus(c_) == CONNECTION_OK) return true;
  PQreset(c_);
  prepared_.clear();  // a new session has none
  return PQstatus(c_) == CONNECTION_OK && setup(c_);
}

Result<std::string> Conn::prepared(const std::string& sql) {
  if (auto it = prepared_.find(sql); it != prepared_.end()) return it->second;
  if (prepared_.size() >= kMaxPrepared) {
    // Statements built at run time are few; a runaway is cut, not grown.
    PGresult* r = PQexec(c_, "DEALLOCATE ALL");
    PQclear(r);
    prepared_.clear();
  }
  std::string name = "t" + std::to_string(prepared_.size() + 1);
  PGresult* r = PQprepare(c_, name.c_str(), sql.c_str(), 0, nullptr);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    Error e = error_of(c_, r, "PostgreSQL");
    PQclear(r);
    return e;
  }
  PQclear(r);
  prepared_.emplace(sql, name);
  return name;
}

Result<Rows> Conn::query(std::string_view sql, const Params& params) {
  if (!in_transaction() && !ensure_ok())
    return error_of(c_, nullptr, "PostgreSQL connection lost");
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p.value ? p.value->c_str() : nullptr);
  PGresult* r = nullptr;
  if (is_transaction_control(sql)) {
    // Never prepared: they must run in an aborted transaction too.
    const std::string text(sql);
    r = PQexecParams(c_, text.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                     nullptr, nullptr, 0);
  } else {
    auto name = prepared(std::string(sql));
    if (!name) return std::move(name).error();
    r = PQexecPrepared(c_, name->c_str(), static_cast<int>(values.size()), values.data(), nullptr,
                       nullptr, 0);
  }
  const auto st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    Error e = error_of(c_, r, "PostgreSQL");
    PQclear(r);
    return e;
  }
  return Rows(r);
}

Status Conn::script(std::string_view sql) {
  if (!ensure_ok()) return error_of(c_, nullptr, "PostgreSQL connection lost");
  const std::string text(sql);
  PGresult* r = PQexec(c_, text.c_str());
  const auto st = PQresultStatus(r);
  Status s = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? Status{}
                                                                : Status(error_of(c_, r, "PostgreSQL"));
  PQclear(r);
  return s;
}

Result<std::string> Conn::literal(std::string_view text) {
  char* quoted = PQescapeLiteral(c_, text.data(), text.size());
  if (!quoted) return error_of(c_, nullptr, "cannot quote a value");
  std::string out(quoted);
  PQfreemem(quoted);
  return out;
}

Status Conn::transaction(const std::function<Status()>& fn) {
  for (int attempt = 0;; ++attempt) {
    TANDEM_TRY(run("BEGIN"));
    Status s = fn();
    if (s) s = run("COMMIT");
    if (!s) {
      if (in_transaction()) (void)script("ROLLBACK");
      if (s.error().code == ErrorCode::kBusy && attempt + 1 < kBusyRetries) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5 << attempt));
        continue;
      }
    }
    return s;
  }
}

Status Pool::open(const std::string& url, int size) {
  for (int i = 0; i < size; ++i) {
    auto c = Conn::open(url);
    if (!c) return std::move(c).error();
    free_.push_back(std::move(*c));
  }
  return {};
}

Result<Pool::Lease> Pool::acquire() {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, kPoolWait, [&] { return !free_.empty(); }))
    return make_error(ErrorCode::kBusy, "every PostgreSQL connection is busy");
  auto c = std::move(free_.back());
  free_.pop_back();
  return Lease(this, std::move(c));
}

void Pool::release(std::unique_ptr<Conn> c) {
  {
    std::lock_guard lock(mu_);
    if (c->in_transaction()) (void)c->script("ROLLBACK");
    free_.push_back(std::move(c));
  }
  cv_.notify_one();
}

bool is_postgres_url(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

std::string redact_url(std::string_view url) {
  // scheme://user:password@host/... -> scheme://user@host/...
  const auto scheme = url.find("://");
  const auto at = url.find('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme)
    return std::string(url.substr(0, 200));
  const auto colon = url.find(':', scheme + 3);
  std::string out(url.substr(0, at));
  if (colon != std::string_view::npos && colon < at) out = std::string(url.substr(0, colon));
  out += url.substr(at, 200);
  return out;
}

}  // namespace tandem::server::pg
