// tandem.h: errors, host, store, records, text, conflicts.
#include <algorithm>

#include "capi_internal.hpp"
#include "tandem/core/encryption.hpp"
#include "tandem/core/local_time.hpp"
#include "tandem/core/notebook.hpp"
#include "tandem/core/schema.hpp"
#include "tandem/sync/engine.hpp"

namespace tandem::capi {

void set_error(tandem_error* err, ErrorCode code, std::string_view message) noexcept {
  if (err == nullptr) return;
  err->code = static_cast<tandem_error_code>(code);
  const std::size_t n = std::min(message.size(), sizeof err->message - 1);
  std::memcpy(err->message, message.data(), n);
  err->message[n] = '\0';
}

char* dup(std::string_view s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out == nullptr) throw std::bad_alloc();
  std::memcpy(out, s.data(), s.size());
  out[s.size()] = '\0';
  return out;
}

char* json_out(const Json& j) { return dup(j.dump(-1, ' ', false, Json::error_handler_t::replace)); }

Status need(const void* p, const char* what) {
  if (p == nullptr) return make_error(ErrorCode::kInvalidArgument, std::string(what) + " must not be NULL");
  return {};
}

Status need(const tandem_store* store, const char* what) {
  TANDEM_TRY(need(static_cast<const void*>(store), what));
  if (!store->store) {
    return make_error(ErrorCode::kDeviceWiped,
                      "this device was wiped: its database is gone; close the store");
  }
  return {};
}

class CallbackHost::Files final : public FileLayer {
 public:
  explicit Files(std::string vfs) : vfs_(std::move(vfs)) {}
  std::string sqlite_vfs() const override { return vfs_; }
  Status remove_file(const std::string& path) override { return default_file_layer().remove_file(path); }

 private:
  std::string vfs_;
};

CallbackHost::CallbackHost(const tandem_host* config) {
  if (config != nullptr) c_ = *config;
  if (c_.sqlite_vfs != nullptr) vfs_ = c_.sqlite_vfs;
  zone_ = c_.time_zone != nullptr ? c_.time_zone : "Europe/Copenhagen";
  c_.sqlite_vfs = nullptr;  // not kept past the call that gave them
  c_.time_zone = nullptr;
  files_ = std::make_unique<Files>(vfs_);
}

CallbackHost::~CallbackHost() {
  if (c_.ctx_free != nullptr) c_.ctx_free(c_.ctx);
}

Status CallbackHost::check() const {
  const int keys = (c_.key_get != nullptr) + (c_.key_put != nullptr) + (c_.key_erase != nullptr);
  if (keys != 0 && keys != 3) {
    return make_error(ErrorCode::kInvalidArgument, "key_get, key_put and key_erase: all three or none");
  }
  if (find_zone(zone_) == nullptr) {
    return make_error(ErrorCode::kInvalidArgument, "time_zone: \"Europe/Copenhagen\" or \"UTC\"");
  }
  return {};
}

Host CallbackHost::host() {
  Host h;
  if (c_.now_ms != nullptr) h.clock = this;
  if (c_.log != nullptr) h.log = this;
  if (c_.random_fill != nullptr) h.random = this;
  if (c_.key_get != nullptr) h.keys = this;
  h.files = files_.get();
  h.zone = find_zone(zone_);
  return h;
}

std::int64_t CallbackHost::now_ms() { return c_.now_ms(c_.ctx); }

void CallbackHost::log(LogLevel level, std::string_view component, std::string_view message) {
  const std::string comp(component), msg(message);
  c_.log(c_.ctx, static_cast<tandem_log_level>(level), comp.c_str(), msg.c_str());
}

void CallbackHost::fill(unsigned char* out, std::size_t n) { c_.random_fill(c_.ctx, out, n); }

Result<std::optional<std::string>> CallbackHost::get(std::string_view name) {
  const std::string n(name);
  std::size_t len = 0;
  std::uint8_t* secret = c_.key_get(c_.ctx, n.c_str(), &len);
  if (secret == nullptr) return std::optional<std::string>();
  std::string out(reinterpret_cast<const char*>(secret), len);
  std::memset(secret, 0, len);
  std::free(secret);
  return std::optional<std::string>(std::move(out));
}

