#include "eventstore/config/file_config_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace jobtrail::config {
namespace {

int ModeOf(Doc doc) { return doc == Doc::kSchedules ? 0644 : 0600; }

// A full or failing disk is temporary (503, like the log's); anything else
// is a 500 naming the file (never its contents).
Error IoFailure(const char* what, const std::string& path, int err) {
  if (err == ENOSPC || err == EDQUOT || err == EIO) return ConfigUnavailable();
  return Internal(fmt::format("cannot {} {}: {}", what, path, std::strerror(err)));
}

std::string Stamp(const struct stat& st) {
  return fmt::format("{}:{}:{}.{}", st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

// The file and its stamp, read from one open descriptor (so the stamp is
// the stamp of what was read, even if the file is replaced meanwhile).
Result<Snapshot> ReadFile(const std::string& path) {
  Snapshot snap;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return snap;
    return IoFailure("open", path, errno);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return IoFailure("stat", path, err);
  }
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return IoFailure("read", path, err);
    }
    if (n == 0) break;
    snap.text.append(buf, size_t(n));
  }
  ::close(fd);
  snap.exists = true;
  snap.version = Stamp(st);
  return snap;
}

Result<void> WriteAtomically(const std::string& path, const std::string& data, int mode) {
  const std::string tmp = path + ".tmp";
  auto failed = [&](const char* what, int err) {
    ::unlink(tmp.c_str());  // give the room back
    return IoFailure(what, tmp, err);
  };
  // A temp file left by a crash may have another mode: start afresh (the
  // umask applies, as it does to every file of the data directory).
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return failed("create", errno);
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n == 0 ? EIO : errno;
      ::close(fd);
      return failed("write", err);
    }
    p += n;
    left -= size_t(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    return failed("sync", err);
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return failed("rename", errno);
  // The rename itself survives a power loss once the directory is synced.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return Ok();
}

// Serializes Updates of one file across threads and processes.
class FileLock {
 public:
  explicit FileLock(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      err_ = errno;
      return;
    }
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      err_ = errno;
      ::close(fd_);
      fd_ = -1;
      return;
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  int error() const { return fd_ >= 0 ? 0 : err_; }

 private:
  int fd_ = -1;
  int err_ = 0;
};

}  // namespace

std::string FileConfigStore::PathIn(const std::string& data_dir, Doc doc) {
  const char* name = doc == Doc::kApiKeys     ? "keys.json"
                     : doc == Doc::kSchedules ? "schedules.json"
                                              : "share.key";
  return (std::filesystem::path(data_dir) / name).string();
}

Result<Snapshot> FileConfigStore::Read(Doc doc) { return ReadFile(PathIn(dir_, doc)); }

Result<std::string> FileConfigStore::Version(Doc doc) {
  const std::string path = PathIn(dir_, doc);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::string();
    return IoFailure("stat", path, errno);
  }
  return Stamp(st);
}

Result<Snapshot> FileConfigStore::Update(Doc doc, const Change& change) {
  const std::string path = PathIn(dir_, doc);
  FileLock lock(path + ".lock");
  if (lock.error() != 0) return IoFailure("lock", path + ".lock", lock.error());
  BOOST_OUTCOME_TRY(current, ReadFile(path));
  BOOST_OUTCOME_TRY(text, change(current));
  if (!text) return current;
  BOOST_OUTCOME_TRYV(WriteAtomically(path, *text, ModeOf(doc)));
  return ReadFile(path);
}

std::string_view DocName(Doc doc) {
  switch (doc) {
    case Doc::kApiKeys: return "api_keys";
    case Doc::kSchedules: return "schedules";
    case Doc::kShareKey: return "share_key";
  }
  return "unknown";
}

Error ConfigUnavailable() {
  return MakeError(Code::kUnavailable, "STORAGE_UNAVAILABLE",
                   "the configuration store is unavailable (a full or failing disk, or the "
                   "database unreachable); nothing was changed: retry later");
}

}  // namespace jobtrail::config
