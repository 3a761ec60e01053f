#include "http/v1/metrics.h"

#include <fmt/format.h>

#include <iterator>

#include "domain/job_status.h"
#include "http/server/work_pool.h"

namespace jobtrail::http {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

}  // namespace

void Metrics::RecordEnqueue(bool duplicate) {
  (duplicate ? enqueue_duplicates_ : enqueued_).fetch_add(1, kRelaxed);
  if (!duplicate) appended_[int(EventKind::kEnqueued)].fetch_add(1, kRelaxed);
}

void Metrics::RecordAppend(const EventKindCounts& appended) {
  for (int k = 0; k < kEventKindCount; ++k) {
    if (appended[k] != 0) appended_[k].fetch_add(appended[k], kRelaxed);
  }
}

std::string Metrics::Render(const ProjectionProgress& progress, const StatsSnapshot& stats,
                            const StoreVitals& vitals, const Readiness& readiness) const {
  std::string out;
  out.reserve(16 * 1024);
  RenderRequests(out);
  auto it = std::back_inserter(out);

  MetricHeader(out, "jobtrail_jobs_enqueued_total", "counter",
               "Jobs enqueued through this server (idempotent repeats excluded).");
  fmt::format_to(it, "jobtrail_jobs_enqueued_total {}\n", enqueued_.load(kRelaxed));
  MetricHeader(out, "jobtrail_enqueue_duplicates_total", "counter",
               "Enqueues answered from an earlier request with the same idempotency key.");
  fmt::format_to(it, "jobtrail_enqueue_duplicates_total {}\n",
                 enqueue_duplicates_.load(kRelaxed));
  MetricHeader(out, "jobtrail_events_appended_total", "counter",
               "Events appended through this server, by event type.");
  for (int k = 0; k < kEventKindCount; ++k) {
    fmt::format_to(it, "jobtrail_events_appended_total{{type=\"{}\"}} {}\n",
                   EventKindName(EventKind(k)), appended_[k].load(kRelaxed));
  }

  RenderStoreMetrics(out, progress, vitals, readiness,
                     write_queue_ != nullptr ? write_queue_->queued() : 0);

  MetricHeader(out, "jobtrail_jobs", "gauge", "Jobs by current status.");
  for (JobStatus s : kAllStatuses) {
    fmt::format_to(it, "jobtrail_jobs{{status=\"{}\"}} {}\n", StatusName(s),
                   stats.by_status[size_t(s)]);
  }
  MetricHeader(out, "jobtrail_events_total", "counter", "Events in the log, as the stats model counts.");
  fmt::format_to(it, "jobtrail_events_total {}\n", stats.events_total);
  return out;
}

}  // namespace jobtrail::http
