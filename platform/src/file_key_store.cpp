#include "tandem/platform/file_key_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace tandem::platform {
namespace {

Error io_error(const std::string& what) {
  return make_error(ErrorCode::kIo, what + ": " + std::strerror(errno));
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > FileKeyStore::kMaxNameLength || name.front() == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status check_name(std::string_view name) {
  if (valid_name(name)) return {};
  return make_error(ErrorCode::kInvalidArgument, "key names are 1..128 characters of [A-Za-z0-9._-], not starting with '.'");
}

// mkdir -p with 0700 for what it creates.
Status make_dirs(const std::string& dir) {
  std::string path;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    path = dir.substr(0, pos);
    if (path.empty()) continue;
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return io_error("cannot create key folder '" + path + "'");
  }
  return {};
}

Status sync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open key folder");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return io_error("cannot sync key folder");
  return {};
}

}  // namespace

std::string FileKeyStore::default_dir() {
  if (const char* d = std::getenv("TANDEM_KEY_DIR"); d != nullptr && *d != '\0') return d;
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x != nullptr && *x == '/') return std::string(x) + "/tandem/keys";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return std::string(h) + "/.config/tandem/keys";
  return {};
}

Result<FileKeyStore> FileKeyStore::open(std::string dir) {
  if (dir.empty()) dir = default_dir();
  if (dir.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "no key folder: set TANDEM_KEY_DIR (or HOME)");
  }
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  TANDEM_TRY(make_dirs(dir));
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return io_error("cannot read key folder '" + dir + "'");
  if (!S_ISDIR(st.st_mode)) return make_error(ErrorCode::kIo, "key folder '" + dir + "' is not a folder");
  if (st.st_uid != ::geteuid()) {
    return make_error(ErrorCode::kIo, "key folder '" + dir + "' belongs to another user");
  }
  if ((st.st_mode & 077) != 0) {
    return make_error(ErrorCode::kIo,
                      "key folder '" + dir + "' is open to other users (chmod 700 it: keys must be private)");
  }
  return FileKeyStore(std::move(dir));
}

Result<std::optional<std::string>> FileKeyStore::get(std::string_view name) {
  TANDEM_TRY(check_name(name));
  const std::string path = dir_ + "/" + std::string(name);
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return io_error("cannot read key '" + std::string(name) + "'");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return io_error("cannot read key '" + std::string(name) + "'");
  }
  if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
    ::close(fd);
    return make_error(ErrorCode::kIo, "key '" + std::string(name) +
                                               "' is not a private file of this user (mode 0600 needed); not used");
  }
  if (static_cast<std::size_t>(st.st_size) > kMaxSecretBytes) {
    ::close(fd);
    return make_error(ErrorCode::kIo, "key '" + std::string(name) + "' is larger than a key can be");
  }
  std::string secret(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < secret.size()) {
    const ssize_t n = ::read(fd, secret.data() + got, secret.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got != secret.size()) return make_error(ErrorCode::kIo, "key '" + std::string(name) + "' could not be read whole");
  return std::optional<std::string>(std::move(secret));
}

Status FileKeyStore::put(std::string_view name, std::string_view secret) {
  TANDEM_TRY(check_name(name));
  if (secret.size() > kMaxSecretBytes) return make_error(ErrorCode::kTooLong, "a secret is at most 4096 bytes");
  const std::string path = dir_ + "/" + std::string(name);
  const std::string tmp = dir_ + "/.tmp-" + std::string(name);
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot write key '" + std::string(name) + "'");
  std::size_t put = 0;
  while (put < secret.size()) {
    const ssize_t n = ::write(fd, secret.data() + put, secret.size() - put);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    put += static_cast<std::size_t>(n);
  }
  const bool ok = put == secret.size() && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = io_error("cannot write key '" + std::string(name) + "'");
    ::unlink(tmp.c_str());
    return e;
  }
  return sync_dir(dir_);
}

Status FileKeyStore::erase(std::string_view name) {
  TANDEM_TRY(check_name(name));
  const std::string path = dir_ + "/" + std::string(name);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("cannot remove key '" + std::string(name) + "'");
  return sync_dir(dir_);
}

}  // namespace tandem::platform
