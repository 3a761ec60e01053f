#include "domain/job_view.h"
#include "domain/names.h"

#include <fmt/format.h>

#include <cmath>

namespace jobtrail {
namespace {

Error IllegalTransition(const JobView& job, const EventBody& body) {
  return MakeError(
      Code::kFailedPrecondition, "INVALID_TRANSITION",
      fmt::format("cannot apply '{}' to a job that is '{}'",
                  EventKindName(KindOf(body)), StatusName(job.status)));
}

Result<void> CheckItems(const ItemCounts& items) {
  for (const auto& v : {items.processed, items.total, items.failed}) {
    if (v && *v < 0) return InvalidArgument("item counts must not be negative");
  }
  return Ok();
}

// Which states each event may be applied in (SPEC §3).
bool Allowed(JobStatus s, EventKind kind) {
  using S = JobStatus;
  switch (kind) {
    case EventKind::kEnqueued: return s == S::kNone;
    case EventKind::kStarted: return s == S::kPending || s == S::kRetrying;
    case EventKind::kProgressed:
    case EventKind::kErrored:
    case EventKind::kRetried:
    case EventKind::kCompleted:
    case EventKind::kFailed: return s == S::kRunning;
    case EventKind::kLogged:
    case EventKind::kCancelled:
      return s == S::kPending || s == S::kRunning || s == S::kRetrying;
    case EventKind::kExpired:
    case EventKind::kWebhookAttempted: return s != S::kNone;
  }
  return false;
}

struct Checker {
  const JobView& job;

  Result<void> operator()(const Enqueued& e) const {
    if (e.type.empty()) return InvalidArgument("type is required");
    BOOST_OUTCOME_TRYV(CheckEnqueuedNames(e));
    if (e.max_attempts < 1 || e.max_attempts > 1000) {
      return InvalidArgument("max_attempts must be between 1 and 1000");
    }
    return Ok();
  }
  // Starting (or scheduling) attempt `requested` (0: "the next one").
  Result<void> CheckNextAttempt(int32_t requested, std::string_view what) const {
    if (job.attempts >= job.spec.max_attempts) {
      return MakeError(Code::kFailedPrecondition, "NO_ATTEMPTS_LEFT",
                       fmt::format("all {} attempts are used",
                                   job.spec.max_attempts));
    }
    if (requested != 0 && requested != job.attempts + 1) {
      return MakeError(Code::kFailedPrecondition, "ATTEMPT_MISMATCH",
                       fmt::format("{} attempt {}, not {}", what,
                                   job.attempts + 1, requested));
    }
    return Ok();
  }
  Result<void> operator()(const Started& e) const {
    BOOST_OUTCOME_TRYV(CheckNextAttempt(e.attempt, "next is"));
    return Ok();
  }
  Result<void> operator()(const Progressed& e) const {
    if (e.percent && !(*e.percent >= 0.0 && *e.percent <= 100.0)) {
      return InvalidArgument("percent must be between 0 and 100");
    }
    return CheckItems(e.items);
  }
  Result<void> operator()(const Logged&) const { return Ok(); }
  Result<void> operator()(const Errored& e) const {
    if (e.attempt != 0 && e.attempt != job.attempts) {
      return MakeError(Code::kFailedPrecondition, "ATTEMPT_MISMATCH",
                       fmt::format("current attempt is {}, not {}",
                                   job.attempts, e.attempt));
    }
    return Ok();
  }
  Result<void> operator()(const Retried& e) const {
    const ErrorEntry* last = job.LastError();
    if (last == nullptr || last->attempt != job.attempts) {
      return MakeError(Code::kFailedPrecondition, "INVALID_TRANSITION",
                       "a retry must follow an error in the current attempt");
    }
    BOOST_OUTCOME_TRYV(CheckNextAttempt(e.attempt, "the retry runs"));
    if (e.backoff_ms < 0) return InvalidArgument("backoff must not be negative");
    return Ok();
  }
  Result<void> operator()(const Completed& e) const {
    return CheckItems(e.items);
  }
  Result<void> operator()(const Failed&) const { return Ok(); }
  Result<void> operator()(const Cancelled&) const {
    return Ok();
  }
  Result<void> operator()(const Expired&) const { return Ok(); }
  Result<void> operator()(const WebhookAttempted& e) const {
    if (e.delivery_id.empty()) return InvalidArgument("delivery_id is required");
    if (e.attempt < 1) return InvalidArgument("attempt must be at least 1");
    if (e.event_version < 1 || e.event_version > job.version) {
      return InvalidArgument("event_version must name an earlier event of the job");
    }
    if (e.status_code < 0 || e.status_code > 999) {
      return InvalidArgument("status_code must be between 0 and 999");
    }
    if (e.duration_ms < 0) return InvalidArgument("duration_ms must not be negative");
    if ((e.outcome == WebhookOutcome::kRetrying) != e.next_attempt_at.has_value()) {
      return InvalidArgument("next_attempt_at is set exactly when the outcome is retrying");
    }
    return Ok();
  }
};

void MergeItems(ItemCounts& into, const ItemCounts& from) {
  if (from.processed) into.processed = from.processed;
  if (from.total) into.total = from.total;
  if (from.failed) into.failed = from.failed;
}

struct Applier {
  JobView& job;
  const RecordedEvent& ev;

