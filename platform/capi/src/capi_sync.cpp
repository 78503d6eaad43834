// tandem.h: transports (the app's HTTP stack, or libcurl), enrollment, sync.
#include <atomic>
#include <chrono>
#include <thread>

#include "capi_internal.hpp"
#include "tandem/core/encryption.hpp"
#include "tandem/sync/engine.hpp"
#include "tandem/sync/enrollment.hpp"
#include "tandem/sync/protocol.hpp"
#include "tandem/sync/transport.hpp"
#if TANDEM_CAPI_WITH_CURL
#include "tandem/sync/curl_transport.hpp"
#endif

struct tandem_http_response {
  int status = 0;
  std::string body;
  bool set = false;
  bool too_large = false;
};

struct tandem_transport {
  std::unique_ptr<tandem::sync::Transport> impl;
};

struct tandem_cancel_token {
  std::atomic<bool> cancelled{false};
};

namespace tandem::capi {
namespace {

// The app's send callback as a Transport (transport.hpp's contract: an
// answer of any status is a success; its size is capped here, whatever the
// app's stack holds).
class CallbackTransport final : public sync::Transport {
 public:
  CallbackTransport(tandem_send_fn fn, void* ctx, void (*ctx_free)(void*))
      : send_(fn), ctx_(ctx), ctx_free_(ctx_free) {}
  ~CallbackTransport() override {
    if (ctx_free_ != nullptr) ctx_free_(ctx_);
  }
  CallbackTransport(const CallbackTransport&) = delete;
  CallbackTransport& operator=(const CallbackTransport&) = delete;

  Result<sync::HttpResponse> send(const sync::HttpRequest& request) override {
    ++stats_.requests;
    tandem_http_response response;
    tandem_error_code failure = TANDEM_E_NETWORK;
    const bool ok = send_(ctx_, request.method.c_str(), request.path.c_str(), request.body.c_str(),
                          request.body.size(), request.bearer_token.c_str(),
                          static_cast<std::int64_t>(request.timeout.count()), &response, &failure);
    if (!ok || !response.set) {
      ++stats_.failures;
      if (ok) return make_error(ErrorCode::kNetwork, "the app's transport returned no response");
      return make_error(failure == TANDEM_E_TIMEOUT ? ErrorCode::kTimeout : ErrorCode::kNetwork,
                        failure == TANDEM_E_TIMEOUT ? "the app's transport timed out"
                                                    : "the app's transport failed");
    }
    if (response.too_large) {
      ++stats_.failures;
      return make_error(ErrorCode::kResponseTooLarge, "the server's answer is over the client's cap");
    }
    stats_.bytes_sent += static_cast<std::int64_t>(request.body.size());
    stats_.bytes_received += static_cast<std::int64_t>(response.body.size());
    return sync::HttpResponse{response.status, std::move(response.body)};
  }
  sync::TransportStats stats() const override { return stats_; }

 private:
  tandem_send_fn send_;
  void* ctx_;
  void (*ctx_free_)(void*);
  sync::TransportStats stats_;
};

void fill_result(tandem_sync_result* out, const sync::SyncSummary& s) {
  if (out == nullptr) return;
  *out = tandem_sync_result{};
  out->pushed = s.pushed;
  out->accepted = s.accepted;
  out->rejected = s.rejected;
  out->pulled = s.pulled;
  out->applied = s.applied;
  out->erased = s.erased;
  out->outbox_left = s.outbox_left;
  out->requests = s.requests;
  out->clock_offset_ms = s.clock_offset_ms;
  out->complete = s.complete;
  out->stopped_at_deadline = s.stopped_at_deadline;
  out->clock_wrong = s.clock_wrong;
}

}  // namespace
}  // namespace tandem::capi

using namespace tandem;
using capi::guard;
using capi::need;

