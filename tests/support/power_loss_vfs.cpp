#include "power_loss_vfs.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <random>
#include <set>
#include <stdexcept>
#include <utility>

namespace tandem::test {
namespace {

constexpr std::int64_t kSector = 512;
constexpr std::int64_t kPage = 4096;

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

// The whole file ("" when it does not exist).
std::string read_file(const std::string& path) {
  std::string out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(fd);
  return out;
}

void write_file(const std::string& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("power-loss restore: cannot write " + path);
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      throw std::runtime_error("power-loss restore: short write to " + path);
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

bool pread_all(int fd, char* out, std::int64_t n, std::int64_t at) {
  while (n > 0) {
    const ssize_t got = ::pread(fd, out, static_cast<std::size_t>(n), at);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    out += got;
    n -= got;
    at += got;
  }
  return true;
}

// One file's data as the disk holds it: `durable` is its content as of its
// last sync; `dirty` the sectors changed since (written or truncated away).
// A truncation is metadata: it survives whole or not at all (a file system
// never zeroes some sectors of what it cuts off), so it is kept apart from
// the dirty sectors, as the smallest size the file had since its last sync.
struct Inode {
  std::string durable;
  std::set<std::int64_t> dirty;
  std::int64_t min_size = std::numeric_limits<std::int64_t>::max();
  bool changed() const {
    return !dirty.empty() || min_size != std::numeric_limits<std::int64_t>::max();
  }
};

// A path: the inode it names now (null: deleted) and the one its directory
// entry names durably (null: the entry would vanish).
struct PathState {
  std::shared_ptr<Inode> current;
  std::shared_ptr<Inode> durable_entry;
};

}  // namespace

const char* mode_name(PowerLossMode mode) {
  switch (mode) {
    case PowerLossMode::kDropAll:
      return "drop-all";
    case PowerLossMode::kRandomPages:
      return "random-pages";
    case PowerLossMode::kTornSectors:
      return "torn-sectors";
  }
  return "?";
}

struct PowerLossVfs::Impl {
  std::string name;
  sqlite3_vfs vfs{};
  sqlite3_vfs* real = nullptr;

  mutable std::mutex mu;  // guards everything below
  std::map<std::string, PathState> paths;
  std::set<std::string> known;  // every path tracked since settle() (restore deletes them)
  std::int64_t points = 0;      // crash points: syncs and set_progress() calls
  std::int64_t syncs = 0;
  std::int64_t progress = 0;
  std::multimap<std::int64_t, PowerLossMode> planned;
  std::uint64_t seed = 0;
  std::vector<CrashImage> images;

  // REQUIRES: mu held. The state of `path`, adopting what is on disk as
  // durable when the path is new to the layer.
  PathState& state_locked(const std::string& path) {
    auto [it, inserted] = paths.try_emplace(path);
    known.insert(path);
    if (inserted && exists(path)) {
      auto inode = std::make_shared<Inode>();
      inode->durable = read_file(path);
      it->second.current = inode;
      it->second.durable_entry = inode;
    }
    return it->second;
  }

  void mark_dirty_locked(const std::string& path, std::int64_t from, std::int64_t to) {
    PathState& s = state_locked(path);
    if (!s.current) s.current = std::make_shared<Inode>();
    if (to <= from) return;
    for (std::int64_t i = from / kSector; i <= (to - 1) / kSector; ++i) s.current->dirty.insert(i);
  }

  void truncated_locked(const std::string& path, std::int64_t size) {
    PathState& s = state_locked(path);
    if (!s.current) s.current = std::make_shared<Inode>();
    s.current->min_size = std::min(s.current->min_size, size);
  }

