#pragma once
// JobStore: jobtrail's application service. The HTTP layer, the CLI and the
// dialects reach the log only through it.
//
// Writes: load the job (fold of its stream), check each transition with the
// domain's state machine, append with the expected version, then wait until
// the projections have applied the append (read-your-writes: once a write is
// acknowledged, StatusJson(job) shows it).
// Reads: served from the read models (RocksDB under <data-dir>/views),
// which a projection thread keeps up to date from a log subscription and
// checkpoints with every batch.
//
// Thread-safe: every method may be called from any thread.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "domain/clock.h"
#include "domain/error.h"
#include "domain/job_event.h"
#include "domain/job_view.h"
#include "domain/retry_policy.h"
#include "eventstore/event_log.h"
#include "projections/list_query.h"
#include "projections/schedule_book.h"
#include "projections/stats_snapshot.h"

namespace jobtrail {

// An event log opened outside the store (JobStoreOptions::open_log).
struct ExternalLog {
  std::unique_ptr<eventstore::EventLog> log;
  // Tells logs apart (the PostgreSQL log's id): read models folded from
  // another log are refolded (projections/log_identity.h).
  std::string identity;
};

struct JobStoreOptions {
  std::string data_dir;  // holds log/ and views/
  bool sync = true;      // fsync the log before acknowledging (group commit)
  bool create_if_missing = true;
  // The event log; null: the embedded RocksDB log in <data_dir>/log. Set
  // for a log shared by several nodes (`--log postgresql://...`): the data
  // directory then holds this node's read models (views/) and no log/.
  std::function<eventstore::StoreResult<ExternalLog>()> open_log;
  const Clock* clock = nullptr;  // null: the system clock
  // A running job whose lease ended this long ago counts as stuck.
  Millis stuck_grace_ms = 0;
  // Backoff for jobs the store retries itself (errors on a leased attempt,
  // expired leases); a job's own enqueue fields override these.
  RetryPolicy default_retry;
  std::map<std::string, RetryPolicy> retry_by_type;
  // Uniform [0,1) for backoff jitter; null: a seeded PRNG. Tests inject it.
  std::function<double()> random;
  // Retention per job type: a job of the type is gone (JOB_NOT_FOUND) once
  // this long has passed since it was enqueued, and a maintenance pass
  // appends its expired event, which removes it from the read models. Its
  // events stay in the log (AuditHistory, export).
  std::map<std::string, Millis> retention_by_type;
};

struct EnqueueRequest {
  Enqueued spec;
  std::string job_id;  // empty: a new UUID (or derived from idempotency_key)
  std::string actor;
  std::optional<Millis> timestamp;  // import only: keep the original time
  std::string event_id;             // import only: keep the original id
};

struct WriteOutcome {
  std::string job_id;
  uint64_t version = 0;   // the job's version after the write
  uint64_t position = 0;  // global position of the last event written
  JobStatus status = JobStatus::kNone;
  bool duplicate = false;  // an idempotent repeat: nothing was appended
};

struct AppendRequest {
  std::string job_id;
  std::optional<uint64_t> expected_version;  // If-Match
  std::vector<EventBody> events;             // applied in order, atomically
  std::vector<std::string> event_ids;        // optional, one per event
  std::string actor;
  std::optional<Millis> timestamp;  // import only: keep the original time
};

// The stored status document and the few fields callers need without
// parsing it (ETag, ownership checks, live ETA).
struct StatusDocument {
  std::string json;  // RenderJobJson's bytes
  uint64_t version = 0;
  JobStatus status = JobStatus::kNone;
  std::string owner;
  std::string type;
  std::string queue;
  std::string external_ref;
  Millis created_at = 0;
  Millis updated_at = 0;
  std::optional<Millis> estimated_completion_at;
};

// One page of a job's history (JobStore::ReadHistory).
struct EventPage {
  std::vector<RecordedEvent> events;
  uint64_t version = 0;    // the job's current version
  bool has_more = false;   // events after the last one returned
};

// A job's log lines from the logs read model, at one version.
struct JobLogs {
  uint64_t version = 0;                // the job's version they belong to
  std::vector<std::string> lines_json;  // RenderLogLineJson's bytes, in order
};

// One write of a batch (JobStore::WriteMany).
using WriteCommand = std::variant<EnqueueRequest, AppendRequest>;

struct ClaimRequest {
  std::string queue = "default";
  std::string worker_id;
  Millis lease_ms = 30000;
  size_t max_jobs = 1;  // 1..100 (0 when appends ride along: finish only)
  std::string actor;  // recorded on the started events; empty: worker_id
};

struct ClaimedJob {
  std::string job_id;
  uint64_t version = 0;
  int32_t attempt = 0;
  Millis lease_deadline = 0;
  std::string json;  // the status document after the claim
};

// What AppendAndClaim did: each append's outcome, in order, and the jobs
// handed out.
struct ClaimOutcome {
  std::vector<Result<WriteOutcome>> appended;
  std::vector<ClaimedJob> jobs;
};

struct HeartbeatRequest {
  std::string job_id;
  std::string worker_id;
  Millis lease_ms = 30000;
  std::optional<double> percent;  // optional progress riding along
  std::string message;
  std::string actor;  // recorded on the progressed event; empty: worker_id
};

struct HeartbeatOutcome {
  JobStatus status = JobStatus::kNone;
  bool cancelled = false;    // stop: the job was cancelled meanwhile
  bool keep_working = false; // the lease is (still) this worker's
  std::optional<Millis> lease_deadline;
  uint64_t version = 0;
};

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

struct ScheduleView {
  Schedule schedule;
  bool running = false;  // a job of the schedule's type is running now
};

struct VerifyReport {
  uint64_t events = 0;
  uint64_t streams = 0;
  std::vector<std::string> problems;  // empty: log and read models are sound
  bool ok() const { return problems.empty(); }
};

struct ProjectionProgress {
  uint64_t log_position = 0;        // last committed in the log
  uint64_t projected_position = 0;  // last applied to the read models
  bool ready = false;               // caught up since start
};

class JobStore {
 public:
  // Opens the log and the read models under options.data_dir, and starts
  // the projection thread (which first catches up from the checkpoint).
  // Errors: kNotFound (no data dir and !create_if_missing), kDataLoss
  // (not a jobtrail directory, or damaged), kInternal (I/O).
  static Result<std::unique_ptr<JobStore>> Open(const JobStoreOptions& options);
  virtual ~JobStore() = default;

