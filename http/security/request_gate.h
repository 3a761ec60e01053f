#pragma once
// RequestGate: what every request passes before a handler runs.
//
// Screen(), before routing: the abuse limits on the request's shape —
// request-target length (414 URI_TOO_LONG), number of header fields and
// their bytes (431 HEADERS_TOO_LARGE).
//
// Admit(), once the route is known (route_access.h says who may call it):
//   1. authenticate (authenticator.h); failures are charged to the client
//      address's bucket (slows down guessing) and answer 401 with
//      WWW-Authenticate (on kSelf routes the route answers instead);
//   2. rate limits (token buckets, rate_limiter.h), by principal class and
//      the route's RateClass:
//        admin          admin bucket per subject
//        worker         worker bucket per subject (+ worker-create on creates)
//        reader         poll bucket per (subject, polled thing, route) and
//                       public-reads per subject on poll routes;
//                       reader bucket per subject otherwise (+ reader-create)
//        share link, no credentials (public and kSelf routes):
//                       poll bucket per (address, polled thing, route) and
//                       public-reads per address on poll routes; address
//                       bucket otherwise (+ reader-create per address on
//                       creates)
//        failed authentication: address bucket (+ reader-create per
//                       address on creates: never less than no credentials)
//        webhook routes: webhook and webhook-burst buckets per (address,
//                       provider)
//        dashboard routes: public-reads bucket per subject, or per address
//      (probes, /healthz and /readyz, are never limited);
//      X-RateLimit-Limit/-Remaining/-Reset (epoch seconds) on the answer,
//      429 RATE_LIMITED with Retry-After when a bucket is empty;
//   3. authorization: another owner's job answers 404 JOB_NOT_FOUND with
//      exactly the body of a job that does not exist; a role that may not
//      call the route 403 FORBIDDEN; a share link on any route but a read
//      of its one job 403 (404 on /v1's job routes). Ownership comes from
//      the status read model or, when that lacks the job (catching up after
//      a restart), from the log: a job in neither is not found — a miss
//      never lets a request through.
// The principal is then on request.principal; the share-link `token` query
// parameter is removed so that handlers never see it. The gate's refusals
// on a route with an error renderer (a seed dialect's) are in its shape.
//
// Thread-safe.
#include <optional>
#include <string_view>

#include "http/security/authenticator.h"
#include "http/security/rate_limiter.h"
#include "http/security/route_access.h"
#include "http/server/gate.h"
#include "http/server/http_types.h"
#include "projections/job_reads.h"

namespace jobtrail::http {

struct RequestLimits {
  size_t max_url_bytes = 8 * 1024;
  size_t max_headers = 100;
  size_t max_header_bytes = 32 * 1024;
};

struct RateLimitOptions {
  bool enabled = true;
  // Seed 002's figures for end users, generous ceilings for services.
  RateRule address{100, 15 * 60'000};    // per client address (see above)
  RateRule reader{100, 15 * 60'000};     // per reader
  RateRule reader_create{5, 3'600'000};  // per reader, job creations
  RateRule poll{1, 1000};                // per reader/share link, job and route
  RateRule worker{100'000, 60'000};      // per worker
  RateRule worker_create{};              // off
  RateRule admin{10'000'000, 60'000};    // per admin
  // Seed 002's webhook limits, per calling address.
  RateRule webhook{10, 60'000};
  RateRule webhook_burst{3, 10'000};
  // Dashboards of seeds 000 and 001 (001 polls two routes every 15-30 s),
  // and the ceiling on one-job polls per reader (per address when anonymous).
  RateRule public_reads{1000, 15 * 60'000};
};

// "NAME=RULE", NAME one of address, reader, reader-create, poll, worker,
// worker-create, admin, webhook, webhook-burst, public-reads (rate_limiter.h
// has RULE).
// Errors: kInvalidArgument.
Result<void> SetRateLimit(RateLimitOptions& options, std::string_view spec);
// "address=100/15m reader=..." for the start-up log.
std::string DescribeRateLimits(const RateLimitOptions& options);

class RequestGate final : public Gate {
 public:
  // `auth` and `store` must outlive the gate.
  RequestGate(const Authenticator& auth, JobReads& store, RequestLimits limits,
              RateLimitOptions rates, std::vector<RouteAccessRule> extra_access = {});

  std::optional<HttpResponse> Screen(const HttpRequest& request) const override;

  // nullopt: go on (request.principal is set); otherwise the answer. Either
  // way `headers` gets the rate-limit headers for the final answer.
  std::optional<HttpResponse> Admit(HttpRequest& request, std::string_view method,
                                    std::string_view pattern, StringPairs& headers) override;

  // `error` as the route registered as `pattern` writes its errors (a seed
  // dialect's body shape), for refusals made outside the gate (413).
  HttpResponse RefuseOnRoute(const ApiError& error, const HttpRequest& request,
                             std::string_view pattern) const override {
    return Refuse(error, PolicyFor(request.method, pattern, extra_access_), request);
  }

  const Authenticator& authenticator() const { return auth_; }

 private:
  // Who a request is charged as.
  enum class Caller { kAnonymous, kFailedCredentials, kPrincipal };
  // nullopt: allowed. Adds the headers of the tightest bucket charged.
  std::optional<ApiError> Charge(const HttpRequest& request, Caller caller,
                                 const RoutePolicy& policy, std::string_view pattern,
                                 StringPairs& headers);
  std::optional<ApiError> Authorize(const HttpRequest& request, const Principal& p,
                                    RouteAccess access);
  // The owner of a job, from the read model or, when that does not have it
  // (yet), from the log; nullopt when neither knows the job.
  Result<std::optional<std::string>> OwnerOf(const std::string& job_id);
  HttpResponse Refuse(const ApiError& error, const RoutePolicy& policy,
                      const HttpRequest& request) const;

  const Authenticator& auth_;
  JobReads& store_;
  RequestLimits limits_;
  RateLimitOptions rates_;
  RateLimiter limiter_;
  std::vector<RouteAccessRule> extra_access_;
};

// The 404 a job that does not exist gets (byte for byte what the store
// answers), used for jobs the principal may not see.
Error JobNotFound(std::string_view job_id);

}  // namespace jobtrail::http
