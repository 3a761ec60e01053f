// Seed 004's vocabulary over jobtrail. States:
//   queued    <- pending, and running in its first attempt
//   retrying  <- retrying, and running in a later attempt
//   completed <- completed      failed <- failed, cancelled
// returnvalue is the job's result, failedReason its final error's reason,
// stacktrace the lines of the final (else the latest) error's stack.
// The dialect sees the relay queue's jobs only (DialectOptions::relay_queue).
#include "http/dialects/api_relay_004.h"

#include <fmt/format.h>

#include "http/dialects/support.h"
#include "http/server/json_reader.h"

namespace jobtrail::http {
namespace {

constexpr StatusVocabulary kWords{
    {"", "queued", "queued", "retrying", "completed", "failed", "failed"}};
constexpr std::string_view kSeed = "004";

std::string_view State(const JobView& job) {
  if (job.status == JobStatus::kRunning && job.attempts > 1) return "retrying";
  return kWords.Word(job.status);
}

std::string ErrorBody(const ApiError& e, const HttpRequest& request, Millis) {
  std::string_view code = "ERR_INTERNAL";
  std::string_view message = "internal_error";
  switch (e.error.code) {
    case Code::kInvalidArgument: code = "ERR_INVALID_REQUEST"; message = e.error.message; break;
    case Code::kNotFound:
      code = e.error.reason == "RESULT_NOT_AVAILABLE" ? "ERR_RESULT_NOT_AVAILABLE"
                                                      : "ERR_JOB_NOT_FOUND";
      message = e.error.message;
      break;
    case Code::kUnauthenticated: code = "ERR_UNAUTHORIZED"; message = "unauthorized"; break;
    case Code::kResourceExhausted: code = "ERR_RATE_LIMITED"; message = "rate_limited"; break;
    default: break;
  }
  JsonWriter w;
  w.StartObject().Field("request_id", request.request_id).Key("data").Null();
  w.Key("error").StartObject().Field("code", code).Field("message", message).EndObject();
  return w.EndObject().Take();
}

ApiError JobNotFound() {
  return DialectError(Code::kNotFound, "JOB_NOT_FOUND", "job_not_found");
}

void StackLines(JsonWriter& w, const JobView& job) {
  std::string_view stack;
  if (job.status == JobStatus::kCompleted) {
    // The seed's completed job has "stacktrace": [] even after a retried
    // error: the stack belongs to a failure, and this job did not fail.
  } else if (job.final_error && !job.final_error->stack.empty()) {
    stack = job.final_error->stack;
  } else if (const ErrorEntry* last = job.LastError()) {
    stack = last->stack;
  }
  w.Key("stacktrace").StartArray();
  while (!stack.empty()) {
    const size_t nl = stack.find('\n');
    std::string_view line = stack.substr(0, nl);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) w.String(line);
    stack = nl == std::string_view::npos ? std::string_view() : stack.substr(nl + 1);
  }
  w.EndArray();
}

HttpResponse Envelope(const HttpRequest& request, const JobView& job, bool result_only) {
  JsonWriter w;
  w.StartObject().Field("request_id", request.request_id).Key("data");
  if (result_only) {
    w.Raw(job.result_json);
  } else {
    w.StartObject().Field("id", job.job_id).Field("state", State(job));
    w.RawField("returnvalue", job.result_json);
    w.StringOrNull("failedReason", job.final_error ? std::string_view(job.final_error->reason)
                                                   : std::string_view(job.cancel_reason));
    StackLines(w, job);
    w.Field("queue", job.spec.queue).EndObject();
  }
  w.Key("error").Null().EndObject();
  return JsonResponse(200, w.Take());
}

// The job, if it is the relay queue's and `may_read(owner)`; otherwise
// exactly the unknown job's error.
template <typename MayRead>
ApiResult<JobView> OwnedJob(JobReads& store, const DialectOptions& options, std::string_view id,
                            MayRead may_read) {
  auto job = store.LoadJob(id, std::nullopt);
  if (!job) return job.error().code == Code::kNotFound ? JobNotFound() : ApiError(job.error());
  if (job.value().spec.queue != options.relay_queue) return JobNotFound();
  if (!may_read(job.value().spec.owner)) return JobNotFound();
  return std::move(job).value();
}

// The job a POST status call polls (its body's job_id), so that polling is
// limited per job, as the GET routes are.
std::string PolledJob(const HttpRequest& request) {
  rapidjson::Document body;
  if (!ParseJsonBody(request.body, body) || !body.IsObject()) return {};
  return std::string(DocString(body, "job_id"));
}

ApiResult<HttpResponse> PostStatus(ApiContext& ctx, const DialectOptions& options,
                                   const HttpRequest& request) {
  auto invalid = DialectError(Code::kInvalidArgument, "INVALID_INPUT",
                              "job_id and user_id are required");
  rapidjson::Document body;
  if (!ParseJsonBody(request.body, body) || !body.IsObject()) return invalid;
  const std::string_view job_id = DocString(body, "job_id");
  const std::string_view user_id = DocString(body, "user_id");
  if (job_id.empty() || user_id.empty()) return invalid;
  // The body's user_id must be the owner, as in the seed; unless the seed is
  // public the caller must also be allowed to read the job (/v1's rules):
  // guessing an owner's name is no credential.
  const bool open = options.IsPublic(kSeed);
  BOOST_OUTCOME_TRY(job, OwnedJob(*ctx.reads, options, job_id, [&](std::string_view owner) {
                      return owner == user_id && CallerMayRead(request, open, job_id, owner);
                    }));
  return Envelope(request, job, /*result_only=*/false);
}

ApiResult<HttpResponse> GetJob(ApiContext& ctx, const DialectOptions& options,
                               const HttpRequest& request, bool result_only) {
  // The request gate authenticated the bearer token, if one was sent.
  const Principal& principal = request.principal;
  if (!principal.authenticated()) {
    return DialectError(Code::kUnauthenticated, "UNAUTHORIZED", "unauthorized");
  }
  const std::string& id = PathParam(request, "jobId");
  BOOST_OUTCOME_TRY(job, OwnedJob(*ctx.reads, options, id, [&](std::string_view owner) {
                      return principal.MayRead(id, owner);
                    }));
  if (result_only && job.status != JobStatus::kCompleted) {
    return DialectError(Code::kNotFound, "RESULT_NOT_AVAILABLE", "result_not_available");
  }
  return Envelope(request, job, result_only);
}

ApiResult<HttpResponse> GetStatus(ApiContext& ctx, const DialectOptions& options,
                                  const HttpRequest& request) {
  return GetJob(ctx, options, request, /*result_only=*/false);
}
ApiResult<HttpResponse> GetResult(ApiContext& ctx, const DialectOptions& options,
                                  const HttpRequest& request) {
  return GetJob(ctx, options, request, /*result_only=*/true);
}

}  // namespace

void AddApiRelayDialect004(Router& router, ApiContext& context,
                           const DialectOptions& options) {
  // The seed's POST status takes the owner from the body, without
  // authentication: by default it also needs credentials that may read the
  // job; --public-dialect 004 answers whoever names the owner, as the seed.
  MountDialect(router, context, options, ErrorBody,
               {{"POST", "/api/v1/flickr/jobs/status", PostStatus,
                 DialectAccess(options, kSeed, RouteAccess::kCaller, RouteAccess::kSelfRead),
                 RateClass::kPoll, "id", PolledJob},
                {"GET", "/api/v1/flickr/jobs/{jobId}", GetStatus, RouteAccess::kSelfRead,
                 RateClass::kPoll, "jobId"},
                {"GET", "/api/v1/flickr/jobs/{jobId}/result", GetResult, RouteAccess::kSelfRead,
                 RateClass::kPoll, "jobId"}});
}

}  // namespace jobtrail::http
