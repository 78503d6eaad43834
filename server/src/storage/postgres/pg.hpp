// A thin, bounded wrapper over libpq for the PostgreSQL backend: one
// connection (Conn), statements with text parameters ($1, $2, ...), results
// read by row and column, and libpq's errors mapped onto Tandem's codes.
//
//   auto conn = pg::Conn::open(url);                      // Result<unique_ptr<Conn>>
//   auto rows = (*conn)->query("SELECT seq FROM t WHERE school=$1", {school});
//   for (int i = 0; i < rows->size(); ++i) use(rows->int64(i, 0));
//
// Errors: a lost connection or a server shutting down is kBusy (503: the
// client retries; the connection reconnects at its next use), and so is a
// serialization failure or a deadlock between instances (the transaction
// may be run again as a whole); a unique violation is kAlreadyExists; a statement
// over statement_timeout is kTimeout; anything else kInternal. Messages never
// carry parameter values (they may be a child's data): only the SQLSTATE and
// libpq's primary message for the statement.
//
// Thread-safety: a Conn is used by one thread at a time (libpq's rule). Pool
// hands connections to threads.
#pragma once

#include <libpq-fe.h>

#include <condition_variable>
#include <functional>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tandem/core/error.hpp"

namespace tandem::server::pg {

// One statement parameter as text (NULL when empty optional).
struct Param {
  std::optional<std::string> value;
  Param(std::nullopt_t) {}  // NOLINT: SQL NULL
  Param(std::string_view v) : value(std::string(v)) {}  // NOLINT
  Param(const std::string& v) : value(v) {}             // NOLINT
  Param(const char* v) : value(std::string(v)) {}       // NOLINT
  Param(std::int64_t v) : value(std::to_string(v)) {}   // NOLINT
  Param(int v) : value(std::to_string(v)) {}            // NOLINT
  Param(bool v) : value(v ? "t" : "f") {}               // NOLINT
  Param(std::optional<std::int64_t> v) {                // NOLINT
    if (v) value = std::to_string(*v);
  }
};
using Params = std::vector<Param>;

// A statement's rows (owns the PGresult).
class Rows {
 public:
  Rows() = default;
  explicit Rows(PGresult* r) : r_(r, &PQclear) {}
  int size() const { return r_ ? PQntuples(r_.get()) : 0; }
  bool empty() const { return size() == 0; }
  bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string text(int row, int col) const {
    return std::string(PQgetvalue(r_.get(), row, col),
                       static_cast<std::size_t>(PQgetlength(r_.get(), row, col)));
  }
  std::int64_t int64(int row, int col) const;  // 0 for NULL or junk
  std::optional<std::int64_t> opt_int64(int row, int col) const {
    if (null(row, col)) return std::nullopt;
    return int64(row, col);
  }
  bool boolean(int row, int col) const {
    const char* v = PQgetvalue(r_.get(), row, col);
    return v && (v[0] == 't' || v[0] == '1');
  }
  // Rows an INSERT/UPDATE/DELETE touched.
  std::int64_t affected() const;

 private:
  std::shared_ptr<PGresult> r_;
};

class Conn {
 public:
  // Connects (10 s connect timeout) and sets the session up: UTC, UTF-8,
  // synchronous_commit=on (durable before any 2xx), a statement timeout.
  static Result<std::unique_ptr<Conn>> open(const std::string& url);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  Result<Rows> query(std::string_view sql, const Params& params = {});
  Status run(std::string_view sql, const Params& params = {}) {
    auto r = query(sql, params);
    if (!r) return std::move(r).error();
    return {};
  }
  // Several statements without parameters (migrations; statements sent in
  // one round trip).
  Status script(std::string_view sql);
  // `text` as an SQL string literal for script() (quoted and escaped by libpq).
  Result<std::string> literal(std::string_view text);
  // Runs `fn` in a transaction (BEGIN ... COMMIT; ROLLBACK on error). A
  // kBusy failure (serialization, deadlock) is retried up to 5 times.
  Status transaction(const std::function<Status()>& fn);
  // Inside BEGIN ... COMMIT (a lost connection is not: it reconnects).
  bool in_transaction() const {
    const auto s = PQtransactionStatus(c_);
    return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
  }
  // Whether the connection is usable; reconnects once when it was lost.
  bool ensure_ok();

 private:
  explicit Conn(PGconn* c, std::string url) : c_(c), url_(std::move(url)) {}
  static Status setup(PGconn* c);
  // The name of `sql` prepared on this connection (prepared on first use):
  // PostgreSQL parses and plans each statement once per connection.
  Result<std::string> prepared(const std::string& sql);
  PGconn* c_;
  std::string url_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL -> statement name
  static constexpr std::size_t kMaxPrepared = 512;  // statements kept per connection
};

// The error of a failed statement on `c` (or of `r` when given).
Error error_of(PGconn* c, const PGresult* r, std::string_view what);

// A fixed set of connections for request threads: acquire() waits (at most
// `wait`) for a free one.
class Pool {
 public:
  class Lease {
   public:
    Lease(Pool* p, std::unique_ptr<Conn> c) : pool_(p), conn_(std::move(c)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (pool_ && conn_) pool_->release(std::move(conn_));
    }
    Conn* operator->() { return conn_.get(); }
    Conn& operator*() { return *conn_; }

   private:
    Pool* pool_;
    std::unique_ptr<Conn> conn_;
  };
  Status open(const std::string& url, int size);
  Result<Lease> acquire();

 private:
  void release(std::unique_ptr<Conn> c);
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> free_;
};

// Whether `url` names a PostgreSQL store (postgresql:// or postgres://).
bool is_postgres_url(std::string_view url);
// `url` without its password, for messages.
std::string redact_url(std::string_view url);

}  // namespace tandem::server::pg