  // xSync: the file's content is durable as it is now. False when the file
  // cannot be read back (the sync then fails).
  bool sync_file_locked(const std::string& path) {
    PathState& s = state_locked(path);
    if (!s.current) return true;
    Inode& inode = *s.current;
    if (!inode.changed()) return true;
    // Only the dirty sectors are read, in contiguous runs; what a truncation
    // cut off reads as zeros if the file grew again.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    const std::int64_t size = fd >= 0 && ::fstat(fd, &st) == 0 ? st.st_size : 0;
    inode.durable.resize(static_cast<std::size_t>(
        std::min<std::int64_t>(static_cast<std::int64_t>(inode.durable.size()), inode.min_size)));
    inode.durable.resize(static_cast<std::size_t>(size), '\0');
    for (auto it = inode.dirty.begin(); it != inode.dirty.end() && *it * kSector < size;) {
      auto end = std::next(it);
      std::int64_t last = *it;
      while (end != inode.dirty.end() && *end == last + 1) last = *end++;
      const std::int64_t at = *it * kSector;
      const std::int64_t n = std::min((last + 1) * kSector, size) - at;
      if (!pread_all(fd, inode.durable.data() + at, n, at)) {
        ::close(fd);
        return false;
      }
      it = end;
    }
    if (fd >= 0) ::close(fd);
    inode.dirty.clear();
    inode.min_size = std::numeric_limits<std::int64_t>::max();
    return true;
  }

  // A directory fsync: every entry in `dir` is durable as it is now.
  void sync_directory_locked(const std::string& dir) {
    for (auto& [path, s] : paths) {
      if (directory_of(path) == dir) s.durable_entry = s.current;
    }
  }

  // What a reboot finds in `path` if the power fails now.
  std::optional<std::string> after_failure_locked(const std::string& path, const PathState& s,
                                                  PowerLossMode mode, std::mt19937_64& rng) const {
    if (!s.durable_entry) return std::nullopt;
    const Inode& inode = *s.durable_entry;
    // An entry that names an inode since deleted keeps what was synced of it.
    if (s.durable_entry != s.current || !inode.changed() || mode == PowerLossMode::kDropAll) {
      return inode.durable;
    }
    const std::string now = read_file(path);
    // The size is the synced one (with what was synced) or the latest one
    // (with any truncation since: what it cut off is gone).
    const bool latest_size = (rng() & 1) != 0;
    const std::size_t size = latest_size ? now.size() : inode.durable.size();
    std::string out(size, '\0');
    const std::size_t kept =
        latest_size ? static_cast<std::size_t>(std::min<std::int64_t>(
                          static_cast<std::int64_t>(inode.durable.size()), inode.min_size))
                    : inode.durable.size();
    std::memcpy(out.data(), inode.durable.data(), std::min(size, kept));
    std::map<std::int64_t, bool> page_survives;
    for (const std::int64_t sector : inode.dirty) {
      bool survives = false;
      if (mode == PowerLossMode::kTornSectors) {
        survives = (rng() & 1) != 0;
      } else {
        const std::int64_t page = sector * kSector / kPage;
        auto it = page_survives.find(page);
        if (it == page_survives.end()) it = page_survives.emplace(page, (rng() & 1) != 0).first;
        survives = it->second;
      }
      const auto at = static_cast<std::size_t>(sector * kSector);
      if (at >= size) continue;
      const std::size_t n = std::min<std::size_t>(kSector, size - at);
      // Latest content if the sector made it, else what is there already.
      if (!survives) continue;
      std::memset(out.data() + at, 0, n);
      if (at < now.size())
        std::memcpy(out.data() + at, now.data() + at, std::min(n, now.size() - at));
    }
    return out;
  }

