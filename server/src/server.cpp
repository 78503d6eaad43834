#include "tandem/server/server.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <thread>
#include <vector>

#include "access_log.hpp"
#include "api.hpp"
#include "connection_registry.hpp"
#include "http_session.hpp"
#include "listener.hpp"
#include "tandem/server/sealed_key_store.hpp"
#include "tls_context.hpp"
#include "tandem/core/excerpt.hpp"
#include "tandem/server/access.hpp"
#include "tandem/server/audit.hpp"
#include "tandem/server/erasure_log.hpp"
#include "tandem/server/limits.hpp"
#include "tandem/server/metrics.hpp"
#include "tandem/server/storage.hpp"
#include "tandem/server/sync_service.hpp"

namespace tandem::server {
namespace {

Result<tcp::endpoint> resolve(net::io_context& ioc, const std::string& host, std::uint16_t port) {
  beast::error_code ec;
  const auto address = net::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(address, port);
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "cannot resolve " + excerpt(host) + ": " + ec.message());
  }
  return results.begin()->endpoint();
}

// Raises the soft limit on open files toward the hard one, as far as
// `wanted` connections need, and returns how many connections fit in it: a
// limit that the file table reaches first would stop accept() before the
// registry could make room.
std::size_t fit_connection_limit(std::size_t wanted) {
  const rlim_t spare = kReapBatch + kMaxOverflowConnections + kReservedFds;
  const rlim_t need = static_cast<rlim_t>(wanted) + spare;
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return wanted;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max == RLIM_INFINITY ? need : std::min(need, rl.rlim_max);
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need) return wanted;
  const std::size_t fits = rl.rlim_cur > spare ? static_cast<std::size_t>(rl.rlim_cur - spare) : 1;
  log_line("open files limited to " + std::to_string(rl.rlim_cur) + ": serving at most " +
           std::to_string(fits) + " connections");
  return fits;
}

// Retention of the audit trail: deletes what is older than the options say
// (nothing when they keep it all). A failure is logged, not fatal: the
// trail stays whole, and the next day's run tries again.
void prune_audit_trail(ServerStorage& storage, Clock& clock, const ServerOptions& options) {
  if (options.audit_retention_days <= 0) return;
  auto deleted =
      storage.prune_audit(audit_retention_cutoff(clock.now_ms(), options.audit_retention_days));
  if (!deleted) {
    log_line("audit retention failed: " + std::string(error_code_name(deleted.error().code)) +
             ": " + escape_controls(deleted.error().message));
  } else if (*deleted > 0) {
    log_line("audit retention: deleted " + std::to_string(*deleted) + " entries older than " +
             std::to_string(options.audit_retention_days) + " days");
  }
}

std::string endpoint_text(const tcp::endpoint& ep) {
  const std::string host = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(ep.port());
}

}  // namespace