  void operator()(const Enqueued& e) {
    job.job_id = ev.job_id;
    job.spec = e;
    job.status = JobStatus::kPending;
    job.created_at = ev.timestamp;
    job.created_position = ev.position;
  }
  void operator()(const Started& e) {
    job.status = JobStatus::kRunning;
    job.attempts += 1;
    job.worker_id = e.worker_id;
    job.lease_deadline = e.lease_deadline;
    if (!job.started_at) job.started_at = ev.timestamp;
    job.last_attempt_at = ev.timestamp;
    job.next_retry_at.reset();
  }
  void operator()(const Progressed& e) {
    if (e.percent) {
      job.progress = e.percent;
      if (*e.percent > 0.0 && job.started_at) {
        const double elapsed = double(ev.timestamp - *job.started_at);
        const double remaining = elapsed * (100.0 - *e.percent) / *e.percent;
        // A tiny percent extrapolates past what Millis can hold (llround of
        // such a double is undefined); that estimate means nothing, and the
        // previous one is no longer true.
        constexpr double kMaxRemainingMs = 1e15;  // ~31,700 years
        if (std::fabs(remaining) < kMaxRemainingMs) {
          job.estimated_completion_at =
              ev.timestamp + Millis(std::llround(remaining));
        } else {
          job.estimated_completion_at.reset();
        }
      }
    }
    if (!e.message.empty()) job.message = e.message;
    if (!e.step.empty()) job.step = e.step;
    MergeItems(job.items, e.items);
    if (e.lease_deadline) job.lease_deadline = e.lease_deadline;
  }
  void operator()(const Logged& e) {
    job.last_log = LogLine{job.log_count + 1, ev.version, ev.timestamp,
                           e.level, e.message, e.details_json, e.subjects};
    ++job.log_count;
  }
  void operator()(const Errored& e) {
    job.errors.push_back(ErrorEntry{ev.timestamp, job.attempts, e.error_type,
                                    e.message, e.stack, e.stage, e.artifacts});
    job.message = e.message;
  }
  void operator()(const Retried& e) {
    job.status = JobStatus::kRetrying;
    job.next_retry_at = e.next_run_at;
    job.worker_id.clear();
    job.lease_deadline.reset();
  }
  void operator()(const Completed& e) {
    job.status = JobStatus::kCompleted;
    job.result_json = e.result_json;
    MergeItems(job.items, e.items);
    job.progress = 100.0;
    job.completed_at = ev.timestamp;
    Finish();
  }
  void operator()(const Failed& e) {
    job.status = JobStatus::kFailed;
    FinalError fe{ev.timestamp, e.reason, e.error_type, e.stack};
    // A bare "failed" inherits the last error, so the final error is never
    // less informative than the error logs.
    if (const ErrorEntry* last = job.LastError()) {
      if (fe.reason.empty()) fe.reason = last->message;
      if (fe.error_type.empty()) fe.error_type = last->error_type;
      if (fe.stack.empty()) fe.stack = last->stack;
    }
    job.message = fe.reason;
    job.final_error = std::move(fe);
    job.failed_at = ev.timestamp;
    Finish();
  }
  void operator()(const Cancelled& e) {
    job.status = JobStatus::kCancelled;
    job.cancel_reason = e.reason;
    job.cancelled_by = e.by;
    job.cancelled_at = ev.timestamp;
    Finish();
  }
  void operator()(const Expired& e) {
    job.expired_at = ev.timestamp;
    job.expired_reason = e.reason;
    job.lease_deadline.reset();
    job.next_retry_at.reset();
    job.estimated_completion_at.reset();
  }
  // An attempt record is audit only: the job itself does not change.
  void operator()(const WebhookAttempted&) {}
  void Finish() {
    job.finished_at = ev.timestamp;
    job.next_retry_at.reset();
    job.lease_deadline.reset();
    job.estimated_completion_at.reset();
  }
};

}  // namespace

std::optional<Millis> JobView::ProcessingTime() const {
  if (!finished_at || !started_at) return std::nullopt;
  return *finished_at - *started_at;
}

Result<void> CheckTransition(const JobView& job, const EventBody& body) {
  // An expired job is gone for everyone but the audit log.
  if (job.expired_at) {
    return NotFound("JOB_NOT_FOUND", fmt::format("job '{}' not found", job.job_id));
  }
  if (!Allowed(job.status, KindOf(body))) return IllegalTransition(job, body);
  return std::visit(Checker{job}, body);
}

Result<void> ApplyEvent(JobView& job, const RecordedEvent& event) {
  // A gap in the stream is reported before the transition: with an event
  // missing, the next one usually looks illegal too, and the damaged log is
  // the real problem.
  if (event.version != job.version + 1) {
    return DataLoss(fmt::format("job {}: event version {} follows version {}",
                                event.job_id, event.version, job.version));
  }
  BOOST_OUTCOME_TRYV(CheckTransition(job, event.body));
  std::visit(Applier{job, event}, event.body);
  job.version = event.version;
  job.last_position = event.position;
  job.updated_at = event.timestamp;
  return Ok();
}

std::vector<LogLine> LogLinesOf(const std::vector<RecordedEvent>& events) {
  std::vector<LogLine> lines;
  for (const RecordedEvent& e : events) {
    if (const auto* logged = std::get_if<Logged>(&e.body)) {
      lines.push_back(LogLine{lines.size() + 1, e.version, e.timestamp, logged->level,
                              logged->message, logged->details_json, logged->subjects});
    }
  }
  return lines;
}

Result<JobView> FoldEvents(const std::vector<RecordedEvent>& events) {
  JobView job;
  for (const RecordedEvent& e : events) {
    BOOST_OUTCOME_TRYV(ApplyEvent(job, e));
  }
  return job;
}

std::optional<JobStatus> StatusEnteredBy(EventKind kind) {
  switch (kind) {
    case EventKind::kEnqueued: return JobStatus::kPending;
    case EventKind::kStarted: return JobStatus::kRunning;
    case EventKind::kRetried: return JobStatus::kRetrying;
    case EventKind::kCompleted: return JobStatus::kCompleted;
    case EventKind::kFailed: return JobStatus::kFailed;
    case EventKind::kCancelled: return JobStatus::kCancelled;
    case EventKind::kProgressed:
    case EventKind::kLogged:
    case EventKind::kErrored:
    case EventKind::kExpired:
    case EventKind::kWebhookAttempted:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace jobtrail