  // REQUIRES: mu held. A crash point: records the images planned for it.
  void crash_point_locked(const std::string& at) {
    ++points;
    const auto [first, last] = planned.equal_range(points);
    for (auto plan = first; plan != last; ++plan) {
      CrashImage image;
      image.point = CrashPoint{points, plan->second};
      image.seed = seed ^ (static_cast<std::uint64_t>(points) * 0x9E3779B97F4A7C15ULL) ^
                   static_cast<std::uint64_t>(plan->second);
      image.progress = progress;
      image.at = at;
      std::mt19937_64 rng(image.seed);
      for (const auto& [p, s] : paths)
        image.files[p] = after_failure_locked(p, s, plan->second, rng);
      images.push_back(std::move(image));
    }
  }
};

namespace {

// A file of this VFS: the real (unix) file follows it in the same allocation.
struct ShimFile {
  sqlite3_file base;
  PowerLossVfs::Impl* owner;
  std::string* path;  // tracked files only (main db, WAL, journals); else null
  bool dirsync_pending;
  sqlite3_file* real();
};
constexpr std::size_t kRealOffset = (sizeof(ShimFile) + 15) / 16 * 16;
sqlite3_file* ShimFile::real() {
  return reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(this) + kRealOffset);
}

ShimFile* shim(sqlite3_file* f) { return reinterpret_cast<ShimFile*>(f); }
PowerLossVfs::Impl* impl_of(sqlite3_vfs* vfs) {
  return static_cast<PowerLossVfs::Impl*>(vfs->pAppData);
}

int x_close(sqlite3_file* f) {
  ShimFile* s = shim(f);
  const int rc = s->real()->pMethods ? s->real()->pMethods->xClose(s->real()) : SQLITE_OK;
  delete s->path;
  s->path = nullptr;
  return rc;
}

int x_read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) {
  return shim(f)->real()->pMethods->xRead(shim(f)->real(), buf, n, off);
}

int x_write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  ShimFile* s = shim(f);
  std::lock_guard lock(s->owner->mu);
  if (s->path) (void)s->owner->state_locked(*s->path);  // adopted before it changes
  const int rc = s->real()->pMethods->xWrite(s->real(), buf, n, off);
  if (rc == SQLITE_OK && s->path) s->owner->mark_dirty_locked(*s->path, off, off + n);
  return rc;
}

int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  ShimFile* s = shim(f);
  std::lock_guard lock(s->owner->mu);
  if (s->path) (void)s->owner->state_locked(*s->path);
  const int rc = s->real()->pMethods->xTruncate(s->real(), size);
  if (rc == SQLITE_OK && s->path) s->owner->truncated_locked(*s->path, size);
  return rc;
}

int x_sync(sqlite3_file* f, int /*flags*/) {
  ShimFile* s = shim(f);
  if (!s->path) return SQLITE_OK;
  std::lock_guard lock(s->owner->mu);
  ++s->owner->syncs;
  s->owner->crash_point_locked("sync of " + s->path->substr(s->path->rfind('/') + 1));
  if (!s->owner->sync_file_locked(*s->path)) return SQLITE_IOERR_FSYNC;
  if (s->dirsync_pending) {
    s->dirsync_pending = false;
    s->owner->sync_directory_locked(directory_of(*s->path));
  }
  return SQLITE_OK;
}

