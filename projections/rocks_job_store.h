#pragma once
// JobStore on the RocksDB event log (<data-dir>/log) and a RocksDB read-model
// database (<data-dir>/views). See job_store.h for the contract.
#include <rocksdb/db.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "eventstore/rocks_event_log.h"
#include "eventstore/rocks_logger.h"
#include "eventstore/rocks_recovery.h"
#include "projections/aggregate_cache.h"
#include "projections/claim_index.h"
#include "projections/job_store.h"
#include "projections/lease_index.h"
#include "projections/projector.h"

namespace jobtrail {

// The store's one answer for a job that is not there (or not any more).
Error JobNotFound(std::string_view job_id);

class RocksJobStore final : public JobStore {
 public:
  static Result<std::unique_ptr<RocksJobStore>> OpenStore(const JobStoreOptions& options);
  ~RocksJobStore() override;

  Result<WriteOutcome> Enqueue(EnqueueRequest request) override;
  Result<WriteOutcome> Append(AppendRequest request) override;
  std::vector<Result<WriteOutcome>> WriteMany(std::vector<WriteCommand> commands) override;
  Result<std::string> StatusJson(std::string_view job_id) override;
  Result<StatusDocument> Status(std::string_view job_id) override;
  Result<JobView> LoadJob(std::string_view job_id, std::optional<uint64_t> at_version) override;
  Result<std::vector<RecordedEvent>> History(std::string_view job_id) override;
  Result<std::vector<RecordedEvent>> AuditHistory(std::string_view job_id) override;
  Result<EventPage> ReadHistory(std::string_view job_id, uint64_t after_version,
                                size_t limit) override;
  Result<JobLogs> Logs(std::string_view job_id, LogLevel min_level) override;
  Result<std::string> FindByExternalRef(std::string_view external_ref) override;
  Result<std::vector<RecordedEvent>> Feed(uint64_t after, size_t limit) override;
  Result<WebhookAttemptPage> WebhookAttempts(std::string_view webhook_id, uint64_t before,
                                             size_t limit) override;
  Result<ListPage> List(const ListQuery& query) override;
  Result<std::vector<ClaimedJob>> Claim(const ClaimRequest& request) override;
  Result<ClaimOutcome> AppendAndClaim(std::vector<AppendRequest> appends,
                                      const ClaimRequest& request) override;
  Result<HeartbeatOutcome> Heartbeat(const HeartbeatRequest& request) override;
  Result<MaintenanceReport> RunMaintenance(const MaintenanceOptions& options) override;
  Result<std::vector<ScheduleView>> ListSchedules() override;
  Result<ScheduleView> GetSchedule(std::string_view name) override;
  Result<ScheduleView> PutSchedule(ScheduleSpec spec) override;
  Result<void> DeleteSchedule(std::string_view name) override;
  Result<WriteOutcome> TriggerSchedule(std::string_view name, const std::string& actor) override;
  Result<size_t> RunDueSchedules() override;
  StatsSnapshot Stats() override;
  Result<std::vector<SeriesPoint>> Series(const SeriesQuery& query) override;
  HealthReport Health() override;
  ProjectionProgress Progress() override;
  uint64_t AwaitProjected(uint64_t after, std::chrono::milliseconds timeout) override;
  StoreVitals Vitals() override;
  const Clock& clock() const override { return *clock_; }
  Result<void> Rebuild(const std::function<void(uint64_t, uint64_t)>& progress) override;
  Result<VerifyReport> Verify(const std::function<void(uint64_t, uint64_t)>& progress) override;
  Result<CompactionReport> CompactLog() override;
  Result<BackupReport> Backup(const std::string& dest,
                              const std::function<void(std::string_view)>& phase) override;

  // The raw read-model database, for verification and tests.
  rocksdb::DB* views() { return views_.get(); }

