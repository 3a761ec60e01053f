#include "projections/log_identity.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace jobtrail {
namespace fs = std::filesystem;

Result<void> FollowLog(const std::string& data_dir, const std::string& views_dir,
                       const std::string& identity) {
  if (identity.empty()) return Ok();
  const std::string file = (fs::path(data_dir) / "log-identity").string();
  std::string recorded;
  {
    std::ifstream in(file);
    std::getline(in, recorded);
  }
  if (recorded == identity) return Ok();
  std::error_code ec;
  if (fs::exists(views_dir, ec)) {
    spdlog::warn("read models in '{}' were folded from {}, not from this log ({}); "
                 "dropping them to refold from the log",
                 views_dir, recorded.empty() ? "an unknown log" : "log " + recorded, identity);
    rocksdb::Status s = rocksdb::DestroyDB(views_dir, rocksdb::Options());
    if (!s.ok()) return Internal(fmt::format("views: {}", s.ToString()));
    fs::remove_all(views_dir, ec);
  }
  // Written whole to a temp file, then renamed: never a half identity.
  const std::string temp = file + ".tmp";
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Internal(fmt::format("cannot write '{}'", temp));
  const std::string line = identity + "\n";
  const bool written = write(fd, line.data(), line.size()) == ssize_t(line.size()) &&
                       fsync(fd) == 0;
  close(fd);
  if (!written) return Internal(fmt::format("cannot write '{}'", temp));
  fs::rename(temp, file, ec);
  if (ec) return Internal(fmt::format("cannot write '{}': {}", file, ec.message()));
  return Ok();
}

}  // namespace jobtrail