  // Errors: kInvalidArgument/INVALID_INPUT; kAlreadyExists/JOB_EXISTS (a
  // given job_id that is taken, without the same idempotency key).
  // An idempotency_key already used by the same owner answers the original
  // job with duplicate=true.
  virtual Result<WriteOutcome> Enqueue(EnqueueRequest request) = 0;

  // Errors: kNotFound/JOB_NOT_FOUND; kAborted/VERSION_CONFLICT (message
  // names the current version); kFailedPrecondition/INVALID_TRANSITION,
  // NO_ATTEMPTS_LEFT, ATTEMPT_MISMATCH; kInvalidArgument/INVALID_INPUT.
  // Nothing is appended on any error.
  virtual Result<WriteOutcome> Append(AppendRequest request) = 0;

  // Runs each command as Enqueue or Append would and answers each in order,
  // but hands every write that passes its checks to the log in one commit
  // (one atomic write, one sync). Commands to one job see the earlier ones
  // of the batch. An enqueue with a unique key runs on its own first (its
  // key is taken under a lock).
  virtual std::vector<Result<WriteOutcome>> WriteMany(std::vector<WriteCommand> commands) = 0;

  // The status document (projections/job_json.h), as stored.
  // Errors: kNotFound/JOB_NOT_FOUND.
  virtual Result<std::string> StatusJson(std::string_view job_id) = 0;
  // The same document with its metadata. Errors: kNotFound/JOB_NOT_FOUND.
  virtual Result<StatusDocument> Status(std::string_view job_id) = 0;
  // The job folded from its log, as of `at_version` (nullopt: latest).
  // Errors: kNotFound/JOB_NOT_FOUND, kNotFound/VERSION_NOT_FOUND.
  virtual Result<JobView> LoadJob(std::string_view job_id,
                                  std::optional<uint64_t> at_version) = 0;
  // The job's events, in order. Errors: kNotFound/JOB_NOT_FOUND (also for
  // an expired job).
  virtual Result<std::vector<RecordedEvent>> History(std::string_view job_id) = 0;
  // The job's events with version > after_version, at most `limit` (1..):
  // its history page by page, so a job of 100,000 events is never read in
  // one go. Errors: kNotFound/JOB_NOT_FOUND (also for an expired job).
  virtual Result<EventPage> ReadHistory(std::string_view job_id, uint64_t after_version,
                                        size_t limit) = 0;
  // Every event of the job, expired or not: the audit trail, for operators
  // (replay, export). Errors: kNotFound/JOB_NOT_FOUND.
  virtual Result<std::vector<RecordedEvent>> AuditHistory(std::string_view job_id) = 0;
  // The job's log lines at or above `min_level`, read from the logs read
  // model (no replay). Errors: kNotFound/JOB_NOT_FOUND.
  virtual Result<JobLogs> Logs(std::string_view job_id, LogLevel min_level) = 0;
  // Looks a job id up by its external reference (newest first).
  virtual Result<std::string> FindByExternalRef(std::string_view external_ref) = 0;
  // The global feed: events with position > after, at most limit.
  virtual Result<std::vector<RecordedEvent>> Feed(uint64_t after, size_t limit) = 0;

