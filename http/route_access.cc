#include "http/route_access.h"

#include <array>

namespace jobtrail::http {
namespace {

struct Row {
  std::string_view method;
  std::string_view pattern;
  RouteAccess access;
};

constexpr std::array kTable = {
    Row{"GET", "/healthz", RouteAccess::kProbe},
    Row{"GET", "/readyz", RouteAccess::kProbe},
    Row{"GET", "/metrics", RouteAccess::kAdmin},
    Row{"POST", "/v1/jobs", RouteAccess::kWorker},
    Row{"GET", "/v1/jobs", RouteAccess::kListRead},
    Row{"GET", "/v1/jobs/{id}", RouteAccess::kJobRead},
    Row{"GET", "/v1/jobs/{id}/events", RouteAccess::kJobRead},
    Row{"GET", "/v1/jobs/{id}/result", RouteAccess::kJobRead},
    Row{"GET", "/v1/jobs/{id}/logs", RouteAccess::kJobRead},
    Row{"POST", "/v1/jobs/{id}/share", RouteAccess::kJobShare},
    Row{"POST", "/v1/jobs/{id}/events", RouteAccess::kJobWrite},
    Row{"POST", "/v1/jobs/{id}/cancel", RouteAccess::kJobWrite},
    Row{"POST", "/v1/jobs/{id}/heartbeat", RouteAccess::kJobWrite},
    Row{"GET", "/v1/events", RouteAccess::kListRead},
    Row{"GET", "/v1/stats", RouteAccess::kAdmin},
    Row{"GET", "/v1/health", RouteAccess::kWorker},
    Row{"POST", "/v1/batch", RouteAccess::kWorker},
    Row{"POST", "/v1/queues/{queue}/claim", RouteAccess::kWorker},
    Row{"POST", "/v1/maintenance", RouteAccess::kAdmin},
    // Schedules are server-wide configuration: workers may look, admins change.
    Row{"GET", "/v1/schedules", RouteAccess::kWorker},
    Row{"GET", "/v1/schedules/{name}", RouteAccess::kWorker},
    Row{"PUT", "/v1/schedules/{name}", RouteAccess::kAdmin},
    Row{"DELETE", "/v1/schedules/{name}", RouteAccess::kAdmin},
    Row{"POST", "/v1/schedules/{name}/trigger", RouteAccess::kAdmin},
    // Seed dialects (http/dialect_*.cc) register their rows at start in
    // ApiContext::route_access (they are mounted under a configurable
    // prefix); one that answers 401/403 in its own shape uses kSelf and
    // calls Authenticator itself.
    // 000 and 001 document no authentication (internal dashboards); their
    // writes and 002's admin routes are admin-only.
    Row{"GET", "/api/job-status/{captchaId}", RouteAccess::kPublic},
    Row{"GET", "/api/jobs", RouteAccess::kPublic},
    Row{"GET", "/api/jobs/stats", RouteAccess::kPublic},
    Row{"GET", "/v1/jobs/status", RouteAccess::kPublic},
    Row{"GET", "/v1/jobs/runs", RouteAccess::kPublic},
    Row{"GET", "/v1/jobs/runs/{id}", RouteAccess::kPublic},
    Row{"POST", "/v1/jobs/trigger/{jobName}", RouteAccess::kAdmin},
    Row{"POST", "/api/jobs/{kind}/start", RouteAccess::kSelf},
    Row{"GET", "/api/jobs/{kind}/status/{jobId}", RouteAccess::kPublic},
    Row{"GET", "/api/jobs/health", RouteAccess::kPublic},
    Row{"GET", "/api/jobs/process", RouteAccess::kAdmin},
    Row{"POST", "/api/jobs/process", RouteAccess::kAdmin},
    Row{"POST", "/api/cron/process-jobs", RouteAccess::kSelf},
    Row{"GET", "/api/v1/books/jobs/{job_id}", RouteAccess::kSelf},
    Row{"POST", "/api/v1/flickr/jobs/status", RouteAccess::kSelf},
    Row{"GET", "/api/v1/flickr/jobs/{jobId}", RouteAccess::kSelf},
    Row{"GET", "/api/v1/flickr/jobs/{jobId}/result", RouteAccess::kSelf},
};

}  // namespace

RouteAccess AccessFor(std::string_view method, std::string_view pattern,
                      const std::vector<RouteAccessRule>& extra) {
  for (const RouteAccessRule& rule : extra) {
    if (rule.method == method && rule.pattern == pattern) return rule.access;
  }
  for (const Row& row : kTable) {
    if (row.method == method && row.pattern == pattern) return row.access;
  }
  return RouteAccess::kAdmin;
}

bool IsPollRoute(std::string_view method, std::string_view pattern) {
  return method == "GET" && AccessFor(method, pattern) == RouteAccess::kJobRead;
}

bool IsCreateRoute(std::string_view method, std::string_view pattern) {
  return method == "POST" && (pattern == "/v1/jobs" || pattern == "/v1/batch");
}

}  // namespace jobtrail::http
