// `jobtrail backup`: a consistent copy of a data directory, taken while the
// server runs and writes (the store opened read-only beside it, see
// JobStore::Backup). Restore = serve from the copy.
#include <fmt/format.h>

#include <chrono>
#include <iostream>

#include "http/cli/commands.h"

namespace jobtrail::cli {

int Backup(const StoreFlags& flags, const std::string& to) {
  auto store = OpenReader(flags);
  if (!store) return 1;
  const auto start = std::chrono::steady_clock::now();
  auto report = store->Backup(to);
  if (!report) {
    std::cerr << "jobtrail: backup failed: " << report.error().message << "\n";
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const BackupReport& r = report.value();
  std::cout << fmt::format(
      "backup written to {} in {:.2f} s: log up to position {}, read models at {}{}\n", r.path,
      seconds, r.log_position, r.views_position,
      r.files.empty() ? "" : fmt::format(", files {}", fmt::join(r.files, ", ")));
  std::cout << fmt::format("check it: jobtrail verify --data-dir {}\n", r.path);
  std::cout << fmt::format("restore:  jobtrail serve --data-dir {}\n", r.path);
  return 0;
}

}  // namespace jobtrail::cli
