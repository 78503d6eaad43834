// PowerLossVfs: a SQLite VFS for tests that simulates power loss, over the
// default (unix) VFS. LevelDB's fault-injection Env is the model: the layer
// remembers, per file, what the last xSync made durable, and can tell what the
// disk would hold if the power failed at a given sync point.
//
// The disk model (what survives a power failure):
//  - File content: what the last xSync of the file made durable, plus, of the
//    512-byte sectors written since, a subset chosen by the PowerLossMode:
//    none, whole 4 KiB pages (a page cache writing back some dirty pages, in
//    any order), or single sectors (a torn write). A
//    sector that survives has its latest content; writes never corrupt bytes
//    they did not touch (SQLite's "powersafe overwrite"). The file's size is
//    the synced one or the latest one; a truncation is metadata, kept whole
//    (what it cut off is gone) or not at all (the old bytes are all there).
//  - Directory entries: a file created or deleted since its directory was last
//    synced is, after the failure, as the last directory sync left it: a new
//    file vanishes, a deleted one comes back with its synced content. As in
//    SQLite's unix VFS, the first xSync of a WAL or rollback journal opened
//    with SQLITE_OPEN_CREATE syncs its directory (and so every entry in it),
//    and so does xDelete with dirSync set.
//  - The -shm file is not tracked: SQLite rebuilds it when the first
//    connection opens the database again, whatever it holds.
// Writes reach the real files at once (SQLite reads them back); the real
// fsync is skipped, since this layer, not the disk, decides what is durable.
//
// Crash points: every xSync of a tracked file (the power fails as the sync
// begins: what it was to make durable is at stake), and every set_progress()
// call (the power fails right after the test's step was acknowledged: a
// store that returned before its data was synced loses it there).
//
// Use: register, open connections with vfs name(), call settle() to start
// counting crash points from a durable state, and capture_at() the points
// where the power is to fail: at each, the layer records a CrashImage (the
// files as they would be after rebooting) and lets the run go on unharmed.
// After the run, close every connection and restore() an image to check what
// a reboot would find. One run yields many crash images.
//
// Thread-safety: the VFS may be used by connections on any thread (the
// server's commit thread and readers); the methods below may be called from
// any thread. restore() REQUIRES that no connection has the files open.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tandem::test {

enum class PowerLossMode {
  kDropAll,      // nothing written since the last sync survives
  kRandomPages,  // a random subset of the dirty 4 KiB pages survives
  kTornSectors,  // a random subset of the dirty 512-byte sectors survives
};
inline constexpr PowerLossMode kAllPowerLossModes[] = {
    PowerLossMode::kDropAll, PowerLossMode::kRandomPages, PowerLossMode::kTornSectors};
const char* mode_name(PowerLossMode mode);

struct CrashPoint {
  std::int64_t point = 0;  // 1-based, counted since settle()
  PowerLossMode mode = PowerLossMode::kDropAll;
};

// The files as a reboot after the power failure finds them.
struct CrashImage {
  CrashPoint point;
  std::uint64_t seed = 0;     // the random choices of this image
  std::int64_t progress = 0;  // what set_progress() said when the power failed
  std::string at;             // "sync of <file>" or "step acknowledged"
  std::map<std::string, std::optional<std::string>> files;  // path -> content; nullopt: absent
};

class PowerLossVfs {
 public:
  // Registers the VFS under `name` (not as the default).
  explicit PowerLossVfs(std::string name = "tandem-power-loss");
  // Unregisters it. REQUIRES: no connection uses it.
  ~PowerLossVfs();
  PowerLossVfs(const PowerLossVfs&) = delete;
  PowerLossVfs& operator=(const PowerLossVfs&) = delete;

  const std::string& name() const;

  // Everything on disk now counts as durable (a machine that has been up a
  // while); the layer forgets the files it saw, the sync-point count and the
  // planned crash points start afresh.
  void settle();
  // A number the test keeps current (e.g. edits acknowledged so far); each
  // CrashImage records its value at the instant of the failure. Each call is
  // a crash point.
  void set_progress(std::int64_t progress);
  // The power fails at these crash points: an image is recorded at each (the
  // random choices seeded with `seed` and the point, so an image is
  // reproducible on its own).
  void capture_at(const std::vector<CrashPoint>& points, std::uint64_t seed);
  // Crash points since settle(), and how many of them were syncs.
  std::int64_t crash_points() const;
  std::int64_t sync_points() const;
  // The images recorded so far, handed over (the layer keeps none).
  std::vector<CrashImage> take_images();
  // Puts the image's files on disk and deletes every other file this layer
  // saw since settle() (so connections that check an image should use the
  // layer too: what they create is removed before the next image), then
  // takes what is on disk as durable: a rebooted machine. REQUIRES: no
  // connection has the files open.
  void restore(const CrashImage& image);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tandem::test
