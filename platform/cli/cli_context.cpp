#include "cli_context.hpp"

#include "tandem/core/encryption.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <system_error>

namespace tandem::cli {

std::string json_text(const Json& doc, int indent) {
  return doc.dump(indent, ' ', false, Json::error_handler_t::replace);
}

Result<Store*> CliContext::store(bool create_if_missing) {
  if (store_) return store_.get();
  auto opened = open_store(create_if_missing, "create it with `tandem init`");
  if (!opened.ok()) return std::move(opened).error();
  store_ = std::move(opened).value();
  return store_.get();
}

Result<std::unique_ptr<Store>> CliContext::open_store(bool create_if_missing, std::string_view missing_hint) {
  if (db_path.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "no database given: use --db FILE or TANDEM_DB");
  }
  std::error_code ec;
  if (!create_if_missing && !std::filesystem::exists(db_path, ec)) {
    return make_error(ErrorCode::kNotFound, "no database at '" + db_path + "' (" + std::string(missing_hint) + ")");
  }
  auto host = this->host();
  if (!host) return std::move(host).error();
  StoreOptions options;
  options.path = db_path;
  return Store::open(options, *host);
}

Result<Host> CliContext::host() {
  if (!keys_) {
    auto keys = platform::FileKeyStore::open();
    if (!keys.ok()) return std::move(keys).error();
    std::error_code ec;
    const auto db_dir = std::filesystem::weakly_canonical(std::filesystem::absolute(db_path, ec).parent_path(), ec);
    const auto key_dir = std::filesystem::weakly_canonical(keys->dir(), ec);
    if (!db_path.empty() && !db_dir.empty() && db_dir == key_dir) {
      return make_error(ErrorCode::kInvalidArgument,
                        "the key folder is the database's folder; keep keys apart (TANDEM_KEY_DIR)");
    }
    keys_.emplace(std::move(keys).value());
  }
  Host h;
  h.keys = &*keys_;
  return h;
}

Status CliContext::destroy_database() {
  store_.reset();
  auto host = this->host();
  if (!host) return std::move(host).error();
  return tandem::destroy_database(db_path, *host);
}

const TimeZone& CliContext::zone() const {
  const TimeZone* z = find_zone(tz);
  return z != nullptr ? *z : copenhagen_zone();  // main() accepts only known names
}

int CliContext::ok(const Json& doc, std::string_view human) {
  if (json) {
    std::cout << json_text(doc) << '\n';
  } else if (!human.empty()) {
    std::cout << human;
    if (human.back() != '\n') std::cout << '\n';
  }
  std::cout.flush();
  exit_code = kExitOk;
  return exit_code;
}

int CliContext::report(const Error& error, int code) {
  const std::string_view name = error_code_name(error.code);
  if (json) {
    Json doc = {{"error", {{"code", name}, {"message", error.message}}}};
    std::cout << json_text(doc) << '\n';
    std::cout.flush();
  } else {
    std::cerr << "tandem: error (" << name << "): " << error.message << '\n';
  }
  exit_code = code;
  return exit_code;
}

int CliContext::fail(const Error& error) { return report(error, kExitFailure); }

int CliContext::usage(std::string message) {
  return report(make_error(ErrorCode::kInvalidArgument, std::move(message)), kExitUsage);
}

void CliContext::notice(std::string_view text) {
  if (json || text.empty()) return;
  std::cerr << text;
  if (text.back() != '\n') std::cerr << '\n';
  std::cerr.flush();
}

std::int64_t CliContext::now_ms() { return store_->skew_clock().now_ms(); }

void CliContext::write_raw(std::string_view text) {
  std::cout.write(text.data(), static_cast<std::streamsize>(text.size()));
  std::cout.flush();
}

}  // namespace tandem::cli