  // Errors: kInvalidArgument/INVALID_CURSOR, INVALID_INPUT.
  virtual Result<ListPage> List(const ListQuery& query) = 0;

  // Hands out up to max_jobs claimable jobs of the queue (pending or due
  // for retry, run-at reached), highest priority first, then oldest; each
  // gets a started event (actor = worker) with a lease. Two concurrent
  // claims never return the same job. Errors: kInvalidArgument.
  virtual Result<std::vector<ClaimedJob>> Claim(const ClaimRequest& request) = 0;
  // The worker's round trip: the appends (typically completing or failing
  // the jobs it holds) and the claim of the next jobs, in one commit. Each
  // append is answered as Append would; a failed append does not stop the
  // claim. Errors (of the whole call): kInvalidArgument for the claim.
  virtual Result<ClaimOutcome> AppendAndClaim(std::vector<AppendRequest> appends,
                                              const ClaimRequest& request) = 0;
  // Extends the lease of a running job held by this worker (a progressed
  // event with the new deadline) and says whether to keep working.
  // Errors: kNotFound/JOB_NOT_FOUND, kFailedPrecondition/LEASE_LOST.
  virtual Result<HeartbeatOutcome> Heartbeat(const HeartbeatRequest& request) = 0;
  // One maintenance pass: expire overdue leases (errored LeaseExpired, then
  // retried or failed by the retry policy, actor "system"), expire jobs
  // past their type's retention and, if asked, old final jobs (expired,
  // actor "system"), and count what is due. Safe to run concurrently with
  // everything else.
  virtual Result<MaintenanceReport> RunMaintenance(const MaintenanceOptions& options) = 0;

  // Schedules (projections/schedule_book.h). Errors: kInvalidArgument,
  // kNotFound/SCHEDULE_NOT_FOUND.
  virtual Result<std::vector<ScheduleView>> ListSchedules() = 0;
  virtual Result<ScheduleView> GetSchedule(std::string_view name) = 0;
  virtual Result<ScheduleView> PutSchedule(ScheduleSpec spec) = 0;
  virtual Result<void> DeleteSchedule(std::string_view name) = 0;
  // Enqueues a run of the schedule's job type now (labelled trigger=manual).
  virtual Result<WriteOutcome> TriggerSchedule(std::string_view name,
                                               const std::string& actor) = 0;
  // Fires every schedule that is due by the clock (actor "system"); returns
  // how many runs were enqueued.
  virtual Result<size_t> RunDueSchedules() = 0;
  virtual StatsSnapshot Stats() = 0;
  virtual HealthReport Health() = 0;
  virtual ProjectionProgress Progress() = 0;
  virtual const Clock& clock() const = 0;

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
};

}  // namespace jobtrail