 private:
  RocksJobStore() = default;
  // OpenStore with options.read_only (store_backup.cc).
  static Result<std::unique_ptr<RocksJobStore>> OpenReadOnly(const JobStoreOptions& options);
  // Backup's copies of the two databases into `staging` (store_backup.cc).
  Result<void> CopyBoth(const std::string& staging, BackupReport& report,
                        const std::function<void(std::string_view)>& phase);
  Result<void> CopyArchive(const std::filesystem::path& staging, BackupReport& report);
  Result<void> CopyDatabases(const std::string& staging, BackupReport& report,
                             const std::function<void(std::string_view)>& phase);
  Result<void> OpenViews(bool create);
  // Folds the archived events at positions <= `upto` into `projector`
  // (store_archive.cc): with the log's own events, the whole history.
  Result<void> FoldArchive(Projector& projector, uint64_t upto);
  // Rebuild's path for a log with archived ranges (rebuild.cc).
  Result<void> RefoldWithArchive(uint64_t last,
                                 const std::function<void(uint64_t, uint64_t)>& progress);
  // The log's options for options_ (archive directory and renderer).
  static eventstore::RocksEventLogOptions LogOptions(const JobStoreOptions& options);
  // options.config, or the files in the data directory.
  static std::shared_ptr<config::ConfigStore> ConfigOf(const JobStoreOptions& options);
  // The projection thread (projection_thread.cc).
  void StartProjection();
  void StopProjection();
  void ProjectionLoop();
  // One step of the projection: read what the log committed past the
  // subscription (waiting up to `wait` for it) and apply it. Requires
  // step_mu_. kFailed: stopped for good; kBlocked: the views cannot store it
  // (kept in unapplied_ for the next step).
  enum class StepOutcome { kApplied, kIdle, kBlocked, kFailed };
  StepOutcome ProjectStep(std::chrono::milliseconds wait);
  // A writer waiting for its position applies what is committed itself if
  // nobody else is applying (RocksDB log only): see WaitProjected.
  void HelpProject(uint64_t position, std::chrono::steady_clock::time_point deadline);
  // The log's commit hook: HelpProject by the committing thread; wakes the
  // projection thread only if that did not reach `committed`.
  void ProjectCommitted(uint64_t committed);
  // The projection thread's wait on the embedded log (see ProjectionLoop).
  void WaitForWork(uint64_t after);
  void StopProjectionForGood(const std::string& why);
  void SkipArchivedRange();
  uint64_t projected_position();
  void SetProjectionState(ProjectionState state);
  ProjectionState projection_state() const;
  uint64_t projector_checkpoint();
  Result<void> WaitProjected(uint64_t position);
  // Refuses a write up front (STORAGE_UNAVAILABLE, PROJECTION_FAILED) while
  // it could not be stored or shown.
  Result<void> CheckWritable();
  void CountClaimed(size_t jobs);
  // Closes the views' database (its recovery thread first).
  void CloseViews();
  // A write checked and encoded, ready for the log.
  struct PreparedWrite {
    eventstore::StreamAppend part;
    std::shared_ptr<JobView> after;  // the job once the part is appended
    bool enqueue = false;
  };
  // Where a write's view of the job comes from. kFromLog: the log as it is
  // now (the cached fold, completed from the log). kWriterCache: the cached
  // fold as this store last wrote it, without reading the log, when there
  // is one. Only a write that the log then checks against the view's
  // version may use kWriterCache (an append with that expected version):
  // a view the log has passed fails that check, and anything but success
  // is decided again from the log. On one node the cache is never behind;
  // on a shared log another node's writes put it behind.
  enum class JobSource { kFromLog, kWriterCache };
  // The job as the log has it now (deleted or past retention included).
  Result<JobView> CurrentJob(std::string_view job_id, JobSource source = JobSource::kFromLog);
  // CurrentJob, but JOB_NOT_FOUND for a job that expired or is past its
  // retention (what readers see).
  Result<JobView> LatestJob(std::string_view job_id, JobSource source = JobSource::kFromLog);
  Result<PreparedWrite> PrepareEnqueue(EnqueueRequest& request);
  Result<PreparedWrite> PrepareAppend(const AppendRequest& request, const JobView& current);
  // The store's answer for a prepared write, given the log's.
  Result<WriteOutcome> Settle(PreparedWrite& prepared,
                              eventstore::StoreResult<eventstore::AppendResult> appended);
  Result<void> CompleteDuplicate(WriteOutcome& out);
  // An append whose client event ids are in the log already: its original
  // outcome (duplicate=true), or nullopt.
  Result<std::optional<WriteOutcome>> FindRetriedAppend(const AppendRequest& request);
  Result<WriteOutcome> TryAppend(const AppendRequest& request);
  Result<WriteOutcome> TryAppendTo(const AppendRequest& request, const JobView& current);
  // Fills the ClaimIndex from the claim rows of the views.
  Result<void> LoadClaimIndex();
  // Fills the LeaseIndex from the running jobs of the views (each as the
  // log has it now: the projection then catches up to the same state).
  Result<void> LoadLeaseIndex();
  // Waits (bounded) until the job's stream reads at least `version`.
  void WaitReadable(const std::string& job_id, uint64_t version);
  RetryPolicy PolicyFor(const JobView& job) const;
  // Has the job's retention (retention_by_type) run out by now?
  // (retention.cc) `status` picks failed_retention_by_type for failed and
  // cancelled jobs.
  bool PastRetention(std::string_view type, Millis created_at,
                     JobStatus status = JobStatus::kNone) const;
  // The maintenance pass's expiries by age and by count (retention.cc).
  Result<void> ExpireByRetention(Millis now, MaintenanceReport& report);
  Result<uint64_t> ExpireJobs(const std::vector<std::string>& ids, const std::string& reason);
  // Jobs in one list index (view_keys.h) whose sort time is before `cutoff`.
  std::vector<std::string> IndexedBefore(std::string_view dim, std::string_view value, char sort,
                                         Millis cutoff);
  // Appends an expired event (actor "system"); false if it already was.
  Result<bool> ExpireJob(const std::string& job_id, std::string reason);
  double UnitRandom();
  EventBody FollowUpToError(const JobView& job, Millis now);
  Result<ScheduleView> ViewOf(Schedule schedule);
  Result<WriteOutcome> EnqueueRun(const Schedule& schedule, const std::string& actor,
                                  const std::string& idempotency_key,
                                  const std::string& trigger);

