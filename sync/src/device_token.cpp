#include "tandem/sync/device_token.hpp"

#include "tandem/sync/engine.hpp"

namespace tandem::sync {
namespace {

// Deletes the metadata row and empties the WAL of its old pages. Busy (a
// reader holds the WAL): flagged, the engine checkpoints at its next sync.
Status drop_meta_token(Store& store) {
  auto had = store.meta(kMetaToken);
  if (!had) return std::move(had).error();
  if (!*had) return {};
  TANDEM_TRY(store.transaction([&]() -> Status {
    TANDEM_TRY(store.erase_meta(kMetaToken));
    return store.set_meta(kMetaCheckpointDue, "1");
  }));
  Status done = store.checkpoint_truncate();
  if (done) return store.set_meta(kMetaCheckpointDue, "");
  // kInvalidArgument: inside the caller's transaction; kBusy: another
  // reader. Either way the flag stays and the next sync checkpoints.
  if (done.error().code == ErrorCode::kBusy || done.error().code == ErrorCode::kInvalidArgument)
    return {};
  return done;
}

}  // namespace

std::string device_token_name(const Store& store) { return "tandem-token-" + store.site_id(); }

Result<std::optional<std::string>> load_device_token(Store& store) {
  auto in_meta = store.meta(kMetaToken);
  if (!in_meta) return std::move(in_meta).error();
  KeyStore* keys = store.host().keys;
  if (keys == nullptr) {
    if (!*in_meta || (*in_meta)->empty()) return std::optional<std::string>();
    return *in_meta;
  }
  if (*in_meta && !(*in_meta)->empty()) {
    // Written by a host without a key store, or before issue 15: it is the
    // newest token this database knows. Moved, then deleted.
    TANDEM_TRY(keys->put(device_token_name(store), **in_meta));
    TANDEM_TRY(drop_meta_token(store));
    return *in_meta;
  }
  if (*in_meta) TANDEM_TRY(drop_meta_token(store));  // an empty row
  auto held = keys->get(device_token_name(store));
  if (!held) return std::move(held).error();
  if (*held && (*held)->empty()) return std::optional<std::string>();
  return *held;
}

Status save_device_token(Store& store, std::string_view token) {
  KeyStore* keys = store.host().keys;
  if (keys == nullptr) return store.set_meta(kMetaToken, token);
  TANDEM_TRY(keys->put(device_token_name(store), token));
  return drop_meta_token(store);
}

Status erase_device_token(Store& store) {
  if (KeyStore* keys = store.host().keys) TANDEM_TRY(keys->erase(device_token_name(store)));
  return drop_meta_token(store);
}

}  // namespace tandem::sync
