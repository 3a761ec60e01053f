#pragma once
// Who may call each route: one table (route_access.cc), consulted by the
// request gate before any handler runs. A route missing from the table is
// admin-only, so a new route is closed until someone decides otherwise.
//
//   kProbe       no credentials, never rate limited (liveness, readiness:
//                a load balancer polling them must never see 429)
//   kPublic      no credentials; limited per client address
//   kSelf        the route decides itself who may call it (seed dialects
//                with their own 401/403 rules): the gate authenticates the
//                credentials if any are sent and leaves request.principal
//                unauthenticated if not, rate limits by the result, and
//                refuses only credentials that were sent and are wrong (401;
//                on webhook routes, which check their provider's secrets,
//                not even those)
//   kSelfRead    kSelf for a route that reads one job (a share link may
//                call it; the route checks that it is the link's job)
//   kCaller      any valid credentials, a share link included, or 401; the
//                route decides which jobs the caller sees (a seed dialect's
//                one-job reads, whose not-found answer only the route can
//                write byte for byte)
//   kUser        any valid credentials but a share link (seed 002's starts:
//                the job is the caller's)
//   kJobRead     one job, read: its owner (reader), any worker, admin, or a
//                share link for that job. Others: 404, as if it did not exist
//   kJobShare    one job, create a share link: its owner or an admin
//   kJobWrite    one job, write: worker or admin; a reader gets 404 for
//                another owner's job and 403 for its own
//   kListRead    many jobs: any role; the handler limits non-admins to
//                their own jobs. A share link: 403
//   kWorker      worker or admin (enqueue, claim, batch, health)
//   kAdmin       admin only (stats, metrics, maintenance)
// A share link reads its one job and nothing else: on every route but
// kJobRead, kSelfRead and kCaller it is refused (403 FORBIDDEN; 404 on the
// kJob* routes, as for any job it does not name).
#include <string>
#include <string_view>
#include <vector>

#include "domain/job_event.h"
#include "http/server/api_error.h"
#include "http/server/http_types.h"

namespace jobtrail::http {

enum class RouteAccess {
  kProbe, kPublic, kSelf, kSelfRead, kCaller, kUser,
  kJobRead, kJobShare, kJobWrite, kListRead, kWorker, kAdmin
};

// Which budget a call is charged to (request_gate.h has the buckets):
//   kGeneral  the caller's general bucket
//   kPoll     a status, polled: a bucket per caller, route and what is
//             polled (the job named by the path parameter `job_param`, or
//             what `rate_subject` says; nothing for a dashboard's list), so
//             that polling one thing neither starves nor is starved by the
//             rest
//   kCreate   creates jobs: the general bucket and the creation budget
//   kWebhook  called by an outside scheduler: the webhook buckets per
//             client address and `rate_subject` (the provider), whatever
//             the credentials
//   kDashboard an operators' dashboard polling lists and counts (seeds 000
//             and 001, which document no limits): the public-reads bucket
//             per caller, larger than the general one
enum class RateClass { kGeneral, kPoll, kCreate, kWebhook, kDashboard };

// What one call is about, for its bucket's key (a job id in the body, the
// calling provider); "" for nothing in particular.
using RateSubjectFn = std::string (*)(const HttpRequest& request);

// Writes an error in a route's own body shape (a seed dialect's); `now` is
// the store's clock, for bodies that carry a timestamp.
using ErrorBodyRenderer = std::string (*)(const ApiError& error, const HttpRequest& request,
                                          Millis now);

// Everything the request gate needs to know about a route.
struct RoutePolicy {
  RouteAccess access = RouteAccess::kAdmin;
  RateClass rate = RateClass::kGeneral;
  std::string_view job_param = "id";
  RateSubjectFn rate_subject = nullptr;  // wins over job_param
  // The gate's own refusals (401, 403, 404, 429) on this route are written
  // by it; null: the standard error body (error_mapping.h).
  ErrorBodyRenderer render_error = nullptr;
};

// A row added at start by routes outside the table, e.g. the seed dialects,
// which are mounted under a configurable prefix: push one into
// ApiContext::route_access next to router.Add(...) with the same pattern.
struct RouteAccessRule {
  std::string method;
  std::string pattern;
  RouteAccess access = RouteAccess::kAdmin;
  RateClass rate = RateClass::kGeneral;
  std::string job_param = "id";
  ErrorBodyRenderer render_error = nullptr;
  RateSubjectFn rate_subject = nullptr;
};

// `pattern` as registered on the Router ("/v1/jobs/{id}"). `extra` rows
// win over the table. The policy may point into `extra`, which must
// outlive it.
RoutePolicy PolicyFor(std::string_view method, std::string_view pattern,
                      const std::vector<RouteAccessRule>& extra = {});
inline RouteAccess AccessFor(std::string_view method, std::string_view pattern,
                             const std::vector<RouteAccessRule>& extra = {}) {
  return PolicyFor(method, pattern, extra).access;
}

}  // namespace jobtrail::http