Status CallbackHost::put(std::string_view name, std::string_view secret) {
  const std::string n(name);
  if (!c_.key_put(c_.ctx, n.c_str(), reinterpret_cast<const std::uint8_t*>(secret.data()), secret.size())) {
    return make_error(ErrorCode::kIo, "the host's key store refused to store '" + n + "'");
  }
  return {};
}

Status CallbackHost::erase(std::string_view name) {
  const std::string n(name);
  if (!c_.key_erase(c_.ctx, n.c_str())) {
    return make_error(ErrorCode::kIo, "the host's key store could not erase '" + n + "'");
  }
  return {};
}

namespace {

Result<Json> parse_json(const char* text, const char* what) {
  TANDEM_TRY(need(text, what));
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded()) return make_error(ErrorCode::kInvalidJson, std::string(what) + " is not JSON text");
  return j;
}

// Record::to_json plus when it was created (the create's stamp time).
Json record_json(const Record& r) {
  Json j = r.to_json();
  auto created = Hlc::parse(r.created);
  j["created_ms"] = created ? Json(created->ms) : Json(nullptr);
  return j;
}

// Runs a Status-returning body; true on success.
template <class F>
bool status_call(tandem_error* err, F&& body) noexcept {
  return guard<bool>(err, false, [&]() -> Result<bool> {
    TANDEM_TRY(body());
    return true;
  });
}

// add / remove one element of a set field.
bool element_call(tandem_store* store, const char* id, const char* field, const char* element_json,
                  tandem_error* err,
                  Status (Store::*op)(std::string_view, std::string_view, const Json&)) noexcept {
  return status_call(err, [&]() -> Status {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(id, "id"));
    TANDEM_TRY(need(field, "field"));
    auto value = parse_json(element_json, "element_json");
    if (!value) return std::move(value).error();
    return (store->store.get()->*op)(id, field, *value);
  });
}

}  // namespace
}  // namespace tandem::capi

using namespace tandem;
using capi::guard;
using capi::need;

extern "C" {

const char* tandem_error_code_name(tandem_error_code code) {
  // error_code_name returns views of string literals: NUL-terminated.
  return error_code_name(static_cast<ErrorCode>(code)).data();
}

const char* tandem_version(void) { return "0.1.0"; }

void tandem_string_free(char* s) { std::free(s); }

namespace {
// The call owns the host's ctx from here: a failure frees it (null).
std::unique_ptr<capi::CallbackHost> take_host(const tandem_host* host, tandem_error* err) {
  try {
    return std::make_unique<capi::CallbackHost>(host);
  } catch (...) {
    if (host != nullptr && host->ctx_free != nullptr) host->ctx_free(host->ctx);
    capi::set_error(err, ErrorCode::kInternal, "out of memory");
    return nullptr;
  }
}
}  // namespace

tandem_store* tandem_store_open(const char* path, const tandem_host* host, tandem_error* err) {
  // The host's ctx belongs to the store from here, even when opening fails.
  std::unique_ptr<capi::CallbackHost> owned = take_host(host, err);
  if (!owned) return nullptr;
  return guard<tandem_store*>(err, nullptr, [&]() -> Result<tandem_store*> {
    TANDEM_TRY(need(path, "path"));
    TANDEM_TRY(owned->check());
    StoreOptions options;
    options.path = path;
    auto opened = Store::open(options, owned->host());
    if (!opened) return std::move(opened).error();
    auto out = std::make_unique<tandem_store>();
    out->host = std::move(owned);
    out->store = std::move(*opened);
    out->path = path;
    return out.release();
  });
}

bool tandem_destroy_database(const char* path, const tandem_host* host, tandem_error* err) {
  std::unique_ptr<capi::CallbackHost> owned = take_host(host, err);
  if (!owned) return false;
  return guard<bool>(err, false, [&]() -> Result<bool> {
    TANDEM_TRY(need(path, "path"));
    TANDEM_TRY(owned->check());
    TANDEM_TRY(destroy_database(path, owned->host()));
    return true;
  });
}

void tandem_store_close(tandem_store* store) { delete store; }

char* tandem_store_site_id(tandem_store* store, tandem_error* err) {
  return guard<char*>(err, nullptr, [&]() -> Result<char*> {
    TANDEM_TRY(need(store, "store"));
    return capi::dup(store->store->site_id());
  });
}

char* tandem_store_default_school(tandem_store* store, tandem_error* err) {
  return guard<char*>(err, nullptr, [&]() -> Result<char*> {
    TANDEM_TRY(need(store, "store"));
    return capi::dup(store->store->default_school());
  });
}

bool tandem_store_set_default_school(tandem_store* store, const char* school_id, tandem_error* err) {
  return capi::status_call(err, [&]() -> Status {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(school_id, "school_id"));
    return store->store->set_default_school(school_id);
  });
}

