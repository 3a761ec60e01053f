#include "http/security/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

namespace jobtrail::http {
namespace {

Result<void> WriteAll(int fd, const std::string& data) {
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Internal("write failed");
    p += n;
    left -= size_t(n);
  }
  return Ok();
}

}  // namespace

Result<std::string> ReadWholeFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound("FILE_NOT_FOUND", fmt::format("no file {}", path));
    return Internal(fmt::format("cannot open {}", path));
  }
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return Internal(fmt::format("cannot read {}", path));
    }
    if (n == 0) break;
    out.append(buf, size_t(n));
    if (out.size() > (16 << 20)) {
      ::close(fd);
      return Internal(fmt::format("{} is larger than 16 MiB", path));
    }
  }
  ::close(fd);
  return out;
}

Result<std::string> ReadSecretFile(const std::string& path) {
  BOOST_OUTCOME_TRY(text, ReadWholeFile(path));
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) return InvalidArgument(fmt::format("secret file {} is empty", path));
  return text;
}

Result<std::string> ReadSecretEnv(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) {
    return NotFound("ENV_NOT_SET", fmt::format("environment variable {} is not set", name));
  }
  if (*value == '\0') return InvalidArgument(fmt::format("environment variable {} is empty", name));
  return std::string(value);
}

Result<void> WriteFileAtomically(const std::string& path, const std::string& data, int mode) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Internal(fmt::format("cannot write {}", tmp));
  // O_CREAT's mode only applies to new files; a stale tmp keeps its own.
  (void)::fchmod(fd, mode);  // best effort: the rename below is what matters
  auto written = WriteAll(fd, data);
  const bool synced = written && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || std::rename(tmp.c_str(), path.c_str()) != 0) {
    (void)std::remove(tmp.c_str());  // nothing to report beyond the error below
    return Internal(fmt::format("cannot save {}", path));
  }
  // The rename itself is durable only once the directory is synced.
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);  // best effort: some filesystems refuse directory fsync
    ::close(dfd);
  }
  return Ok();
}

}  // namespace jobtrail::http
