#pragma once
// The job aggregate: everything known about one job, folded from its events.
// It is both the write-side state the state machine checks transitions
// against and the source of the status read model.
//
// Pure code: no I/O, no clock. Thread-compatible (no internal locking).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/error.h"
#include "domain/job_event.h"
#include "domain/job_status.h"

namespace jobtrail {

struct ErrorEntry {
  Millis timestamp = 0;
  int32_t attempt = 0;
  std::string error_type;
  std::string message;
  std::string stack;
  std::string stage;
  std::vector<Artifact> artifacts;
  bool operator==(const ErrorEntry&) const = default;
};

struct FinalError {
  Millis timestamp = 0;
  std::string reason;
  std::string error_type;
  std::string stack;
  bool operator==(const FinalError&) const = default;
};

struct LogLine {
  uint64_t seq = 0;  // 1, 2, 3... within the job
  uint64_t version = 0;
  Millis timestamp = 0;
  LogLevel level = LogLevel::kInfo;
  std::string message;
  std::string details_json;
  Labels subjects;
  bool operator==(const LogLine&) const = default;
};

struct JobView {
  std::string job_id;
  JobStatus status = JobStatus::kNone;
  uint64_t version = 0;
  uint64_t last_position = 0;
  uint64_t created_position = 0;  // of the enqueued event: creation order

  Enqueued spec;  // what the job was enqueued with

  int32_t attempts = 0;  // attempts started so far
  std::string worker_id;
  std::optional<Millis> lease_deadline;

  std::optional<double> progress;
  std::string message;
  std::string step;
  ItemCounts items;

  std::vector<ErrorEntry> errors;
  // Only the count and the newest log line: the aggregate stays the same
  // size however many lines a job logs, so an append costs the same at the
  // 100,000th event as at the 10th. The lines are in the logs read model
  // (and in the log: LogLinesOf).
  uint64_t log_count = 0;
  std::optional<LogLine> last_log;
  std::optional<FinalError> final_error;
  std::string result_json;
  std::string cancel_reason;
  std::string cancelled_by;

  Millis created_at = 0;
  Millis updated_at = 0;
  std::optional<Millis> started_at;       // first attempt
  std::optional<Millis> last_attempt_at;  // latest attempt
  std::optional<Millis> completed_at;
  std::optional<Millis> failed_at;
  std::optional<Millis> cancelled_at;
  std::optional<Millis> finished_at;  // any final state
  std::optional<Millis> next_retry_at;
  // Extrapolated from the latest progress report: when the job will be done
  // at the rate it has progressed since it started.
  std::optional<Millis> estimated_completion_at;
  // Set by an expired event: the read models no longer hold the job (its
  // status stays what it was).
  std::optional<Millis> expired_at;
  std::string expired_reason;

  int32_t RetriesLeft() const {
    return spec.max_attempts > attempts ? spec.max_attempts - attempts : 0;
  }
  const ErrorEntry* LastError() const {
    return errors.empty() ? nullptr : &errors.back();
  }
  // Wall time of the finished job from first start to its final event.
  std::optional<Millis> ProcessingTime() const;

  bool operator==(const JobView&) const = default;
};

// Checks that `body` may be applied to `job` now. Errors:
//   kFailedPrecondition/INVALID_TRANSITION  not allowed in the job's state
//   kFailedPrecondition/NO_ATTEMPTS_LEFT    retry beyond max attempts
//   kFailedPrecondition/ATTEMPT_MISMATCH    an attempt number that is not
//                                           the current (or next) attempt
//   kInvalidArgument/INVALID_INPUT          a field out of range
//   kNotFound/JOB_NOT_FOUND                 the job has expired
Result<void> CheckTransition(const JobView& job, const EventBody& body);

// The status an event of this kind moves its job into (enqueued: pending,
// started: running, retried: retrying, completed, failed, cancelled);
// nullopt for the kinds that leave the status as it is (progress, log
// lines, errors, expiry, webhook attempts). Live streams and webhooks
// filter by it.
std::optional<JobStatus> StatusEnteredBy(EventKind kind);

// Applies an event that CheckTransition accepted (it checks again and
// returns the same errors, leaving `job` unchanged on error). Also:
//   kDataLoss/DATA_LOSS  event.version is not job.version + 1 (checked first)
Result<void> ApplyEvent(JobView& job, const RecordedEvent& event);

// The log lines of a job's events, numbered as the fold numbers them.
std::vector<LogLine> LogLinesOf(const std::vector<RecordedEvent>& events);

// Folds a whole stream, in order, from an empty job.
Result<JobView> FoldEvents(const std::vector<RecordedEvent>& events);

}  // namespace jobtrail
