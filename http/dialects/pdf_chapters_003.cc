// Seed 003's vocabulary over jobtrail. Status words:
//   pending <- pending, retrying   processing <- running
//   completed <- completed         failed <- failed, cancelled
// user_id is the job's owner; a reader principal sees only its own jobs
// (workers and admins any). message is the job's latest progress message
// (before any, its latest log line's, e.g. "... job enqueued"; on failure
// the seed's "PDF processing failed: <error>");
// result/completed_at only on completed jobs, error/failed_at only on
// failed ones, as the seed's examples show.
#include "http/dialects/pdf_chapters_003.h"

#include <fmt/format.h>

#include "http/dialects/support.h"
#include "http/server/error_mapping.h"
#include "projections/job_json.h"

namespace jobtrail::http {
namespace {

constexpr StatusVocabulary kWords{
    {"", "pending", "processing", "pending", "completed", "failed", "failed"}};

std::string ErrorBody(const ApiError& e, const HttpRequest&, Millis) {
  JsonWriter w;
  // The seed's one 401, whoever refuses (the gate or the route).
  if (e.error.code == Code::kUnauthenticated) {
    return w.StartObject().Field("detail", "Could not validate credentials").EndObject().Take();
  }
  // The seed's 500: {"detail": "Failed to get job status: <error>"}.
  w.StartObject().Field("detail", HttpStatusFor(e.error) >= 500
                                      ? "Failed to get job status: " + e.error.message
                                      : e.error.message);
  w.EndObject();
  return w.Take();
}

std::string_view DefaultMessage(JobStatus status) {
  switch (status) {
    case JobStatus::kRunning: return "Processing PDF";
    case JobStatus::kCompleted: return "Chapter created successfully";
    default: return "PDF chapter creation job enqueued";  // pending, retrying
  }
}

std::string RenderJob(const JobView& job) {
  const bool failed = job.status == JobStatus::kFailed || job.status == JobStatus::kCancelled;
  JsonWriter w;
  w.StartObject()
      .Field("job_id", job.job_id)
      .StringOrNull("user_id", job.spec.owner)
      .Field("status", kWords.Word(job.status));
  JsNumber(w.Key("progress"),
           job.progress.value_or(job.status == JobStatus::kCompleted ? 100.0 : 0.0));
  const std::string error = !failed ? std::string()
                           : job.final_error ? job.final_error->reason
                           : job.cancel_reason.empty() ? std::string("Job cancelled")
                                                       : job.cancel_reason;
  if (failed) {
    w.Field("message", fmt::format("PDF processing failed: {}", error));
  } else {
    // The seed's message is always a string: the job's own progress
    // message, else its last log line, else the seed's word for the state.
    std::string_view message = job.message;
    if (message.empty() && job.last_log) message = job.last_log->message;
    if (message.empty()) message = DefaultMessage(job.status);
    w.Field("message", message);
  }
  if (job.status == JobStatus::kCompleted) w.RawField("result", job.result_json);
  if (failed) w.Field("error", error);
  w.Field("created_at", FormatTime(job.created_at)).Field("updated_at", FormatTime(job.updated_at));
  if (job.completed_at) w.Field("completed_at", FormatTime(*job.completed_at));
  if (failed && job.finished_at) w.Field("failed_at", FormatTime(*job.finished_at));
  w.EndObject();
  return w.Take();
}

ApiResult<HttpResponse> GetJob(ApiContext& ctx, const DialectOptions& options,
                               const HttpRequest& request) {
  auto denied = [] {
    return DialectError(Code::kUnauthenticated, "INVALID_CREDENTIALS",
                        "Could not validate credentials");
  };
  // The request gate authenticated the bearer token, if one was sent.
  const Principal& principal = request.principal;
  if (!principal.authenticated()) return denied();
  const std::string& id = PathParam(request, "job_id");
  auto not_found = DialectError(Code::kNotFound, "JOB_NOT_FOUND",
                                fmt::format("Job {} not found", id));
  auto job = ctx.reads->LoadJob(id, std::nullopt);
  if (!job) return job.error().code == Code::kNotFound ? not_found : job.error();
  // Jobs of other types are not this API's: they do not exist here.
  if (job.value().spec.type != options.pdf_chapter_type) return not_found;
  if (!principal.MayRead(id, job.value().spec.owner)) {
    return DialectError(Code::kPermissionDenied, "FORBIDDEN", "Access denied to this job");
  }
  return JsonResponse(200, RenderJob(job.value()));
}

}  // namespace

void AddPdfChaptersDialect003(Router& router, ApiContext& context,
                              const DialectOptions& options) {
  MountDialect(router, context, options, ErrorBody,
               {{"GET", "/api/v1/books/jobs/{job_id}", GetJob, RouteAccess::kSelfRead,
                 RateClass::kPoll,
                 "job_id"}});
}

}  // namespace jobtrail::http
