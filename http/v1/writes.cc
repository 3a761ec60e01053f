#include "http/v1/writes.h"

#include <fmt/format.h>

#include "http/server/error_mapping.h"
#include "http/server/ids.h"
#include "http/server/json_writer.h"
#include "http/v1/metrics.h"
#include "http/v1/query_parsing.h"

namespace jobtrail::http {
namespace {

// A 409 (stale If-Match) or 422 (refused transition) says where the job is
// now, so a client can re-read or give up without another round trip.
HttpResponse WriteError(ApiContext& context, const Error& error, const AppendRequest& request) {
  if (error.code != Code::kAborted && error.code != Code::kFailedPrecondition) {
    return ErrorResponse(error);
  }
  auto current = context.reads->Status(request.job_id);
  JsonWriter d;
  d.StartObject().Field("job_id", request.job_id);
  if (request.expected_version) d.Field("expected_version", *request.expected_version);
  if (current) {
    d.Field("current_version", current.value().version);
    d.Field("current_status", StatusName(current.value().status));
  }
  d.EndObject();
  return ErrorResponse(ApiError(error, d.Take()));
}

}  // namespace

std::string StatusUrl(std::string_view job_id) { return fmt::format("/v1/jobs/{}", job_id); }

ApiResult<void> CheckCallbackUrl(ApiContext& context, const EnqueueRequest& request,
                                 std::string_view field) {
  const std::string& url = request.spec.callback_url;
  if (url.empty()) return boost::outcome_v2::success();
  if (!context.check_callback_url) {
    return InvalidField(field, "cannot be used: this server sends no webhooks");
  }
  auto checked = context.check_callback_url(url);
  if (checked) return boost::outcome_v2::success();
  if (checked.error().code != Code::kInvalidArgument) return ApiError(checked.error());
  return InvalidField(field, checked.error().message);
}

HttpResponse ExecuteEnqueue(ApiContext& context, EnqueueRequest request) {
  return RenderEnqueue(context, context.commands->Enqueue(std::move(request)));
}

HttpResponse RenderEnqueue(ApiContext& context, const Result<WriteOutcome>& outcome) {
  if (!outcome) return ErrorResponse(outcome.error());
  const WriteOutcome& o = outcome.value();
  if (context.metrics != nullptr) context.metrics->RecordEnqueue(o.duplicate);
  // A repeat answers what the original enqueue answered: the job as its
  // enqueued event left it, whatever happened to it since.
  const uint64_t version = o.duplicate ? 1 : o.version;
  const JobStatus status = o.duplicate ? JobStatus::kPending : o.status;
  const std::string url = StatusUrl(o.job_id);
  JsonWriter w;
  w.StartObject()
      .Field("job_id", o.job_id)
      .Field("status", StatusName(status))
      .Field("version", version)
      .Field("status_url", url)
      .EndObject();
  HttpResponse r = JsonResponse(201, w.Take());
  r.With("Location", url).With("ETag", VersionETag(version));
  // For ?min_position=N on another node's reads (min_position.h).
  if (o.position != 0) r.With("X-Log-Position", std::to_string(o.position));
  if (o.duplicate) r.With("Idempotent-Replayed", "true");
  return r;
}

HttpResponse ExecuteAppend(ApiContext& context, AppendRequest request) {
  auto outcome = context.commands->Append(request);
  return RenderAppend(context, outcome, request);
}

HttpResponse RenderAppend(ApiContext& context, const Result<WriteOutcome>& outcome,
                          const AppendRequest& request) {
  const size_t count = request.events.size();
  if (!outcome) return WriteError(context, outcome.error(), request);
  const WriteOutcome& o = outcome.value();
  if (context.metrics != nullptr) {
    EventKindCounts kinds{};
    for (const EventBody& e : request.events) ++kinds[e.index()];
    context.metrics->RecordAppend(kinds);
  }
  JsonWriter w;
  w.StartObject()
      .Field("job_id", o.job_id)
      .Field("status", StatusName(o.status))
      .Field("version", o.version)
      .Field("position", o.position)
      .Field("events_appended", uint64_t{count})
      .Field("status_url", StatusUrl(o.job_id))
      .EndObject();
  HttpResponse r = JsonResponse(200, w.Take());
  r.With("ETag", VersionETag(o.version));
  return r;
}

ApiResult<std::string> ActorOf(const HttpRequest& request) {
  std::optional<std::string> named = request.Header("X-Actor");
  if (named && !IsAcceptableRequestId(*named)) {
    return InvalidHeader("X-Actor", "must be 1..128 visible ASCII characters");
  }
  return ActorNamed(request.principal, std::move(named));
}

std::string ActorNamed(const Principal& p, std::optional<std::string> named) {
  if (!p.authenticated() || p.subject.empty() || p.admin()) {
    if (named) return std::move(*named);
    return p.subject.empty() ? std::string("api") : p.subject;
  }
  // The audit trail names who really wrote: a name cannot claim another.
  if (!named || *named == p.subject) return p.subject;
  return p.subject + "/" + *named;
}

}  // namespace jobtrail::http
