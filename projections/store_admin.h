#pragma once
// StoreAdmin: the operator's side of the store (JobStore, job_store.h): the
// maintenance pass (leases, retention, cleanup), the full audit trail of a
// job, and the offline tasks (rebuild the read models, verify log and read
// models). What `jobtrail rebuild|verify|replay|export`, the maintenance
// route and `serve`'s ticker need.
// Thread-safe: every method may be called from any thread.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.h"
#include "domain/job_event.h"

namespace jobtrail {

struct MaintenanceOptions {
  // Expire final jobs whose last change is older than now minus this: an
  // expired event each, which removes them from the read models (their
  // events stay in the log). Unset: no cleanup.
  std::optional<Millis> cleanup_older_than_ms;
  // Count the due retries and delayed jobs (due_retries, due_delayed): a
  // walk of the claim rows. The server's ticker, which only needs leases
  // expired, turns it off: with a large backlog the walk cost every tick
  // up to 100,000 status reads.
  bool count_due = true;
};

struct MaintenanceReport {
  uint64_t due_retries = 0;     // retrying jobs whose time has come
  uint64_t due_delayed = 0;     // pending jobs whose run-at has come
  uint64_t leases_expired = 0;  // running jobs whose lease ran out
  uint64_t retried = 0;         // ... of which the policy retried
  uint64_t failed = 0;          // ... of which were out of attempts
  uint64_t cleaned = 0;         // final jobs expired by the cleanup
  uint64_t expired = 0;         // jobs expired by their type's retention
};

struct VerifyReport {
  uint64_t events = 0;           // archived ones included
  uint64_t archived_events = 0;  // read from the archive (log compaction)
  uint64_t streams = 0;
  std::vector<std::string> problems;  // empty: log and read models are sound
  bool ok() const { return problems.empty(); }
};

// What one CompactLog pass did.
struct CompactionReport {
  uint64_t scanned_to = 0;      // expired jobs looked for up to this position
  uint64_t jobs_archived = 0;
  uint64_t events_archived = 0;
  uint64_t archive_bytes = 0;
};

// What StoreAdmin::Backup wrote.
struct BackupReport {
  std::string path;            // the backup directory
  uint64_t log_position = 0;   // the last event in the copy of the log
  uint64_t views_position = 0; // where the copied read models stand (<= log)
  std::vector<std::string> files;  // other files copied (keys.json, ...)
  // The archive (log compaction), copied when it is inside the data
  // directory; an archive elsewhere is not part of the copy.
  std::string archive_dir;
  bool archive_copied = false;
};

class StoreAdmin {
 public:
  virtual ~StoreAdmin() = default;

  // One maintenance pass: expire overdue leases (errored LeaseExpired, then
  // retried or failed by the retry policy, actor "system"), expire jobs
  // past their type's retention and, if asked, old final jobs (expired,
  // actor "system"), and count what is due. Safe to run concurrently with
  // everything else.
  virtual Result<MaintenanceReport> RunMaintenance(const MaintenanceOptions& options) = 0;

  // Every event of the job, expired or not: the audit trail, for operators
  // (replay, export). Errors: kNotFound/JOB_NOT_FOUND.
  virtual Result<std::vector<RecordedEvent>> AuditHistory(std::string_view job_id) = 0;

  // Drops every read model and rebuilds it from the log (offline: call on a
  // store no one else writes to). `progress` gets (position, last).
  virtual Result<void> Rebuild(
      const std::function<void(uint64_t, uint64_t)>& progress) = 0;

  // Checks the log (positions and streams contiguous, every event decodes
  // and folds, hash chain unbroken) and that the read models equal a fresh
  // fold of the log (built in a scratch directory, compared key by key).
  // Errors are I/O failures only; damage goes into the report.
  virtual Result<VerifyReport> Verify(
      const std::function<void(uint64_t, uint64_t)>& progress) = 0;

  // One log compaction pass (options.archive_dir set; otherwise nothing):
  // finds the jobs that expired (their expired event) since the last pass,
  // up to what the read models have applied, makes the read models durable
  // up to there, and has the log archive those jobs' events and drop them
  // (RocksEventLog::ArchiveStreams). AuditHistory (replay, export --job) of
  // an archived job reads the archive; Verify and Rebuild fold it too.
  // Never runs beside a Backup.
  virtual Result<CompactionReport> CompactLog() { return CompactionReport{}; }

  // Writes a consistent copy of the data directory to `dest` (which must
  // not exist; its parent must), while writes go on: the read models first,
  // then the log, so the copy's read models stand at or behind its log and
  // catch up from it when the copy is served; then the configuration files
  // beside them (schedules, keys). The copy holds every write acknowledged
  // before the call. It is built under `dest`.partial-* and renamed to
  // `dest` when whole, so a `dest` that exists is a complete backup.
  // Errors: kInvalidArgument/BACKUP_EXISTS, kInternal/IO_ERROR.
  // `phase` (may be empty) hears each step as it starts: "read_models",
  // "log", "files".
  virtual Result<BackupReport> Backup(
      const std::string& dest, const std::function<void(std::string_view)>& phase = {}) {
    (void)dest;
    (void)phase;
    return MakeError(Code::kFailedPrecondition, "BACKUP_UNSUPPORTED",
                     "this store cannot make backups");
  }
};

}  // namespace jobtrail
