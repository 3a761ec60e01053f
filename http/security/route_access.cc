#include "http/security/route_access.h"

#include <array>

namespace jobtrail::http {
namespace {

struct Row {
  std::string_view method;
  std::string_view pattern;
  RouteAccess access;
  RateClass rate = RateClass::kGeneral;  // kPoll routes name the job {id}
};

constexpr RateClass kPoll = RateClass::kPoll;
constexpr RateClass kCreate = RateClass::kCreate;

constexpr std::array kTable = {
    Row{"GET", "/healthz", RouteAccess::kProbe},
    Row{"GET", "/readyz", RouteAccess::kProbe},
    Row{"GET", "/metrics", RouteAccess::kAdmin},
    Row{"POST", "/v1/jobs", RouteAccess::kWorker, kCreate},
    Row{"GET", "/v1/jobs", RouteAccess::kListRead},
    Row{"GET", "/v1/jobs/{id}", RouteAccess::kJobRead, kPoll},
    Row{"GET", "/v1/jobs/{id}/events", RouteAccess::kJobRead, kPoll},
    Row{"GET", "/v1/jobs/{id}/result", RouteAccess::kJobRead, kPoll},
    Row{"GET", "/v1/jobs/{id}/logs", RouteAccess::kJobRead, kPoll},
    Row{"POST", "/v1/jobs/{id}/share", RouteAccess::kJobShare},
    Row{"POST", "/v1/jobs/{id}/events", RouteAccess::kJobWrite},
    Row{"POST", "/v1/jobs/{id}/cancel", RouteAccess::kJobWrite},
    Row{"POST", "/v1/jobs/{id}/heartbeat", RouteAccess::kJobWrite},
    Row{"GET", "/v1/events", RouteAccess::kListRead},
    Row{"GET", "/v1/stats", RouteAccess::kAdmin},
    Row{"GET", "/v1/health", RouteAccess::kWorker},
    Row{"POST", "/v1/batch", RouteAccess::kWorker, kCreate},
    Row{"POST", "/v1/queues/{queue}/claim", RouteAccess::kWorker},
    Row{"POST", "/v1/maintenance", RouteAccess::kAdmin},
    // Schedules are server-wide configuration: workers may look, admins change.
    Row{"GET", "/v1/schedules", RouteAccess::kWorker},
    Row{"GET", "/v1/schedules/{name}", RouteAccess::kWorker},
    Row{"PUT", "/v1/schedules/{name}", RouteAccess::kAdmin},
    Row{"DELETE", "/v1/schedules/{name}", RouteAccess::kAdmin},
    Row{"POST", "/v1/schedules/{name}/trigger", RouteAccess::kAdmin},
    // Backups copy every owner's data (admin_backup_routes.cc).
    Row{"POST", "/v1/admin/backup", RouteAccess::kAdmin},
    Row{"GET", "/v1/admin/backups", RouteAccess::kAdmin},
    Row{"GET", "/v1/admin/backups/{name}", RouteAccess::kAdmin},
    // The seed dialects (http/dialect_*.cc) declare their rows where they
    // mount their routes (under a configurable prefix, with their own error
    // bodies): see MountDialect in dialect_support.h.
};

}  // namespace

RoutePolicy PolicyFor(std::string_view method, std::string_view pattern,
                      const std::vector<RouteAccessRule>& extra) {
  for (const RouteAccessRule& rule : extra) {
    if (rule.method == method && rule.pattern == pattern) {
      return {rule.access, rule.rate, rule.job_param, rule.rate_subject, rule.render_error};
    }
  }
  for (const Row& row : kTable) {
    if (row.method == method && row.pattern == pattern) {
      return {row.access, row.rate, "id", nullptr, nullptr};
    }
  }
  return {};
}

}  // namespace jobtrail::http
