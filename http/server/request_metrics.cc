#include "http/server/request_metrics.h"

#include <fmt/format.h>

#include <iterator>

namespace jobtrail::http {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

std::string EscapeLabel(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

void MetricHeader(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name,
                 type);
}

RequestMetrics::RouteSeries::RouteSeries() {
  for (auto& c : by_status) c.store(0, kRelaxed);
  for (auto& b : buckets) b.store(0, kRelaxed);
}

RequestMetrics::RequestMetrics(const std::vector<RouteInfo>& routes) : routes_(routes) {
  routes_.push_back({"OPTIONS", "preflight"});
  routes_.push_back({"any", "unmatched"});
  series_ = std::make_unique<RouteSeries[]>(routes_.size());
}

void RequestMetrics::RecordRequest(size_t route_index, int status, double seconds) {
  if (route_index >= routes_.size()) route_index = unmatched_index();
  RouteSeries& s = series_[route_index];
  if (status >= kMinStatus && status < kMinStatus + kStatusSlots) {
    s.by_status[status - kMinStatus].fetch_add(1, kRelaxed);
  }
  size_t b = 0;
  while (b < kBucketCount && seconds > kBuckets[b]) ++b;
  s.buckets[b].fetch_add(1, kRelaxed);
  s.sum_ns.fetch_add(uint64_t(seconds * 1e9), kRelaxed);
  s.count.fetch_add(1, kRelaxed);
}

void RequestMetrics::RenderRequests(std::string& out) const {
  auto it = std::back_inserter(out);

  MetricHeader(out, "jobtrail_http_requests_total", "counter",
               "HTTP requests answered, by route and status code.");
  for (size_t r = 0; r < routes_.size(); ++r) {
    const std::string method = EscapeLabel(routes_[r].method);
    const std::string route = EscapeLabel(routes_[r].pattern);
    for (int i = 0; i < kStatusSlots; ++i) {
      const uint64_t n = series_[r].by_status[i].load(kRelaxed);
      if (n == 0) continue;
      fmt::format_to(it, "jobtrail_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n",
                     method, route, i + kMinStatus, n);
    }
  }

  MetricHeader(out, "jobtrail_http_request_duration_seconds", "histogram",
               "Time from a parsed request to its answer handed to the socket.");
  for (size_t r = 0; r < routes_.size(); ++r) {
    const RouteSeries& s = series_[r];
    const uint64_t count = s.count.load(kRelaxed);
    if (count == 0) continue;
    const std::string labels = fmt::format("method=\"{}\",route=\"{}\"",
                                           EscapeLabel(routes_[r].method),
                                           EscapeLabel(routes_[r].pattern));
    uint64_t cumulative = 0;
    for (size_t b = 0; b < kBucketCount; ++b) {
      cumulative += s.buckets[b].load(kRelaxed);
      fmt::format_to(it, "jobtrail_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n",
                     labels, kBuckets[b], cumulative);
    }
    cumulative += s.buckets[kBucketCount].load(kRelaxed);
    fmt::format_to(it, "jobtrail_http_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n",
                   labels, cumulative);
    fmt::format_to(it, "jobtrail_http_request_duration_seconds_sum{{{}}} {:.9f}\n", labels,
                   double(s.sum_ns.load(kRelaxed)) / 1e9);
    fmt::format_to(it, "jobtrail_http_request_duration_seconds_count{{{}}} {}\n", labels,
                   cumulative);
  }

  MetricHeader(out, "jobtrail_http_requests_in_flight", "gauge", "Requests being handled now.");
  fmt::format_to(it, "jobtrail_http_requests_in_flight {}\n", in_flight_.load(kRelaxed));
}

}  // namespace jobtrail::http
