#pragma once
// Prometheus metrics of the HTTP server: requests by route and status, a
// latency histogram per route, writes (jobs enqueued, events appended by
// type), plus what the JobStore reports at scrape time (store_metrics.cc:
// log position, projection position, lag and state, storage health, group
// commits and syncs, queues, claims, jobs by status). Rendered in the text
// exposition format 0.0.4; README's Operations section lists every metric.
//
// Recording is lock-free (relaxed atomics) and may happen on any thread.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "domain/job_event.h"
#include "http/readiness.h"
#include "http/router.h"
#include "projections/job_store.h"

namespace jobtrail::http {

using EventKindCounts = std::array<uint64_t, kEventKindCount>;

class Metrics {
 public:
  // One series per route, plus two for requests that matched none:
  // preflight_index() (OPTIONS) and unmatched_index().
  explicit Metrics(const std::vector<RouteInfo>& routes);

  size_t preflight_index() const { return routes_.size() - 2; }
  size_t unmatched_index() const { return routes_.size() - 1; }

  void RecordRequest(size_t route_index, int status, double seconds);
  void RecordEnqueue(bool duplicate);
  void RecordAppend(const EventKindCounts& appended);
  void AddInFlight(int delta) { in_flight_.fetch_add(delta, std::memory_order_relaxed); }
  // The pool whose queue is jobtrail_write_queue_depth (null: none).
  void SetWriteQueue(class WorkPool* pool) { write_queue_ = pool; }

  std::string Render(const ProjectionProgress& progress, const StatsSnapshot& stats,
                     const StoreVitals& vitals, const Readiness& readiness) const;

  static constexpr double kBuckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                        0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                        1,      2.5,     5,      10};
  static constexpr size_t kBucketCount = sizeof(kBuckets) / sizeof(kBuckets[0]);

 private:
  static constexpr int kMinStatus = 100;
  static constexpr int kStatusSlots = 500;  // 100..599

  struct RouteSeries {
    std::atomic<uint64_t> by_status[kStatusSlots];
    std::atomic<uint64_t> buckets[kBucketCount + 1];  // last: +Inf
    std::atomic<uint64_t> sum_ns{0};
    std::atomic<uint64_t> count{0};
    RouteSeries();
  };

  std::vector<RouteInfo> routes_;
  std::unique_ptr<RouteSeries[]> series_;
  std::atomic<uint64_t> enqueued_{0};
  std::atomic<uint64_t> enqueue_duplicates_{0};
  std::atomic<uint64_t> appended_[kEventKindCount]{};
  std::atomic<int64_t> in_flight_{0};
  class WorkPool* write_queue_ = nullptr;
};

// The store's part of /metrics (store_metrics.cc).
void RenderStoreMetrics(std::string& out, const ProjectionProgress& progress,
                        const StoreVitals& vitals, const Readiness& readiness,
                        size_t write_queue_depth);

}  // namespace jobtrail::http