int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return shim(f)->real()->pMethods->xFileSize(shim(f)->real(), size);
}
int x_lock(sqlite3_file* f, int level) {
  return shim(f)->real()->pMethods->xLock(shim(f)->real(), level);
}
int x_unlock(sqlite3_file* f, int level) {
  return shim(f)->real()->pMethods->xUnlock(shim(f)->real(), level);
}
int x_check_reserved(sqlite3_file* f, int* out) {
  return shim(f)->real()->pMethods->xCheckReservedLock(shim(f)->real(), out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
  // Size hints may grow the file outside xWrite; a hint is optional.
  if (op == SQLITE_FCNTL_SIZE_HINT || op == SQLITE_FCNTL_CHUNK_SIZE) return SQLITE_OK;
  return shim(f)->real()->pMethods->xFileControl(shim(f)->real(), op, arg);
}
int x_sector_size(sqlite3_file* f) {
  return shim(f)->real()->pMethods->xSectorSize(shim(f)->real());
}
int x_device_characteristics(sqlite3_file* f) {
  return shim(f)->real()->pMethods->xDeviceCharacteristics(shim(f)->real());
}
int x_shm_map(sqlite3_file* f, int page, int size, int extend, void volatile** out) {
  return shim(f)->real()->pMethods->xShmMap(shim(f)->real(), page, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  return shim(f)->real()->pMethods->xShmLock(shim(f)->real(), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) { shim(f)->real()->pMethods->xShmBarrier(shim(f)->real()); }
int x_shm_unmap(sqlite3_file* f, int delete_flag) {
  return shim(f)->real()->pMethods->xShmUnmap(shim(f)->real(), delete_flag);
}

// Version 2: no xFetch/xUnfetch, so SQLite reads through xRead (no mmap).
const sqlite3_io_methods kMethods = {2,
                                     x_close,
                                     x_read,
                                     x_write,
                                     x_truncate,
                                     x_sync,
                                     x_file_size,
                                     x_lock,
                                     x_unlock,
                                     x_check_reserved,
                                     x_file_control,
                                     x_sector_size,
                                     x_device_characteristics,
                                     x_shm_map,
                                     x_shm_lock,
                                     x_shm_barrier,
                                     x_shm_unmap,
                                     nullptr,
                                     nullptr};

constexpr int kTrackedTypes =
    SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_SUPER_JOURNAL;
// unixOpen syncs the directory on the first sync of these when it creates them.
constexpr int kDirSyncTypes =
    SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_SUPER_JOURNAL;

int x_open(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  PowerLossVfs::Impl* m = impl_of(vfs);
  ShimFile* s = shim(f);
  s->base.pMethods = nullptr;
  s->owner = m;
  s->path = nullptr;
  s->dirsync_pending = false;
  sqlite3_file* real = s->real();
  std::memset(real, 0, static_cast<std::size_t>(m->real->szOsFile));
  const bool tracked = name != nullptr && (flags & kTrackedTypes) != 0;
  std::unique_lock lock(m->mu, std::defer_lock);
  if (tracked) lock.lock();  // creation and tracking are one step for the layer
  // Looked up before the open: a file the open creates is not durable yet.
  PathState* st = tracked ? &m->state_locked(name) : nullptr;
  const bool existed = tracked && exists(name);
  const int rc = m->real->xOpen(m->real, name, real, flags, out_flags);
  if (rc != SQLITE_OK) return rc;
  s->base.pMethods = &kMethods;
  if (!tracked) return SQLITE_OK;
  s->path = new std::string(name);
  if (!existed) st->current = std::make_shared<Inode>();
  const bool create = (flags & SQLITE_OPEN_CREATE) != 0;
  s->dirsync_pending = create && (flags & kDirSyncTypes) != 0;
  return SQLITE_OK;
}

int x_delete(sqlite3_vfs* vfs, const char* name, int dir_sync) {
  PowerLossVfs::Impl* m = impl_of(vfs);
  std::lock_guard lock(m->mu);
  const std::string path(name);
  PathState& st = m->state_locked(path);  // a deletion not yet durable can be undone
  const int rc = m->real->xDelete(m->real, name, 0);
  if (rc != SQLITE_OK) return rc;
  st.current = nullptr;
  if (dir_sync) m->sync_directory_locked(directory_of(path));
  return SQLITE_OK;
}

int x_access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return impl_of(vfs)->real->xAccess(impl_of(vfs)->real, name, flags, out);
}
int x_full_pathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return impl_of(vfs)->real->xFullPathname(impl_of(vfs)->real, name, n, out);
}
void* x_dl_open(sqlite3_vfs* vfs, const char* name) {
  return impl_of(vfs)->real->xDlOpen(impl_of(vfs)->real, name);
}
void x_dl_error(sqlite3_vfs* vfs, int n, char* out) {
  impl_of(vfs)->real->xDlError(impl_of(vfs)->real, n, out);
}
void (*x_dl_sym(sqlite3_vfs* vfs, void* h, const char* sym))(void) {
  return impl_of(vfs)->real->xDlSym(impl_of(vfs)->real, h, sym);
}
void x_dl_close(sqlite3_vfs* vfs, void* h) { impl_of(vfs)->real->xDlClose(impl_of(vfs)->real, h); }
int x_randomness(sqlite3_vfs* vfs, int n, char* out) {
  return impl_of(vfs)->real->xRandomness(impl_of(vfs)->real, n, out);
}
int x_sleep(sqlite3_vfs* vfs, int us) { return impl_of(vfs)->real->xSleep(impl_of(vfs)->real, us); }
int x_current_time(sqlite3_vfs* vfs, double* out) {
  return impl_of(vfs)->real->xCurrentTime(impl_of(vfs)->real, out);
}
int x_get_last_error(sqlite3_vfs* vfs, int n, char* out) {
  return impl_of(vfs)->real->xGetLastError(impl_of(vfs)->real, n, out);
}
int x_current_time_int64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  return impl_of(vfs)->real->xCurrentTimeInt64(impl_of(vfs)->real, out);
}

}  // namespace

