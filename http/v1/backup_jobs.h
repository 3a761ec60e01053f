#pragma once
// Backups over HTTP (POST /v1/admin/backup): each runs JobStore::Backup on a
// thread of its own into a sub-directory of the one directory the operator
// configured (`serve --backup-dir DIR`), and its progress is a status the
// routes read. The request names only the sub-directory: a plain name,
// never a path, so no request can write anywhere else.
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "domain/clock.h"
#include "domain/error.h"
#include "projections/store_admin.h"

namespace jobtrail::http {

struct BackupStatus {
  std::string name;
  std::string state;  // "running", "completed", "failed"
  std::string phase;  // running: "starting", "read_models", "log", "files"
  std::optional<Millis> started_at;  // unset for a backup of an earlier run
  std::optional<Millis> finished_at;
  std::optional<uint64_t> log_position;
  std::optional<uint64_t> views_position;
  std::string error_code;  // failed: a stable code; the cause is in the log
};

class BackupJobs {
 public:
  // `dir` exists (the server checked it at start).
  BackupJobs(StoreAdmin& store, std::string dir, const Clock& clock);
  ~BackupJobs();  // waits for a running backup to finish
  BackupJobs(const BackupJobs&) = delete;
  BackupJobs& operator=(const BackupJobs&) = delete;

  // Starts a backup named `name` (empty: one named by the time). Errors:
  // kInvalidArgument/INVALID_INPUT (a name that is not a plain name),
  // kAlreadyExists/BACKUP_EXISTS, kAborted/BACKUP_RUNNING (one at a time).
  Result<BackupStatus> Start(const std::string& name);
  // Errors: kNotFound/BACKUP_NOT_FOUND (also for a name that is not valid).
  Result<BackupStatus> Get(const std::string& name);
  // This run's backups and the complete ones in the directory, by name.
  std::vector<BackupStatus> List();

  static bool ValidName(std::string_view name);

 private:
  void Run(std::string name);

  StoreAdmin& store_;
  const std::string dir_;
  const Clock& clock_;
  std::mutex mu_;
  std::map<std::string, BackupStatus> statuses_;  // GUARDED_BY(mu_)
  bool running_ = false;                          // GUARDED_BY(mu_)
  std::thread worker_;
};

}  // namespace jobtrail::http