extern "C" {

void tandem_http_response_set(tandem_http_response* response, int32_t status, const char* body, size_t len) {
  if (response == nullptr) return;
  try {
    response->status = status;
    response->set = true;
    if (len > sync::kMaxResponseBytes) {
      response->too_large = true;
      response->body.clear();
      return;
    }
    response->body.assign(body != nullptr ? body : "", body != nullptr ? len : 0);
  } catch (...) {
    response->set = false;  // out of memory: reported as a transport failure
  }
}

tandem_transport* tandem_transport_new(tandem_send_fn send, void* ctx, void (*ctx_free)(void*), tandem_error* err) {
  std::unique_ptr<capi::CallbackTransport> impl;
  try {
    impl = std::make_unique<capi::CallbackTransport>(send, ctx, ctx_free);
  } catch (...) {
    if (ctx_free != nullptr) ctx_free(ctx);
    capi::set_error(err, ErrorCode::kInternal, "out of memory");
    return nullptr;
  }
  return guard<tandem_transport*>(err, nullptr, [&]() -> Result<tandem_transport*> {
    TANDEM_TRY(need(reinterpret_cast<const void*>(send), "send"));
    auto out = std::make_unique<tandem_transport>();
    out->impl = std::move(impl);
    return out.release();
  });
}

tandem_transport* tandem_transport_new_http(const char* base_url, tandem_error* err) {
  return guard<tandem_transport*>(err, nullptr, [&]() -> Result<tandem_transport*> {
    TANDEM_TRY(need(base_url, "base_url"));
#if TANDEM_CAPI_WITH_CURL
    sync::CurlOptions options;
    options.base_url = base_url;
    auto curl = sync::CurlTransport::create(options);
    if (!curl) return std::move(curl).error();
    auto out = std::make_unique<tandem_transport>();
    out->impl = std::move(*curl);
    return out.release();
#else
    return make_error(ErrorCode::kInvalidArgument,
                      "this build has no HTTP stack of its own: give one with tandem_transport_new");
#endif
  });
}

void tandem_transport_free(tandem_transport* transport) { delete transport; }

char* tandem_store_enroll(tandem_store* store, tandem_transport* transport, const char* server_url,
                          const char* code, const char* device_name, tandem_error* err) {
  return tandem_store_enroll_with(store, transport, server_url, code, device_name,
                                  TANDEM_LOCAL_RECORDS_ASK, err);
}

char* tandem_store_enroll_with(tandem_store* store, tandem_transport* transport,
                               const char* server_url, const char* code, const char* device_name,
                               tandem_local_records local_records, tandem_error* err) {
  return guard<char*>(err, nullptr, [&]() -> Result<char*> {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(transport, "transport"));
    TANDEM_TRY(need(server_url, "server_url"));
    TANDEM_TRY(need(code, "code"));
    TANDEM_TRY(need(device_name, "device_name"));
    sync::EnrollOptions options;
    options.server_url = server_url;
    options.code = code;
    options.device_name = device_name;
    if (local_records == TANDEM_LOCAL_RECORDS_MOVE) {
      options.local_records = Store::LocalRecords::kMove;
    } else if (local_records == TANDEM_LOCAL_RECORDS_KEEP) {
      options.local_records = Store::LocalRecords::kKeep;
    } else if (local_records != TANDEM_LOCAL_RECORDS_ASK) {
      return make_error(ErrorCode::kInvalidArgument, "local_records must be ASK, MOVE or KEEP");
    }
    Store& s = *store->store;
    auto enrolled = sync::enroll_device(s, *transport->impl, s.skew_clock(), options);
    if (!enrolled) return std::move(enrolled).error();
    return capi::dup(enrolled->device_id);
  });
}

tandem_cancel_token* tandem_cancel_token_new(tandem_error* err) {
  return guard<tandem_cancel_token*>(err, nullptr,
                                     []() -> Result<tandem_cancel_token*> { return new tandem_cancel_token(); });
}

void tandem_cancel_token_cancel(tandem_cancel_token* token) {
  if (token != nullptr) token->cancelled.store(true, std::memory_order_relaxed);
}

void tandem_cancel_token_free(tandem_cancel_token* token) { delete token; }

bool tandem_store_sync(tandem_store* store, tandem_transport* transport, const tandem_sync_options* options,
                       tandem_sync_result* result, tandem_error* err) {
  if (result != nullptr) *result = tandem_sync_result{};
  return guard<bool>(err, false, [&]() -> Result<bool> {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(transport, "transport"));
    const tandem_sync_options o = options != nullptr ? *options : tandem_sync_options{};
    if (o.deadline_ms < 0 || o.timeout_ms < 0) {
      return make_error(ErrorCode::kInvalidArgument, "deadline_ms and timeout_ms must not be negative");
    }
    sync::EngineOptions eo;
    eo.deadline = std::chrono::milliseconds(o.deadline_ms);
    eo.overall_timeout = std::chrono::milliseconds(o.timeout_ms);
    if (o.cancel != nullptr) {
      tandem_cancel_token* token = o.cancel;
      eo.cancelled = [token] { return token->cancelled.load(std::memory_order_relaxed); };
    }
    Store& s = *store->store;
    RandomSource* random = s.host().random;
    // Backoff waits block this (the caller's) thread: the library starts none.
    sync::SyncEngine engine(
        s, *transport->impl, [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); },
        [random] {
          std::uint64_t v = 0;
          random->fill(reinterpret_cast<unsigned char*>(&v), sizeof v);
          return v;
        },
        eo);
    sync::ProgressFn progress;
    if (o.progress != nullptr) {
      progress = [&o](const sync::SyncProgress& p) {
        tandem_sync_progress c{p.pushed, p.pulled, p.outbox_left, p.more};
        o.progress(o.progress_ctx, &c);
      };
    }
    auto summary = engine.sync(progress);
    // What was done, whether the sync completed or failed (last_summary).
    capi::fill_result(result, engine.last_summary());
    if (!summary && summary.error().code == ErrorCode::kDeviceWiped) {
      // A lost tablet: the order is carried out here, not left to the app.
      // The handle stays valid but inert (every call: device_wiped) until
      // tandem_store_close; a failed erase is reported, and
      // tandem_destroy_database finishes it.
      store->store.reset();
      TANDEM_TRY(destroy_database(store->path, store->host->host()));
    }
    if (!summary) return std::move(summary).error();
    return true;
  });
}

}  // extern "C"
