// RocksJobStore's projection thread and what it reports: it applies the log
// to the read models batch by batch. A batch the views cannot store for
// want of storage (a full disk, I/O errors: STORAGE_UNAVAILABLE) is applied
// again once the views' database has recovered (kBlocked meanwhile: writes
// are refused, reads go on, nothing is lost since the events are in the
// log). Any other failure (an event that does not decode or fold, damaged
// views) stops it for good, loudly: an error in the log, the state kFailed
// in /metrics and /readyz, and every write refused with PROJECTION_FAILED,
// so stale read models are never served as if they were current.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "projections/rocks_job_store.h"

namespace jobtrail {
namespace {

constexpr size_t kProjectionBatch = 2048;
constexpr auto kProjectionPoll = std::chrono::milliseconds(200);
constexpr auto kReadYourWritesTimeout = std::chrono::seconds(30);
// While blocked, how long to wait for the views to recover before trying
// the batch again anyway.
constexpr auto kBlockedRetry = std::chrono::seconds(1);

Error ProjectionFailed() {
  return MakeError(Code::kUnavailable, "PROJECTION_FAILED",
                   "the read models stopped (see the server log); the store refuses writes "
                   "until it is restarted");
}

}  // namespace

std::string_view ProjectionStateName(ProjectionState state) {
  switch (state) {
    case ProjectionState::kRunning: return "running";
    case ProjectionState::kBlocked: return "blocked";
    case ProjectionState::kFailed: return "failed";
  }
  return "failed";
}

void RocksJobStore::StartProjection() {
  stop_ = false;
  ready_at_ = log_->LastPosition();
  ready_ = projector_->checkpoint() >= ready_at_;
  SetProjectionState(ProjectionState::kRunning);
  {
    std::lock_guard step(step_mu_);
    unapplied_.clear();
    subscription_ = log_->Subscribe(projector_->checkpoint());
  }
  projection_thread_ = std::thread([this] { ProjectionLoop(); });
}

void RocksJobStore::StopProjection() {
  stop_ = true;
  {
    std::lock_guard lock(progress_mu_);  // a WaitForWork between its check and its sleep
    work_wanted_ = true;
  }
  work_cv_.notify_all();
  if (subscription_) subscription_->Cancel();  // (Cancel is thread-safe)
  if (rocks_log_ != nullptr) rocks_log_->WakeWaiters();
  if (views_recovery_) views_recovery_->Wake();
  if (projection_thread_.joinable()) projection_thread_.join();
  std::lock_guard step(step_mu_);  // no writer is applying past here
  subscription_.reset();
  unapplied_.clear();
}

void RocksJobStore::SetProjectionState(ProjectionState state) {
  projection_state_.store(int(state), std::memory_order_release);
}

ProjectionState RocksJobStore::projection_state() const {
  return ProjectionState(projection_state_.load(std::memory_order_acquire));
}

RocksJobStore::StepOutcome RocksJobStore::ProjectStep(std::chrono::milliseconds wait) {
  // Stopped for good (by whichever thread met the failure) stays stopped.
  if (projection_state() == ProjectionState::kFailed) return StepOutcome::kFailed;
  if (unapplied_.empty()) {
    auto batch = subscription_->Next(kProjectionBatch, wait);
    if (!batch) {
      StopProjectionForGood(fmt::format("reading the log failed: {}", batch.error().message));
      return StepOutcome::kFailed;
    }
    if (batch.value().empty()) {
      if (subscription_->position() > projected_position()) SkipArchivedRange();
      return StepOutcome::kIdle;
    }
    unapplied_ = std::move(batch).value();
  }
  Result<void> applied = Ok();
  uint64_t checkpoint = 0;
  {
    std::lock_guard lock(projector_mu_);
    applied = projector_->ApplyBatch(unapplied_);
    if (!applied) {
      // ApplyBatch moved its checkpoint and stats ahead of what was
      // stored: take them back from the views before any retry.
      if (auto reloaded = projector_->Load(); !reloaded) {
        applied = reloaded.error();
      }
    }
    checkpoint = projector_->checkpoint();
  }
  if (applied) {
    unapplied_.clear();
    const bool was_blocked = projection_state() == ProjectionState::kBlocked;
    {
      std::lock_guard lock(progress_mu_);
      projected_ = checkpoint;
      if (projected_ >= ready_at_) ready_ = true;
      SetProjectionState(ProjectionState::kRunning);
    }
    progress_cv_.notify_all();
    if (was_blocked) {
      spdlog::warn("projection: the read models are written again, at position {}", checkpoint);
    }
    return StepOutcome::kApplied;
  }
  projection_errors_.fetch_add(1, std::memory_order_relaxed);
  if (applied.error().reason != "STORAGE_UNAVAILABLE") {
    StopProjectionForGood(applied.error().ToString());
    return StepOutcome::kFailed;
  }
  if (projection_state() != ProjectionState::kBlocked) {
    spdlog::error("projection blocked: the read models cannot be written (storage "
                  "unavailable) at position {}; writes are refused until they can",
                  checkpoint + 1);
    {
      std::lock_guard lock(progress_mu_);
      SetProjectionState(ProjectionState::kBlocked);
    }
    progress_cv_.notify_all();
  }
  // RocksDB has stopped the views (the recovery knows); if not, make it
  // try a resume anyway.
  if (views_recovery_->writable()) {
    views_recovery_->ReportFailure(rocksdb::Status::IOError("a read-model write failed"));
  }
  return StepOutcome::kBlocked;
}

// On the embedded log the thread waits without holding step_mu_, so that a
// writer waiting for its own write may apply it first (HelpProject), and
// for what the committing threads leave it (WaitForWork), not for every
// commit; on a shared log it waits inside Next, as only it applies.
void RocksJobStore::ProjectionLoop() {
  while (!stop_ && projection_state() != ProjectionState::kFailed) {
    bool have_unapplied = false;
    uint64_t after = 0;
    {
      std::lock_guard step(step_mu_);
      have_unapplied = !unapplied_.empty();
      after = subscription_->position();
    }
    if (rocks_log_ != nullptr && !have_unapplied) WaitForWork(after);
    StepOutcome outcome = StepOutcome::kIdle;
    {
      std::unique_lock step(step_mu_, std::defer_lock);
      if (rocks_log_ == nullptr) {
        step.lock();
      } else if (!step.try_lock()) {
        // A writer is applying: wait for its step to end, not on the lock.
        (void)AwaitProjected(projected_position(), kProjectionPoll);
        continue;
      }
      if (stop_) break;
      outcome = ProjectStep(rocks_log_ != nullptr ? std::chrono::milliseconds(0)
                                                  : kProjectionPoll);
    }
    if (outcome == StepOutcome::kFailed) return;
    if (outcome == StepOutcome::kBlocked ||
        (have_unapplied && projection_state() == ProjectionState::kBlocked)) {
      views_recovery_->WaitWritable(std::chrono::steady_clock::now() + kBlockedRetry, &stop_);
    }
  }
}

// Read-your-writes without a hand-off: the writer whose write is committed
// applies everything committed so far (its group's writes and any others)
// unless the projection thread or another writer is at it, in which case
// it waits for them as before. One thread wake-up less per write, and no
// wait for the projection thread to be scheduled.
void RocksJobStore::HelpProject(uint64_t position,
                                std::chrono::steady_clock::time_point deadline) {
  if (rocks_log_ == nullptr) return;
  {
    std::lock_guard lock(progress_mu_);
    if (projected_ >= position || projection_state() != ProjectionState::kRunning) return;
  }
  std::unique_lock step(step_mu_, std::try_to_lock);
  if (!step.owns_lock() || stop_ || !subscription_) return;
  // A long catch-up (the views were blocked a while) is the thread's: a
  // writer helps no longer than it would have waited.
  while (projected_position() < position && std::chrono::steady_clock::now() < deadline) {
    if (ProjectStep(std::chrono::milliseconds(0)) != StepOutcome::kApplied) return;
  }
}

// Called by the log's committing thread before it wakes the group's
// appenders: each of them would call WaitProjected on waking, one would
// apply the group and the others sleep again until it had; applied first,
// they sleep once. Bounded as a writer's help is.
void RocksJobStore::ProjectCommitted(uint64_t committed) {
  HelpProject(committed, std::chrono::steady_clock::now() + kReadYourWritesTimeout);
  {
    std::lock_guard lock(progress_mu_);
    if (projected_ >= committed || projection_state() != ProjectionState::kRunning) return;
    work_wanted_ = true;
  }
  work_cv_.notify_one();
}

// Every commit of the embedded log reaches the commit hook, whose thread
// applies it (ProjectCommitted): woken at each commit as well, this thread
// raced that one for it, and whenever it won, the group's appenders woke to
// their writes not yet applied and slept a second time. It is woken when
// the hook could not apply (another step held the views), at a stop, and
// every kProjectionPoll, and goes on at once while the log is ahead of the
// subscription (a catch-up, a blocked batch).
void RocksJobStore::WaitForWork(uint64_t after) {
  std::unique_lock lock(progress_mu_);
  work_cv_.wait_until(lock, std::chrono::steady_clock::now() + kProjectionPoll, [&] {
    return work_wanted_ || stop_ || rocks_log_->LastPosition() > std::max(after, projected_);
  });
  work_wanted_ = false;
}

// The subscription moved past a range the log archived (compaction) with
// nothing to hand over: so do the read models, or they would never reach
// the log's head.
void RocksJobStore::SkipArchivedRange() {
  Result<bool> skipped = false;
  uint64_t checkpoint = 0;
  {
    std::lock_guard lock(projector_mu_);
    skipped = projector_->SkipArchived();
    checkpoint = projector_->checkpoint();
  }
  if (!skipped) {
    if (skipped.error().reason == "STORAGE_UNAVAILABLE") return;  // the next round retries
    StopProjectionForGood(skipped.error().ToString());
    stop_ = true;
    return;
  }
  {
    std::lock_guard lock(progress_mu_);
    projected_ = checkpoint;
    if (projected_ >= ready_at_) ready_ = true;
  }
  progress_cv_.notify_all();
}

uint64_t RocksJobStore::projected_position() {
  std::lock_guard lock(progress_mu_);
  return projected_;
}

void RocksJobStore::StopProjectionForGood(const std::string& why) {
  spdlog::error("projection stopped for good: {}. The read models stay at position {} and "
                "the store refuses writes (PROJECTION_FAILED) until it is restarted; "
                "`jobtrail verify` and `jobtrail rebuild` help find and fix the cause",
                why, projector_checkpoint());
  {
    std::lock_guard lock(progress_mu_);
    projection_error_ = why;
    SetProjectionState(ProjectionState::kFailed);
  }
  progress_cv_.notify_all();
}

uint64_t RocksJobStore::projector_checkpoint() {
  std::lock_guard lock(projector_mu_);
  return projector_ ? projector_->checkpoint() : 0;
}

Result<void> RocksJobStore::WaitProjected(uint64_t position) {
  const auto deadline = std::chrono::steady_clock::now() + kReadYourWritesTimeout;
  HelpProject(position, deadline);
  std::unique_lock lock(progress_mu_);
  progress_cv_.wait_until(lock, deadline, [&] {
    return projected_ >= position || projection_state() != ProjectionState::kRunning;
  });
  if (projected_ >= position) return Ok();
  switch (projection_state()) {
    case ProjectionState::kFailed:
      return ProjectionFailed();
    case ProjectionState::kBlocked:
      // Durable in the log; it shows once the views can be written. The
      // client's retry (same ids) then answers the outcome.
      return StorageUnavailable();
    case ProjectionState::kRunning:
      break;
  }
  return MakeError(Code::kUnavailable, "PROJECTION_LAGGING",
                   "the write is durable but the read models have not caught up yet");
}

Result<void> RocksJobStore::CheckWritable() {
  switch (projection_state()) {
    case ProjectionState::kFailed: return ProjectionFailed();
    case ProjectionState::kBlocked: return StorageUnavailable();
    case ProjectionState::kRunning: break;
  }
  // A shared log without a primary (a failover): refused before any work,
  // as a full disk is; its connections come back by themselves.
  if ((rocks_log_ != nullptr && !rocks_log_->writable()) ||
      (log_health_ && !log_health_().writable) ||
      (views_recovery_ && !views_recovery_->writable())) {
    return StorageUnavailable();
  }
  return Ok();
}

ProjectionProgress RocksJobStore::Progress() {
  ProjectionProgress p;
  {
    std::lock_guard lock(progress_mu_);
    p.log_position = log_->LastPosition();
    p.projected_position = projected_;
    p.ready = ready_.load();
    p.state = projection_state();
  }
  if (p.projected_position < p.log_position && rocks_log_ != nullptr) {
    if (auto at = rocks_log_->CommittedAt(p.projected_position + 1)) {
      const auto age = std::chrono::steady_clock::now() - *at;
      p.lag_ms = uint64_t(std::max<int64_t>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(age).count()));
    }
  }
  return p;
}

