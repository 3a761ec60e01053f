#include "http/security/request_gate.h"

#include <algorithm>

#include <fmt/format.h>

#include "domain/job_id.h"
#include "http/security/route_access.h"
#include "http/server/error_mapping.h"

namespace jobtrail::http {
namespace {

struct NamedRule {
  std::string_view name;
  RateRule RateLimitOptions::*rule;
};

constexpr NamedRule kRules[] = {
    {"address", &RateLimitOptions::address},
    {"reader", &RateLimitOptions::reader},
    {"reader-create", &RateLimitOptions::reader_create},
    {"poll", &RateLimitOptions::poll},
    {"worker", &RateLimitOptions::worker},
    {"worker-create", &RateLimitOptions::worker_create},
    {"admin", &RateLimitOptions::admin},
    {"webhook", &RateLimitOptions::webhook},
    {"webhook-burst", &RateLimitOptions::webhook_burst},
    {"public-reads", &RateLimitOptions::public_reads},
};

Error Forbidden(std::string message) {
  return MakeError(Code::kPermissionDenied, "FORBIDDEN", std::move(message));
}

std::string_view Describe(RouteAccess access) {
  switch (access) {
    case RouteAccess::kAdmin: return "an admin";
    case RouteAccess::kWorker: return "a worker or an admin";
    case RouteAccess::kJobWrite: return "a worker or an admin";
    case RouteAccess::kJobShare: return "the job's owner or an admin";
    default: return "another credential";
  }
}

// The routes a share link may call (route_access.h): reads of one job; on
// the kJob* routes Authorize answers 404 for anything but its job's reads.
bool ShareLinkMayCall(RouteAccess access) {
  switch (access) {
    case RouteAccess::kJobRead:
    case RouteAccess::kJobShare:
    case RouteAccess::kJobWrite:
    case RouteAccess::kSelfRead:
    case RouteAccess::kCaller:
      return true;
    default:
      return false;
  }
}

}  // namespace

Error JobNotFound(std::string_view job_id) {
  // Same reason and message as the store's (projections/rocks_job_store.cc).
  return NotFound("JOB_NOT_FOUND", fmt::format("job '{}' not found", job_id));
}

Result<void> SetRateLimit(RateLimitOptions& options, std::string_view spec) {
  const size_t eq = spec.find('=');
  if (eq == std::string_view::npos) {
    return InvalidArgument(fmt::format("--rate-limit '{}' must be NAME=RULE", spec));
  }
  const std::string_view name = spec.substr(0, eq);
  for (const NamedRule& r : kRules) {
    if (r.name == name) {
      BOOST_OUTCOME_TRY(rule, ParseRateRule(spec.substr(eq + 1)));
      options.*(r.rule) = rule;
      return Ok();
    }
  }
  return InvalidArgument(fmt::format(
      "unknown rate limit '{}': use address, reader, reader-create, poll, worker, "
      "worker-create, admin, webhook, webhook-burst or public-reads",
      name));
}

std::string DescribeRateLimits(const RateLimitOptions& options) {
  if (!options.enabled) return "off";
  std::string out;
  for (const NamedRule& r : kRules) {
    if (!out.empty()) out += ' ';
    out += fmt::format("{}={}", r.name, FormatRateRule(options.*(r.rule)));
  }
  return out;
}

RequestGate::RequestGate(const Authenticator& auth, JobReads& store, RequestLimits limits,
                         RateLimitOptions rates, std::vector<RouteAccessRule> extra_access)
    : auth_(auth),
      store_(store),
      limits_(limits),
      rates_(rates),
      extra_access_(std::move(extra_access)) {}

std::optional<HttpResponse> RequestGate::Screen(const HttpRequest& request) const {
  if (request.url_bytes > limits_.max_url_bytes) {
    return ErrorResponse(MakeError(
        Code::kResourceExhausted, "URI_TOO_LONG",
        fmt::format("the request target is longer than {} bytes", limits_.max_url_bytes)));
  }
  if (request.header_count > limits_.max_headers) {
    return ErrorResponse(MakeError(
        Code::kResourceExhausted, "HEADERS_TOO_LARGE",
        fmt::format("more than {} header fields", limits_.max_headers)));
  }
  if (request.header_bytes > limits_.max_header_bytes) {
    return ErrorResponse(MakeError(
        Code::kResourceExhausted, "HEADERS_TOO_LARGE",
        fmt::format("the header fields are larger than {} bytes", limits_.max_header_bytes)));
  }
  return std::nullopt;
}

std::optional<ApiError> RequestGate::Charge(const HttpRequest& request, Caller caller,
                                            const RoutePolicy& policy,
                                            std::string_view pattern, StringPairs& headers) {
  if (!rates_.enabled) return std::nullopt;
  const Millis now = auth_.clock().Now();
  std::optional<RateDecision> tightest;
  std::optional<RateDecision> denied;
  auto take = [&](const RateRule& rule, const std::string& key) {
    if (!rule.enabled()) return;
    RateDecision d = limiter_.Take(key, rule, now);
    if (!d.allowed && !denied) denied = d;
    if (!tightest || d.remaining < tightest->remaining) tightest = d;
  };
  const bool poll = policy.rate == RateClass::kPoll;
  const bool create = policy.rate == RateClass::kCreate;
  // What the call is about: the polled job, the calling provider.
  std::string subject;
  if (policy.rate_subject != nullptr) {
    subject = policy.rate_subject(request);
  } else if (const std::string* job = request.Param(policy.job_param); poll && job) {
    subject = *job;
  }
  const Principal& p = request.principal;
  const std::string address = "addr:" + request.client_address;
  if (policy.rate == RateClass::kWebhook) {
    take(rates_.webhook, fmt::format("webhook:{}:{}", address, subject));
    take(rates_.webhook_burst, fmt::format("webhook-burst:{}:{}", address, subject));
  } else if (caller == Caller::kFailedCredentials) {
    // Wrong credentials are charged at least as none: the address, and on a
    // creating route the anonymous creation budget too, so a made-up token
    // is never a way to more attempts than sending none (issue 11, 4a/4b).
    take(rates_.address, address);
    if (create) take(rates_.reader_create, "reader-create:" + address);
  } else if (policy.rate == RateClass::kDashboard) {
    const bool anonymous = caller == Caller::kAnonymous || !p.authenticated() || p.share_link();
    take(rates_.public_reads, "public-reads:" + (anonymous ? address : p.subject));
  } else if (caller == Caller::kAnonymous || p.share_link()) {
    if (poll) {
      take(rates_.poll, fmt::format("poll:{}:{}:{}", address, subject, pattern));
      // The polled job is the caller's to choose: a ceiling per address, so
      // that naming ever new jobs is no way around the limits.
      take(rates_.public_reads, "public-reads:" + address);
    } else {
      take(rates_.address, address);
      if (create) take(rates_.reader_create, "reader-create:" + address);
    }
  } else if (p.role == Role::kAdmin) {
    take(rates_.admin, "admin:" + p.subject);
  } else if (p.role == Role::kWorker) {
    take(rates_.worker, "worker:" + p.subject);
    if (create) take(rates_.worker_create, "worker-create:" + p.subject);
  } else if (poll) {
    take(rates_.poll, fmt::format("poll:{}:{}:{}", p.subject, subject, pattern));
    // As for anonymous polls: the job is the reader's to choose, so ever new
    // (missing, foreign) ids would otherwise never be charged at all.
    take(rates_.public_reads, "public-reads:" + p.subject);
  } else {
    take(rates_.reader, "reader:" + p.subject);
    if (create) take(rates_.reader_create, "reader-create:" + p.subject);
  }
  const RateDecision* shown = denied ? &*denied : (tightest ? &*tightest : nullptr);
  if (shown == nullptr) return std::nullopt;
  headers.emplace_back("X-RateLimit-Limit", std::to_string(shown->limit));
  headers.emplace_back("X-RateLimit-Remaining", std::to_string(shown->remaining));
  headers.emplace_back("X-RateLimit-Reset", std::to_string((shown->reset_at + 999) / 1000));
  if (!denied) return std::nullopt;
  const Millis retry_s = std::max<Millis>(1, (denied->retry_after_ms + 999) / 1000);
  headers.emplace_back("Retry-After", std::to_string(retry_s));
  ApiError limited(MakeError(Code::kResourceExhausted, "RATE_LIMITED",
                             fmt::format("rate limit exceeded; retry in {} s", retry_s)),
                   fmt::format(R"({{"limit":{},"retry_after_seconds":{}}})", denied->limit,
                               retry_s));
  limited.retry_after_seconds = retry_s;
  return limited;
}

Result<std::optional<std::string>> RequestGate::OwnerOf(const std::string& job_id) {
  auto doc = store_.Status(job_id);
  if (doc) return std::optional<std::string>(doc.value().owner);
  if (doc.error().code != Code::kNotFound) return doc.error();
  // Not in the read model: it may be catching up (a restart with rebuilt
  // views) while the log already holds the job, and some handlers read the
  // log (history, logs, dialects). The log's fold always knows the owner.
  auto job = store_.LoadJob(job_id, std::nullopt);
  if (job) return std::optional<std::string>(job.value().spec.owner);
  if (job.error().code == Code::kNotFound) return std::optional<std::string>();
  return job.error();
}

std::optional<ApiError> RequestGate::Authorize(const HttpRequest& request, const Principal& p,
                                               RouteAccess access) {
  const bool job_route = access == RouteAccess::kJobRead || access == RouteAccess::kJobShare ||
                         access == RouteAccess::kJobWrite;
  if (job_route) {
    const std::string* id = request.Param("id");
    if (id == nullptr) return ApiError(Internal("job route without {id}"));
    if (p.share_link()) {
      // A link reads its one job; for anything else the job "does not exist".
      if (access != RouteAccess::kJobRead || *id != p.share_job) return ApiError(JobNotFound(*id));
      return std::nullopt;
    }
    if (p.admin()) return std::nullopt;
    if (p.role == Role::kWorker && access != RouteAccess::kJobShare) return std::nullopt;
    // An id that cannot name a job: the handler's 400 says so, and there is
    // nothing to see.
    if (!IsValidJobId(*id)) return std::nullopt;
    // Never allow on a miss: ownership comes from the read model or, while
    // that lags, from the log; a job in neither does not exist (the store's
    // own 404), and a failed lookup refuses.
    auto owner = OwnerOf(*id);
    if (!owner) return ApiError(owner.error());
    if (!owner.value()) return ApiError(JobNotFound(*id));
    if (!p.MayRead(*id, *owner.value())) return ApiError(JobNotFound(*id));
    if (access == RouteAccess::kJobWrite && p.role < Role::kWorker) {
      return ApiError(Forbidden(fmt::format("a {} may only read jobs", RoleName(p.role))));
    }
    if (access == RouteAccess::kJobShare && !p.OwnsOrAdmin(*owner.value())) {
      return ApiError(Forbidden("only the job's owner or an admin may share it"));
    }
    return std::nullopt;
  }
  switch (access) {
    case RouteAccess::kListRead:
      if (p.share_link()) return ApiError(Forbidden("a share link reads only its one job"));
      return std::nullopt;
    case RouteAccess::kWorker:
      if (p.share_link() || p.role < Role::kWorker) {
        return ApiError(Forbidden(fmt::format("this route needs {}", Describe(access))));
      }
      return std::nullopt;
    case RouteAccess::kAdmin:
      if (!p.admin()) {
        return ApiError(Forbidden(fmt::format("this route needs {}", Describe(access))));
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

HttpResponse RequestGate::Refuse(const ApiError& error, const RoutePolicy& policy,
                                 const HttpRequest& request) const {
  if (policy.render_error == nullptr) return ErrorResponse(error);
  return JsonResponse(HttpStatusFor(error.error),
                      policy.render_error(error, request, auth_.clock().Now()));
}

std::optional<HttpResponse> RequestGate::Admit(HttpRequest& request, std::string_view method,
                                               std::string_view pattern, StringPairs& headers) {
  const RoutePolicy policy = PolicyFor(method, pattern, extra_access_);
  // Liveness and readiness probes are not limited: a load balancer polling
  // them must never see 429 and take a healthy instance out.
  if (policy.access == RouteAccess::kProbe) return std::nullopt;
  if (policy.access == RouteAccess::kPublic) {
    if (auto limited = Charge(request, Caller::kAnonymous, policy, pattern, headers)) {
      return Refuse(*limited, policy, request);
    }
    return std::nullopt;
  }
  const bool decides_itself =
      policy.access == RouteAccess::kSelf || policy.access == RouteAccess::kSelfRead;
  auto principal = auth_.Authenticate(request);
  // The share token is a credential: handlers never see it (and their
  // strict parameter checks would reject it).
  std::erase_if(request.query, [](const auto& kv) { return kv.first == "token"; });
  Caller caller = Caller::kPrincipal;
  if (principal) {
    request.principal = std::move(principal).value();
  } else {
    // Sending none is fine where the route decides (kSelf); every other
    // failure is charged to the address, which slows down guessing.
    const bool none_sent = principal.error().error.reason == "MISSING_CREDENTIALS";
    caller = decides_itself && none_sent ? Caller::kAnonymous : Caller::kFailedCredentials;
  }
  if (auto limited = Charge(request, caller, policy, pattern, headers)) {
    return Refuse(*limited, policy, request);
  }
  // A share link is a read-only credential for one job: it never creates,
  // lists, counts or administers, whatever the route would let others do.
  if (principal && request.principal.share_link() && !ShareLinkMayCall(policy.access)) {
    return Refuse(ApiError(Forbidden("a share link reads only its one job")), policy, request);
  }
  // A kSelf route makes its own decision, with or without a principal; but
  // credentials that were sent and are wrong are refused, never taken for
  // none (a mistyped or expired token must not start an anonymous job).
  // Webhook routes check their provider's own secrets, which may come in
  // an Authorization header that is not ours.
  const bool wrong_credentials = !principal && caller == Caller::kFailedCredentials;
  if (decides_itself && (!wrong_credentials || policy.rate == RateClass::kWebhook)) {
    return std::nullopt;
  }
  if (!principal) {
    HttpResponse r = Refuse(principal.error(), policy, request);
    r.With("WWW-Authenticate",
           principal.error().error.reason == "MISSING_CREDENTIALS"
               ? R"(Bearer realm="jobtrail")"
               : R"(Bearer realm="jobtrail", error="invalid_token")");
    return r;
  }
  if (auto denied = Authorize(request, request.principal, policy.access)) {
    return Refuse(*denied, policy, request);
  }
  return std::nullopt;
}

}  // namespace jobtrail::http
