// The health read model: derived at request time from the stats state, the
// pending index and the lease index, so that "now" is the caller's clock.
#include <fmt/format.h>

#include "projections/rocks_job_store.h"
#include "projections/view_keys.h"

namespace jobtrail {
namespace vk = view_keys;
namespace {

constexpr size_t kStuckListed = 20;
constexpr uint64_t kStuckCountLimit = 10000;
constexpr Millis kPendingWarnMs = 15 * 60 * 1000;
constexpr Millis kPendingCriticalMs = 60 * 60 * 1000;
constexpr uint64_t kDepthWarn = 1000;
constexpr uint64_t kDepthCritical = 10000;
constexpr double kErrorRateWarn = 0.2;
constexpr double kErrorRateCritical = 0.5;
constexpr uint64_t kMinStartsForRate = 10;

void Raise(HealthReport& h, HealthLevel level) {
  if (int(level) > int(h.level)) h.level = level;
}

}  // namespace

HealthReport RocksJobStore::Health() {
  HealthReport h;
  h.now = clock_->Now();
  uint64_t pending_jobs = 0;
  {
    std::lock_guard lock(projector_mu_);
    const StatsState& stats = projector_->stats();
    const StatsSnapshot snap = stats.Snapshot();
    h.queue_depth = snap.by_status[size_t(JobStatus::kPending)] +
                    snap.by_status[size_t(JobStatus::kRetrying)];
    h.running = snap.by_status[size_t(JobStatus::kRunning)];
    pending_jobs = snap.by_status[size_t(JobStatus::kPending)];
    const Millis hour = HourStart(h.now);
    const uint64_t started = stats.StartedInHour(hour) + stats.StartedInHour(hour - kHourMs);
    h.errors_last_hour = stats.ErroredInHour(hour) + stats.ErroredInHour(hour - kHourMs);
    h.finished_last_hour = stats.FinishedInHour(hour) + stats.FinishedInHour(hour - kHourMs);
    h.error_rate = started == 0 ? 0.0 : double(h.errors_last_hour) / double(started);
    if (started < kMinStartsForRate) h.error_rate = started == 0 ? 0.0 : h.error_rate;
  }

  // The oldest pending job is the first row of the pending index; with no
  // pending job there is nothing to seek. (Jobs only pass through it, so it
  // holds many deleted rows until compaction, and a rebuild's runs leave
  // deletes there too: seeking over them took 160-350 ms at 300,000 jobs.)
  if (pending_jobs > 0) {
    rocksdb::ReadOptions ro;
    std::unique_ptr<rocksdb::Iterator> it(views_->NewIterator(ro));
    const std::string pending =
        vk::IndexPrefix(vk::kDimStatus, StatusName(JobStatus::kPending), 'c');
    it->Seek(pending);
    if (it->Valid() && it->key().starts_with(pending) && it->key().size() >= pending.size() + 8) {
      const Millis created =
          vk::TimeFromSortable(vk::DecodeU64(it->key().ToStringView().substr(pending.size())));
      h.oldest_pending_age = std::max<Millis>(0, h.now - created);
    }
  }
  LeaseIndex::Overdue stuck =
      leases_.Before(h.now - options_.stuck_grace_ms, kStuckCountLimit, kStuckListed);
  h.stuck = stuck.count;
  h.stuck_job_ids = std::move(stuck.ids);

  if (h.stuck > 0) {
    Raise(h, h.stuck >= 10 ? HealthLevel::kCritical : HealthLevel::kWarning);
    h.alerts.push_back(fmt::format("{} running job(s) are past their lease deadline", h.stuck));
    h.recommendations.push_back(
        "Check that workers are alive and heartbeating; stuck jobs are retried when their "
        "lease expires.");
  }
  if (h.error_rate > kErrorRateWarn) {
    Raise(h, h.error_rate > kErrorRateCritical ? HealthLevel::kCritical : HealthLevel::kWarning);
    h.alerts.push_back(
        fmt::format("error rate {:.0f}% over the last hour", h.error_rate * 100.0));
    h.recommendations.push_back("Inspect the most recent error logs (GET /v1/jobs?status=failed).");
  }
  if (h.oldest_pending_age && *h.oldest_pending_age > kPendingWarnMs) {
    Raise(h, *h.oldest_pending_age > kPendingCriticalMs ? HealthLevel::kCritical
                                                        : HealthLevel::kWarning);
    h.alerts.push_back(fmt::format("oldest pending job has waited {} s",
                                   *h.oldest_pending_age / 1000));
    h.recommendations.push_back("Add workers or check that they claim from every queue.");
  }
  if (h.queue_depth > kDepthWarn) {
    Raise(h, h.queue_depth > kDepthCritical ? HealthLevel::kCritical : HealthLevel::kWarning);
    h.alerts.push_back(fmt::format("{} jobs are waiting", h.queue_depth));
    h.recommendations.push_back("Scale workers up: the queue grows faster than it drains.");
  }
  return h;
}

}  // namespace jobtrail