int64_t tandem_store_outbox_size(tandem_store* store, tandem_error* err) {
  return guard<std::int64_t>(err, -1, [&]() -> Result<std::int64_t> {
    TANDEM_TRY(need(store, "store"));
    return store->store->outbox_size();
  });
}

char* tandem_record_create(tandem_store* store, const char* kind, const char* fields_json, tandem_error* err) {
  return guard<char*>(err, nullptr, [&]() -> Result<char*> {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(kind, "kind"));
    auto fields = capi::parse_json(fields_json, "fields_json");
    if (!fields) return std::move(fields).error();
    auto id = store->store->create(kind, *fields);
    if (!id) return std::move(id).error();
    return capi::dup(*id);
  });
}

bool tandem_record_set(tandem_store* store, const char* id, const char* field, const char* value_json,
                       tandem_error* err) {
  return capi::status_call(err, [&]() -> Status {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(id, "id"));
    TANDEM_TRY(need(field, "field"));
    auto value = capi::parse_json(value_json, "value_json");
    if (!value) return std::move(value).error();
    Store& s = *store->store;
    auto record = s.get(id);
    if (!record) return std::move(record).error();
    const KindSpec* kind = find_kind(record->kind);
    const FieldSpec* spec = kind != nullptr ? kind->field(field) : nullptr;
    if (spec == nullptr) {
      return make_error(ErrorCode::kUnknownField, std::string("no field '") + field + "' in " + record->kind);
    }
    auto valid = validate_value(*spec, *value);
    if (!valid) return std::move(valid).error();
    return s.transaction([&]() -> Status { return write_value(s, *record, *spec, *valid); });
  });
}

bool tandem_record_add(tandem_store* store, const char* id, const char* field, const char* element_json,
                       tandem_error* err) {
  return capi::element_call(store, id, field, element_json, err, &Store::add);
}

bool tandem_record_remove(tandem_store* store, const char* id, const char* field, const char* element_json,
                          tandem_error* err) {
  return capi::element_call(store, id, field, element_json, err, &Store::remove);
}

bool tandem_record_delete(tandem_store* store, const char* id, tandem_error* err) {
  return capi::status_call(err, [&]() -> Status {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(id, "id"));
    return store->store->delete_record(id);
  });
}

bool tandem_record_purge(tandem_store* store, const char* id, tandem_error* err) {
  return capi::status_call(err, [&]() -> Status {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(id, "id"));
    return store->store->purge(id);
  });
}

char* tandem_record_get(tandem_store* store, const char* id, tandem_error* err) {
  return guard<char*>(err, nullptr, [&]() -> Result<char*> {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(id, "id"));
    auto record = store->store->get(id);
    if (!record) return std::move(record).error();
    return capi::json_out(capi::record_json(*record));
  });
}

char* tandem_record_list(tandem_store* store, const char* kind, tandem_error* err) {
  return guard<char*>(err, nullptr, [&]() -> Result<char*> {
    TANDEM_TRY(need(store, "store"));
    auto records = store->store->list(kind != nullptr ? kind : "");
    if (!records) return std::move(records).error();
    Json out = Json::array();
    for (const Record& r : *records) out.push_back(capi::record_json(r));
    return capi::json_out(out);
  });
}

bool tandem_text_insert(tandem_store* store, const char* id, const char* field, size_t pos, const char* text,
                        tandem_error* err) {
  return capi::status_call(err, [&]() -> Status {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(id, "id"));
    TANDEM_TRY(need(field, "field"));
    TANDEM_TRY(need(text, "text"));
    return store->store->text_insert(id, field, pos, text);
  });
}