int run_server(const ServerOptions& options, std::ostream& out, std::ostream& err) {
  try {
    // TLS first: a certificate that cannot be used stops the start before
    // anything is opened.
    std::shared_ptr<net::ssl::context> tls;
    if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
      auto made = make_tls_context(options.tls_cert_file, options.tls_key_file);
      if (!made) {
        err << "tandem-server: " << error_code_name(made.error().code) << ": "
            << escape_controls(made.error().message) << "\n";
        return 1;
      }
      tls = std::move(*made);
    }
    OffsetClock clock(options.now_offset_ms);
    auto storage = open_server_storage(options, clock, &err);
    if (!storage) {
      err << "tandem-server: " << error_code_name(storage.error().code) << ": "
          << escape_controls(storage.error().message) << "\n";
      return 1;
    }
    // Data merged before visibility existed gets its scope rows once.
    if (Status built = prepare_visibility(**storage); !built) {
      err << "tandem-server: " << error_code_name(built.error().code) << ": "
          << escape_controls(built.error().message) << "\n";
      return 1;
    }
    // Before serving: a server that was down for a while starts within its
    // retention.
    prune_audit_trail(**storage, clock, options);
    Metrics metrics;
    // The erasure log (backup.hpp): beside the SQLite file; with PostgreSQL
    // where --erasure-log or --data puts it (README, PostgreSQL).
    std::optional<ErasureLog> erasures;
    if (!options.erasure_log.empty()) {
      erasures.emplace(options.erasure_log);
    } else if (!options.data_dir.empty()) {
      erasures.emplace(erasure_log_path(options.data_dir));
    }
    SyncService service(**storage, clock, metrics, options.max_skew_ms,
                        erasures ? &*erasures : nullptr);
    // Threads for requests that wait for their own commit (enrollment).
    // Pushes never take one: they wait in the storage's commit queue.
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    net::thread_pool blocking(options.worker_threads ? options.worker_threads
                                                     : kBlockingThreadsPerCore * cores);
    Api api(service, **storage, metrics,
            [&blocking](std::function<void()> task) { net::post(blocking, std::move(task)); },
            options.secure_cookies || tls != nullptr);

    // Declared before the io_context: sessions still queued in it when it is
    // destroyed (after a forced stop) refer to these.
    ConnectionRegistry registry(fit_connection_limit(options.max_connections));
    SessionContext ctx{api, registry, metrics, options.timeouts, options.access_log};
    // With PostgreSQL a network thread waits on the database's round trips
    // (measured: --threads 4 nearly doubled check-ins/s on 2 cores against a
    // PostgreSQL on the same machine); with SQLite it works.
    const unsigned io_threads =
        options.io_threads ? options.io_threads
                           : (options.store.empty() ? default_io_threads()
                                                    : std::max(4u, 2 * std::max(1u, std::thread::hardware_concurrency())));
    net::io_context ioc(static_cast<int>(io_threads));

    auto endpoint = resolve(ioc, options.host, options.port);
    if (!endpoint) {
      err << "tandem-server: " << escape_controls(endpoint.error().message) << "\n";
      return 1;
    }
    auto listener = std::make_shared<Listener>(ioc, ctx, tls.get());
    if (Status s = listener->open(*endpoint); !s) {
      err << "tandem-server: " << escape_controls(s.error().message) << "\n";
      return 1;
    }
    out << "listening on " << endpoint_text(listener->local_endpoint()) << (tls ? " (https)" : "")
        << std::endl;

    // Shutdown is driven from one strand: the signal set and the drain timer.
    auto control = net::make_strand(ioc);
    net::signal_set signals(control, SIGINT, SIGTERM);
    net::steady_timer drain_timer(control);
    // Retention once a day, on a worker thread (it takes the storage's
    // writer, in steps); stopped with the signals at shutdown.
    net::steady_timer prune_timer(control);
    std::function<void()> schedule_prune = [&] {
      prune_timer.expires_after(kAuditPruneInterval);
      prune_timer.async_wait([&](beast::error_code ec) {
        if (ec) return;
        net::post(blocking, [&] { prune_audit_trail(**storage, clock, options); });
        schedule_prune();
      });
    };
    if (options.audit_retention_days > 0) schedule_prune();
    signals.async_wait([&](beast::error_code ec, int signo) {
      if (ec) return;
      log_line("signal " + std::to_string(signo) + ": draining");
      listener->stop();
      drain_timer.expires_after(options.timeouts.drain);
      drain_timer.async_wait([&](beast::error_code tec) {
        if (tec) return;
        log_line("drain timeout: stopping with requests in flight");
        ioc.stop();
      });
      signals.async_wait([&](beast::error_code sec, int) {
        if (sec) return;
        log_line("second signal: stopping now");
        ioc.stop();
      });
      registry.begin_shutdown([&] {
        net::post(control, [&] {
          beast::error_code ignored;
          signals.cancel(ignored);
          drain_timer.cancel();
          prune_timer.cancel();
        });
      });
    });
    listener->run();

    std::vector<std::thread> threads;
    const auto run_loop = [&ioc] {
      for (;;) {
        try {
          ioc.run();
          return;
        } catch (const std::exception& e) {
          log_line(std::string("unexpected exception in the event loop: ") + e.what());
        }
      }
    };
    threads.reserve(io_threads - 1);
    for (unsigned i = 1; i < io_threads; ++i) threads.emplace_back(run_loop);
    run_loop();
    for (auto& t : threads) t.join();
    blocking.join();
    // Pushes still queued are committed and told (their answers are posted
    // to the stopped event loop and dropped with it).
    (*storage)->drain();
    log_line("stopped");
    return 0;
  } catch (const std::exception& e) {
    err << "tandem-server: fatal: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace tandem::server
