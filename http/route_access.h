#pragma once
// Who may call each route: one table (route_access.cc), consulted by the
// request gate before any handler runs. A route missing from the table is
// admin-only, so a new route is closed until someone decides otherwise.
//
//   kPublic      no credentials (liveness, readiness)
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
#include <string_view>

namespace jobtrail::http {

enum class RouteAccess { kPublic, kSelf, kJobRead, kJobShare, kJobWrite, kListRead, kWorker, kAdmin };

// `pattern` as registered on the Router ("/v1/jobs/{id}").
RouteAccess AccessFor(std::string_view method, std::string_view pattern);

// Poll routes (GET of one job's status, result, history, logs) are rate
// limited per job rather than against the general per-principal budget.
bool IsPollRoute(std::string_view method, std::string_view pattern);
// Routes that create jobs (the per-principal creation budget).
bool IsCreateRoute(std::string_view method, std::string_view pattern);

}  // namespace jobtrail::http