bool tandem_text_delete(tandem_store* store, const char* id, const char* field, size_t pos, size_t len,
                        tandem_error* err) {
  return capi::status_call(err, [&]() -> Status {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(id, "id"));
    TANDEM_TRY(need(field, "field"));
    return store->store->text_delete(id, field, pos, len);
  });
}

char* tandem_text_get(tandem_store* store, const char* id, const char* field, tandem_error* err) {
  return guard<char*>(err, nullptr, [&]() -> Result<char*> {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(id, "id"));
    TANDEM_TRY(need(field, "field"));
    auto record = store->store->get(id);
    if (!record) return std::move(record).error();
    auto it = record->fields.find(field);
    if (it == record->fields.end() || it->is_null()) return capi::dup("");
    if (!it->is_string()) return make_error(ErrorCode::kWrongType, std::string("'") + field + "' is not a text field");
    return capi::dup(it->get_ref<const std::string&>());
  });
}

char* tandem_text_merged(tandem_store* store, const char* id, const char* field,
                         tandem_error* err) {
  return guard<char*>(err, nullptr, [&]() -> Result<char*> {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(id, "id"));
    TANDEM_TRY(need(field, "field"));
    Store& s = *store->store;
    auto record = s.get(id);
    if (!record) return std::move(record).error();
    const KindSpec* kind = find_kind(record->kind);
    const FieldSpec* fs = kind ? kind->field(field) : nullptr;
    if (!fs)
      return make_error(ErrorCode::kUnknownField, std::string("unknown field '") + field + "'");
    if (fs->type != FieldType::kText)
      return make_error(ErrorCode::kWrongType, std::string("'") + field + "' is not a text field");
    auto self = s.meta(sync::kMetaPersonName);  // the person this device is enrolled for
    if (!self) return std::move(self).error();
    Json out{{"field", field}, {"merged", false}, {"by", Json::array()}};
    for (const MergedText& m : merged_texts(s, *record, self->value_or(""))) {
      if (m.field != field) continue;
      for (const MergeAuthor& a : m.by) {
        out["by"].push_back(Json{{"site", a.site},
                                 {"name", a.name.empty() ? Json(nullptr) : Json(a.name)},
                                 {"this_device", a.this_device}});
      }
      out["merged"] = true;
      out["message"] = merge_notice(m, false);
      out["message_da"] = merge_notice(m, true);
    }
    return capi::json_out(out);
  });
}

bool tandem_text_confirm(tandem_store* store, const char* id, const char* field,
                         tandem_error* err) {
  return capi::status_call(err, [&]() -> Status {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(id, "id"));
    TANDEM_TRY(need(field, "field"));
    return store->store->text_confirm(id, field);
  });
}

char* tandem_conflicts_list(tandem_store* store, tandem_error* err) {
  return guard<char*>(err, nullptr, [&]() -> Result<char*> {
    TANDEM_TRY(need(store, "store"));
    auto conflicts = open_conflicts(*store->store);
    if (!conflicts) return std::move(conflicts).error();
    const TimeZone& zone = *store->store->host().zone;
    Json out = Json::array();
    for (const OpenConflict& c : *conflicts) {
      out.push_back(Json{{"record", c.record},
                         {"kind", c.kind},
                         {"label", c.label},
                         {"field", c.field},
                         {"current", c.current},
                         {"value", c.value},
                         {"hlc", c.hlc},
                         {"at_ms", c.at_ms},
                         {"at", format_local(c.at_ms, zone)},
                         {"site", c.site},
                         {"this_device", c.this_device}});
    }
    return capi::json_out(out);
  });
}

bool tandem_conflict_resolve(tandem_store* store, const char* id, const char* field, const char* value_json,
                             tandem_error* err) {
  return capi::status_call(err, [&]() -> Status {
    TANDEM_TRY(need(store, "store"));
    TANDEM_TRY(need(id, "id"));
    TANDEM_TRY(need(field, "field"));
    auto value = capi::parse_json(value_json, "value_json");
    if (!value) return std::move(value).error();
    return store->store->resolve(id, field, *value);
  });
}

}  // extern "C"
