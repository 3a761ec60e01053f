#pragma once
// Who may call each route: one table (route_access.cc), consulted by the
// request gate before any handler runs. A route missing from the table is
// admin-only, so a new route is closed until someone decides otherwise.
//
//   kProbe       no credentials, never rate limited (liveness, readiness:
//                a load balancer polling them must never see 429)
//   kPublic      no credentials; limited per client address
//   kSelf        the route authenticates itself (seed dialects with their
//                own 401/403 bodies call Authenticator directly); the gate
//                only applies the abuse limits
//   kJobRead     one job, read: its owner (reader), any worker, admin, or a
//                share link for that job. Others: 404, as if it did not exist
//   kJobShare    one job, create a share link: its owner or an admin
//   kJobWrite    one job, write: worker or admin; a reader gets 404 for
//                another owner's job and 403 for its own
//   kListRead    many jobs: any role; the handler limits non-admins to
//                their own jobs. A share link: 403
//   kWorker      worker or admin (enqueue, claim, batch, health)
//   kAdmin       admin only (stats, metrics, maintenance)
#include <string>
#include <string_view>
#include <vector>

namespace jobtrail::http {

enum class RouteAccess { kProbe, kPublic, kSelf, kJobRead, kJobShare, kJobWrite, kListRead, kWorker, kAdmin };

// A row added at start by routes outside the table, e.g. the seed dialects,
// which are mounted under a configurable prefix: push one into
// ApiContext::route_access next to router.Add(...) with the same pattern.
struct RouteAccessRule {
  std::string method;
  std::string pattern;
  RouteAccess access = RouteAccess::kAdmin;
};

// `pattern` as registered on the Router ("/v1/jobs/{id}"). `extra` rows
// win over the table.
RouteAccess AccessFor(std::string_view method, std::string_view pattern,
                      const std::vector<RouteAccessRule>& extra = {});

// Poll routes (GET of one job's status, result, history, logs) are rate
// limited per job rather than against the general per-principal budget.
bool IsPollRoute(std::string_view method, std::string_view pattern);
// Routes that create jobs (the per-principal creation budget).
bool IsCreateRoute(std::string_view method, std::string_view pattern);

}  // namespace jobtrail::http