PowerLossVfs::PowerLossVfs(std::string name) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.name = std::move(name);
  m.real = sqlite3_vfs_find(nullptr);
  if (m.real == nullptr || m.real->iVersion < 2) throw std::runtime_error("no default SQLite VFS");
  m.vfs.iVersion = 2;
  m.vfs.szOsFile = static_cast<int>(kRealOffset) + m.real->szOsFile;
  m.vfs.mxPathname = m.real->mxPathname;
  m.vfs.zName = m.name.c_str();
  m.vfs.pAppData = &m;
  m.vfs.xOpen = x_open;
  m.vfs.xDelete = x_delete;
  m.vfs.xAccess = x_access;
  m.vfs.xFullPathname = x_full_pathname;
  m.vfs.xDlOpen = x_dl_open;
  m.vfs.xDlError = x_dl_error;
  m.vfs.xDlSym = x_dl_sym;
  m.vfs.xDlClose = x_dl_close;
  m.vfs.xRandomness = x_randomness;
  m.vfs.xSleep = x_sleep;
  m.vfs.xCurrentTime = x_current_time;
  m.vfs.xGetLastError = x_get_last_error;
  m.vfs.xCurrentTimeInt64 = x_current_time_int64;
  if (sqlite3_vfs_register(&m.vfs, 0) != SQLITE_OK)
    throw std::runtime_error("cannot register " + m.name);
}

PowerLossVfs::~PowerLossVfs() { sqlite3_vfs_unregister(&impl_->vfs); }

const std::string& PowerLossVfs::name() const { return impl_->name; }

void PowerLossVfs::settle() {
  // Forgetting is enough: a path is adopted, with what the disk holds then as
  // its durable content, the next time a connection touches it.
  std::lock_guard lock(impl_->mu);
  impl_->paths.clear();
  impl_->known.clear();
  impl_->points = 0;
  impl_->syncs = 0;
  impl_->planned.clear();
  impl_->images.clear();
}

void PowerLossVfs::set_progress(std::int64_t progress) {
  std::lock_guard lock(impl_->mu);
  impl_->progress = progress;
  impl_->crash_point_locked("step acknowledged");
}

void PowerLossVfs::capture_at(const std::vector<CrashPoint>& points, std::uint64_t seed) {
  std::lock_guard lock(impl_->mu);
  impl_->seed = seed;
  for (const auto& p : points) impl_->planned.emplace(p.point, p.mode);
}

std::int64_t PowerLossVfs::crash_points() const {
  std::lock_guard lock(impl_->mu);
  return impl_->points;
}

std::int64_t PowerLossVfs::sync_points() const {
  std::lock_guard lock(impl_->mu);
  return impl_->syncs;
}

std::vector<CrashImage> PowerLossVfs::take_images() {
  std::lock_guard lock(impl_->mu);
  return std::exchange(impl_->images, {});
}

void PowerLossVfs::restore(const CrashImage& image) {
  std::lock_guard lock(impl_->mu);
  // Files seen since the image was taken (a verification's WAL) go too: the
  // layer still knows them, so connections must use it for this to work.
  for (const auto& [path, content] : image.files) impl_->known.insert(path);
  for (const auto& path : impl_->known) {
    auto it = image.files.find(path);
    if (it == image.files.end() || !it->second) {
      ::unlink(path.c_str());
    } else {
      write_file(path, *it->second);
    }
  }
  impl_->paths.clear();  // re-adopted from disk, as durable, when next touched
  impl_->points = 0;
  impl_->syncs = 0;
  impl_->planned.clear();
}

}  // namespace tandem::test
