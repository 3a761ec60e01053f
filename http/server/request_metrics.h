#pragma once
// Prometheus metrics of the HTTP transport: requests by route and status, a
// latency histogram per route, requests in flight. Rendered in the text
// exposition format 0.0.4. Nothing here knows of jobs: the API's own
// counters and gauges (http/v1/metrics.h) extend this class.
//
// Recording is lock-free (relaxed atomics) and may happen on any thread.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/server/router.h"

namespace jobtrail::http {

// "# HELP name help" and "# TYPE name type" lines, appended to `out`.
void MetricHeader(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help);

class RequestMetrics {
 public:
  // One series per route, plus two for requests that matched none:
  // preflight_index() (OPTIONS) and unmatched_index().
  explicit RequestMetrics(const std::vector<RouteInfo>& routes);

  size_t preflight_index() const { return routes_.size() - 2; }
  size_t unmatched_index() const { return routes_.size() - 1; }

  void RecordRequest(size_t route_index, int status, double seconds);
  void AddInFlight(int delta) { in_flight_.fetch_add(delta, std::memory_order_relaxed); }

  // Appends the request series to `out`.
  void RenderRequests(std::string& out) const;

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
  std::atomic<int64_t> in_flight_{0};
};

}  // namespace jobtrail::http