uint64_t RocksJobStore::AwaitProjected(uint64_t after, std::chrono::milliseconds timeout) {
  // The projection thread notifies progress_cv_ after every applied batch.
  // A projection stopped (failed, or blocked on storage) makes no progress:
  // callers wait out their timeout (no spinning) and see the same position.
  std::unique_lock lock(progress_mu_);
  progress_cv_.wait_for(lock, timeout, [&] { return projected_ > after; });
  return projected_;
}

StoreVitals RocksJobStore::Vitals() {
  StoreVitals v;
  // A shared log's storage is PostgreSQL's: this node reports its views.
  eventstore::LogVitals log =
      rocks_log_ != nullptr ? rocks_log_->Vitals() : eventstore::LogVitals{};
  v.log_storage = log_health_ ? log_health_() : std::move(log.storage);
  v.group_events = std::move(log.group_events);
  v.sync_seconds = std::move(log.sync_seconds);
  v.pending_appends = log.pending_appends;
  if (views_recovery_) v.views_storage = views_recovery_->Health();
  v.jobs_claimed = jobs_claimed_.load(std::memory_order_relaxed);
  v.claims_per_second = claims_rate_.PerSecond();
  v.projection_errors = projection_errors_.load(std::memory_order_relaxed);
  return v;
}

void RocksJobStore::CountClaimed(size_t jobs) {
  if (jobs == 0) return;
  jobs_claimed_.fetch_add(jobs, std::memory_order_relaxed);
  claims_rate_.Add(jobs);
}

}  // namespace jobtrail
