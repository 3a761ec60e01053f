#pragma once
// Prometheus metrics of the API: the transport's request series
// (http/server/request_metrics.h) plus writes (jobs enqueued, events
// appended by type) and gauges read from the JobStore at scrape time
// (projection lag, jobs by status). Rendered in the text exposition format
// 0.0.4 by GET /metrics (ops_routes.cc).
//
// Recording is lock-free (relaxed atomics) and may happen on any thread.
#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "domain/job_event.h"
#include "http/server/request_metrics.h"
#include "http/v1/readiness.h"
#include "projections/job_reads.h"

namespace jobtrail::http {

using EventKindCounts = std::array<uint64_t, kEventKindCount>;

class Metrics : public RequestMetrics {
 public:
  using RequestMetrics::RequestMetrics;

  void RecordEnqueue(bool duplicate);
  void RecordAppend(const EventKindCounts& appended);
  // The pool whose queue is jobtrail_write_queue_depth (null: none).
  void SetWriteQueue(class WorkPool* pool) { write_queue_ = pool; }
  // The request series, then the API's counters and the store's gauges.
  std::string Render(const ProjectionProgress& progress, const StatsSnapshot& stats,
                     const StoreVitals& vitals, const Readiness& readiness) const;

 private:
  std::atomic<uint64_t> enqueued_{0};
  std::atomic<uint64_t> enqueue_duplicates_{0};
  std::atomic<uint64_t> appended_[kEventKindCount]{};
  class WorkPool* write_queue_ = nullptr;
};

// The store's part of /metrics (store_metrics.cc).
void RenderStoreMetrics(std::string& out, const ProjectionProgress& progress,
                        const StoreVitals& vitals, const Readiness& readiness,
                        size_t write_queue_depth);

}  // namespace jobtrail::http
