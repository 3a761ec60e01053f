#include "http/v1/backup_jobs.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "projections/job_json.h"

namespace jobtrail::http {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxNameBytes = 100;
constexpr size_t kKeptStatuses = 100;  // this run's finished backups remembered

std::string TimeName(Millis now) {
  // FormatTime gives 2024-01-15T10:30:00.000Z; a name keeps digits only.
  std::string name = "backup-";
  for (char c : FormatTime(now)) {
    if (c >= '0' && c <= '9') name += c;
    if (c == 'T') name += 'T';
  }
  return name + "Z";
}

}  // namespace

BackupJobs::BackupJobs(StoreAdmin& store, std::string dir, const Clock& clock)
    : store_(store), dir_(std::move(dir)), clock_(clock) {}

BackupJobs::~BackupJobs() {
  if (worker_.joinable()) worker_.join();
}

bool BackupJobs::ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  const auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(name.front())) return false;  // no ".", "..", "-x" or hidden names
  for (char c : name) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  // Names the backup itself uses while it is built (JobStore::Backup).
  return name.find(".partial") == std::string_view::npos &&
         name.find(".staging") == std::string_view::npos;
}

Result<BackupStatus> BackupJobs::Start(const std::string& requested) {
  const std::string name = requested.empty() ? TimeName(clock_.Now()) : requested;
  if (!ValidName(name)) {
    return InvalidArgument(
        "name: 1 to 100 letters, digits, '-', '_' or '.', starting with a letter or digit "
        "(a name, not a path)");
  }
  std::lock_guard lock(mu_);
  if (running_) {
    return MakeError(Code::kAborted, "BACKUP_RUNNING", "a backup is running; one at a time");
  }
  std::error_code ec;
  if (statuses_.count(name) > 0 || fs::exists(fs::path(dir_) / name, ec)) {
    return MakeError(Code::kAlreadyExists, "BACKUP_EXISTS",
                     fmt::format("a backup named '{}' exists", name));
  }
  if (worker_.joinable()) worker_.join();  // the previous one has finished
  if (statuses_.size() >= kKeptStatuses) {
    for (auto it = statuses_.begin(); it != statuses_.end(); ++it) {
      if (it->second.state != "running") {
        statuses_.erase(it);
        break;
      }
    }
  }
  BackupStatus status;
  status.name = name;
  status.state = "running";
  status.phase = "starting";
  status.started_at = clock_.Now();
  statuses_[name] = status;
  running_ = true;
  worker_ = std::thread([this, name] { Run(name); });
  return status;
}

void BackupJobs::Run(std::string name) {
  spdlog::info("backup '{}' started", name);
  auto report = store_.Backup((fs::path(dir_) / name).string(), [&](std::string_view phase) {
    std::lock_guard lock(mu_);
    statuses_[name].phase = std::string(phase);
  });
  std::lock_guard lock(mu_);
  BackupStatus& status = statuses_[name];
  status.finished_at = clock_.Now();
  status.phase.clear();
  if (report) {
    status.state = "completed";
    status.log_position = report.value().log_position;
    status.views_position = report.value().views_position;
    spdlog::info("backup '{}' completed: log at {}, read models at {}", name,
                 report.value().log_position, report.value().views_position);
  } else {
    // The cause (paths, RocksDB's words) goes to the log, not to clients.
    status.state = "failed";
    status.error_code = report.error().reason.empty() ? "IO_ERROR" : report.error().reason;
    spdlog::error("backup '{}' failed: {}", name, report.error().ToString());
  }
  running_ = false;
}

Result<BackupStatus> BackupJobs::Get(const std::string& name) {
  auto not_found = NotFound("BACKUP_NOT_FOUND", "no backup has that name");
  if (!ValidName(name)) return not_found;
  {
    std::lock_guard lock(mu_);
    if (auto it = statuses_.find(name); it != statuses_.end()) return it->second;
  }
  std::error_code ec;
  if (fs::is_directory(fs::path(dir_) / name, ec)) {
    BackupStatus status;  // made by an earlier run (or the CLI): complete
    status.name = name;
    status.state = "completed";
    return status;
  }
  return not_found;
}

std::vector<BackupStatus> BackupJobs::List() {
  std::map<std::string, BackupStatus> all;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory(ec) || !ValidName(name)) continue;
    all[name] = BackupStatus{name, "completed", "", {}, {}, {}, {}, ""};
  }
  std::lock_guard lock(mu_);
  for (const auto& [name, status] : statuses_) all[name] = status;
  std::vector<BackupStatus> out;
  for (auto& [name, status] : all) out.push_back(std::move(status));
  return out;
}

}  // namespace jobtrail::http