  JobStoreOptions options_;
  SystemClock system_clock_;
  const Clock* clock_ = nullptr;
  // Where both databases' RocksDB info log goes (spdlog "storage"; never
  // a LOG file, see eventstore/rocks_logger.h).
  eventstore::LineLogger::Sink storage_sink_;
  std::unique_ptr<eventstore::EventLog> log_;  // RocksEventLog unless options_.open_log
  // log_ when it is the embedded RocksDB log, else null: backups, log
  // compaction, secondaries and storage vitals are the embedded log's.
  eventstore::RocksEventLog* rocks_log_ = nullptr;
  std::function<eventstore::StorageHealth()> log_health_;  // a shared log's, else null
  // Before views_: the views' database calls its listener until closed.
  std::unique_ptr<eventstore::RocksRecovery> views_recovery_;
  std::unique_ptr<rocksdb::DB> views_;
  std::string views_dir_;
  std::string scratch_dir_;  // read-only: the secondaries' own files
  std::mutex backup_mu_;     // one backup or compaction at a time
  std::unique_ptr<ScheduleBook> schedules_;
  StatusCache status_cache_{256 << 20};
  AggregateCache aggregates_{200000};
  ClaimIndex claims_;
  LeaseIndex leases_;

  std::mutex unique_mu_;     // enqueues with a unique key, one at a time
  std::mutex projector_mu_;  // guards projector_
  std::unique_ptr<Projector> projector_;
  // Held while reading subscription_ and applying what it gave: by the
  // projection thread, or by a writer waiting for its own write (HelpProject).
  std::mutex step_mu_;
  std::unique_ptr<eventstore::Subscription> subscription_;  // GUARDED_BY(step_mu_) once started
  std::vector<eventstore::StoredEvent> unapplied_;          // GUARDED_BY(step_mu_)
  std::thread projection_thread_;
  std::atomic<bool> stop_{false};

  std::mutex progress_mu_;
  std::condition_variable progress_cv_;
  uint64_t projected_ = 0;        // GUARDED_BY(progress_mu_)
  std::string projection_error_;  // GUARDED_BY(progress_mu_)
  // The projection thread's wake-up on the embedded log: a commit its
  // committing thread did not apply, or a stop.
  std::condition_variable work_cv_;
  bool work_wanted_ = false;  // GUARDED_BY(progress_mu_)
  uint64_t ready_at_ = 0;         // log head when opened
  std::atomic<bool> ready_{false};
  std::atomic<int> projection_state_{int(ProjectionState::kRunning)};
  std::atomic<uint64_t> projection_errors_{0};
  std::atomic<uint64_t> jobs_claimed_{0};
  RateWindow claims_rate_;
};

}  // namespace jobtrail
