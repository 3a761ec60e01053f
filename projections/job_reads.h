#pragma once
// JobReads: the reads of the application service (JobStore, job_store.h),
// served from the read models (RocksDB under <data-dir>/views), which a
// projection thread keeps up to date from a log subscription: status
// documents, history, logs, lists, the feed, stats, health, and the store's
// clock. What routes that only look need.
// Thread-safe: every method may be called from any thread.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/clock.h"
#include "domain/error.h"
#include "domain/job_event.h"
#include "domain/job_view.h"
#include "projections/list_query.h"
#include "projections/stats_snapshot.h"
#include "projections/store_vitals.h"

namespace jobtrail {

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

struct ProjectionProgress {
  uint64_t log_position = 0;        // last committed in the log
  uint64_t projected_position = 0;  // last applied to the read models
  bool ready = false;               // caught up since start
  // How long the oldest event not yet applied has been committed; 0 when
  // caught up. (All read models are applied together, in one batch with
  // one checkpoint, so they share the position and the lag.)
  uint64_t lag_ms = 0;
  ProjectionState state = ProjectionState::kRunning;
};

// One page of a webhook subscription's delivery attempts, newest first
// (JobReads::WebhookAttempts).
struct WebhookAttemptPage {
  std::vector<std::string> attempts_json;  // RenderWebhookAttemptJson's bytes
  uint64_t next_before = 0;                // the next page's `before`; 0: none
};

class JobReads {
 public:
  virtual ~JobReads() = default;

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
  // The job's log lines at or above `min_level`, read from the logs read
  // model (no replay). Errors: kNotFound/JOB_NOT_FOUND.
  virtual Result<JobLogs> Logs(std::string_view job_id, LogLevel min_level) = 0;
  // Looks a job id up by its external reference (newest first).
  virtual Result<std::string> FindByExternalRef(std::string_view external_ref) = 0;
  // The global feed: events with position > after, at most limit.
  virtual Result<std::vector<RecordedEvent>> Feed(uint64_t after, size_t limit) = 0;
  // The delivery attempts recorded for a webhook subscription (its
  // webhook_attempted events), newest first: those at log positions below
  // `before` (0: from the newest), at most `limit` (1..). From the read
  // models; an id without attempts gives an empty page. Errors: kInternal.
  virtual Result<WebhookAttemptPage> WebhookAttempts(std::string_view webhook_id,
                                                     uint64_t before, size_t limit) = 0;

  // Errors: kInvalidArgument/INVALID_CURSOR, INVALID_INPUT.
  virtual Result<ListPage> List(const ListQuery& query) = 0;
  virtual StatsSnapshot Stats() = 0;
  virtual HealthReport Health() = 0;
  virtual ProjectionProgress Progress() = 0;
  // Storage health, commit figures, claim counts (store_vitals.h). The
  // default (for decorators in tests) reports nothing wrong.
  virtual StoreVitals Vitals() { return {}; }
  // Blocks until the read models have applied a position after `after`, or
  // `timeout` passed; returns the projected position then. Live readers
  // (http/live: long-polls, event streams) wake on it: once it returns P,
  // reads show every event up to P. This default polls Progress(); the
  // RocksDB store wakes on its projection thread's progress.
  virtual uint64_t AwaitProjected(uint64_t after, std::chrono::milliseconds timeout);
  virtual const Clock& clock() const = 0;
};

}  // namespace jobtrail
