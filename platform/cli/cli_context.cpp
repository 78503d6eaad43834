#include "cli_context.hpp"

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
  if (db_path.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "no database given: use --db FILE or TANDEM_DB");
  }
  if (!create_if_missing) {
    std::error_code ec;
    if (!std::filesystem::exists(db_path, ec)) {
      return make_error(ErrorCode::kNotFound,
                        "no database at '" + db_path + "' (create it with `tandem init`)");
    }
  }
  StoreOptions options;
  options.path = db_path;
  auto opened = Store::open(options);
  if (!opened.ok()) return std::move(opened).error();
  store_ = std::move(opened).value();
  return store_.get();
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
