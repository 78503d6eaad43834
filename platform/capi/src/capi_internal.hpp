// The C API's one guard and its handle types (platform/capi/include/tandem.h).
//
// Every entry point runs its body through guard(): a Result's error, a C++
// exception (std::bad_alloc included) or anything else thrown becomes a
// tandem_error written to `err` (when not NULL) and the function's failure
// value; nothing escapes into C, Swift or Kotlin.
#pragma once

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>

#include "tandem.h"
#include "tandem/core/error.hpp"
#include "tandem/core/host.hpp"
#include "tandem/core/store.hpp"

namespace tandem::capi {

void set_error(tandem_error* err, ErrorCode code, std::string_view message) noexcept;

template <class T, class F>
T guard(tandem_error* err, T failed, F&& body) noexcept {
  try {
    Result<T> r = body();
    if (r) return std::move(*r);
    set_error(err, r.error().code, r.error().message);
  } catch (const std::bad_alloc&) {
    set_error(err, ErrorCode::kInternal, "out of memory");
  } catch (const std::exception& e) {
    set_error(err, ErrorCode::kInternal, e.what());
  } catch (...) {
    set_error(err, ErrorCode::kInternal, "unexpected failure");
  }
  return failed;
}

// A malloc'ed copy for the caller (tandem_string_free); throws bad_alloc.
char* dup(std::string_view s);

// JSON text for the caller (tandem_string_free): invalid UTF-8 from an
// older file is replaced, never thrown.
char* json_out(const Json& j);

// Required string arguments: NULL is invalid_argument, never a crash.
Status need(const void* p, const char* what);

// A host's callbacks as the core's Host interfaces; owns ctx.
class CallbackHost final : public Clock, public LogSink, public RandomSource, public KeyStore {
 public:
  explicit CallbackHost(const tandem_host* config);
  ~CallbackHost() override;
  CallbackHost(const CallbackHost&) = delete;
  CallbackHost& operator=(const CallbackHost&) = delete;
  Host host();
  Status check() const;  // the config is usable (zone known, key callbacks all or none)

  std::int64_t now_ms() override;
  void log(LogLevel level, std::string_view component, std::string_view message) override;
  void fill(unsigned char* out, std::size_t n) override;
  Result<std::optional<std::string>> get(std::string_view name) override;
  Status put(std::string_view name, std::string_view secret) override;
  Status erase(std::string_view name) override;

 private:
  tandem_host c_{};
  std::string vfs_;
  std::string zone_;
  class Files;
  std::unique_ptr<FileLayer> files_;
};

}  // namespace tandem::capi

struct tandem_store {
  std::unique_ptr<tandem::capi::CallbackHost> host;  // outlives the store
  std::unique_ptr<tandem::Store> store;  // null once the device was wiped
  std::string path;
  ~tandem_store() { store.reset(); }
};

namespace tandem::capi {
// A store argument: NULL is invalid_argument; a store whose device was
// wiped (tandem_store_sync: TANDEM_E_DEVICE_WIPED) answers device_wiped to
// every call but tandem_store_close.
Status need(const tandem_store* store, const char* what);
}  // namespace tandem::capi
