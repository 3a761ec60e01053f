// Routes of one job: enqueue, append, cancel, and the per-job reads
// (status, result, history, logs).
#include <rapidjson/document.h>

#include <fmt/format.h>

#include "http/security/ownership.h"
#include "http/server/error_mapping.h"
#include "http/server/ids.h"
#include "http/server/json_reader.h"
#include "http/server/json_writer.h"
#include "http/v1/api_routes.h"
#include "http/v1/min_position.h"
#include "http/v1/query_parsing.h"
#include "http/v1/render.h"
#include "http/v1/request_parsing.h"
#include "http/v1/route_binding.h"
#include "http/v1/writes.h"
#include "projections/job_json.h"

namespace jobtrail::http {
namespace {

// Events in one page of GET /v1/jobs/{id}/events, by default and at most.
constexpr uint64_t kMaxHistoryPage = 1000;


// ETag/If-None-Match for a read whose answer is a function of the version.
bool NotModified(const HttpRequest& request, uint64_t version, HttpResponse& out) {
  if (!IfNoneMatchHits(request, version)) return false;
  out = HttpResponse{};
  out.status = 304;
  out.content_type.clear();
  out.With("ETag", VersionETag(version));
  return true;
}

HttpResponse Cacheable(HttpResponse r, uint64_t version) {
  r.With("ETag", VersionETag(version)).With("Cache-Control", "no-cache");
  return r;
}

ApiResult<HttpResponse> Enqueue(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  rapidjson::Document doc;
  BOOST_OUTCOME_TRYV(ParseJsonBody(request.body, doc));
  BOOST_OUTCOME_TRY(enqueue, ParseEnqueue(doc, ""));
  BOOST_OUTCOME_TRYV(CheckCallbackUrl(ctx, enqueue, "callback_url"));
  if (auto key = request.Header("Idempotency-Key")) {
    if (!IsAcceptableRequestId(*key)) {
      return InvalidHeader("Idempotency-Key", "must be 1..128 visible ASCII characters");
    }
    if (!enqueue.spec.idempotency_key.empty() && enqueue.spec.idempotency_key != *key) {
      return InvalidHeader("Idempotency-Key",
                           "differs from the body's idempotency_key; send one of them");
    }
    enqueue.spec.idempotency_key = std::move(*key);
  }
  BOOST_OUTCOME_TRY(actor, ActorOf(request));
  enqueue.actor = std::move(actor);
  BOOST_OUTCOME_TRYV(ApplyEnqueueOwner(request.principal, enqueue));
  return ExecuteEnqueue(ctx, std::move(enqueue));
}

ApiResult<HttpResponse> GetJob(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRY(id, JobIdParam(request));
  BOOST_OUTCOME_TRYV(CheckParameters(request, {"at_version"}));
  BOOST_OUTCOME_TRY(at_version, ParseAtVersion(request));
  HttpResponse out;
  if (at_version) {
    // A past version never changes: its ETag is that version.
    if (NotModified(request, *at_version, out)) return out;
    BOOST_OUTCOME_TRY(view, ctx.reads->LoadJob(id, at_version));
    return Cacheable(JsonResponse(200, RenderJobJson(view)), view.version);
  }
  BOOST_OUTCOME_TRY(doc, ctx.reads->Status(id));
  if (NotModified(request, doc.version, out)) return out;
  return Cacheable(JsonResponse(200, std::move(doc.json)), doc.version);
}

ApiResult<HttpResponse> AppendEvents(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRY(id, JobIdParam(request));
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  BOOST_OUTCOME_TRY(expected, ParseIfMatch(request));
  rapidjson::Document doc;
  BOOST_OUTCOME_TRYV(ParseJsonBody(request.body, doc));
  BOOST_OUTCOME_TRY(parsed, ParseEventsBody(doc));
  BOOST_OUTCOME_TRY(actor, ActorOf(request));
  AppendRequest append;
  append.job_id = std::move(id);
  append.expected_version = expected;
  append.events = std::move(parsed.events);
  append.event_ids = std::move(parsed.event_ids);
  append.actor = std::move(actor);
  return ExecuteAppend(ctx, std::move(append));
}

ApiResult<HttpResponse> Cancel(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRY(id, JobIdParam(request));
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  BOOST_OUTCOME_TRY(expected, ParseIfMatch(request));
  BOOST_OUTCOME_TRY(cancel, ParseCancel(request.body));
  BOOST_OUTCOME_TRY(actor, ActorOf(request));
  if (cancel.by.empty()) cancel.by = actor;
  AppendRequest append;
  append.job_id = std::move(id);
  append.expected_version = expected;
  append.events.emplace_back(std::move(cancel));
  append.actor = std::move(actor);
  return ExecuteAppend(ctx, std::move(append));
}

ApiResult<HttpResponse> GetResult(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRY(id, JobIdParam(request));
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  BOOST_OUTCOME_TRY(doc, ctx.reads->Status(id));
  HttpResponse out;
  if (doc.status != JobStatus::kCompleted) {
    JsonWriter d;
    d.StartObject()
        .Field("job_id", id)
        .Field("status", StatusName(doc.status))
        .Field("version", doc.version)
        .Field("status_url", StatusUrl(id))
        .EndObject();
    return ApiError(
        MakeError(Code::kNotFound, "RESULT_NOT_AVAILABLE",
                  fmt::format("job {} has no result: it is {}", id, StatusName(doc.status))),
        d.Take());
  }
  if (NotModified(request, doc.version, out)) return out;
  // The result sits inside the stored status document; lift it out.
  rapidjson::Document status;
  status.Parse(doc.json.data(), doc.json.size());
  std::string result = "null";
  if (!status.HasParseError() && status.IsObject()) {
    auto it = status.FindMember("result");
    if (it != status.MemberEnd()) result = SerializeJson(it->value);
  }
  return Cacheable(JsonResponse(200, std::move(result)), doc.version);
}

// Page by page: `after_version` (default 0) and `limit` (default and most
// kMaxHistoryPage events); a page that is not the last links to the next.
ApiResult<HttpResponse> GetHistory(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRY(id, JobIdParam(request));
  BOOST_OUTCOME_TRYV(CheckParameters(request, {"after_version", "limit"}));
  BOOST_OUTCOME_TRY(after, ParseUintParameter(request, "after_version", 0, INT64_MAX));
  BOOST_OUTCOME_TRY(limit, ParseUintParameter(request, "limit", 1, kMaxHistoryPage));
  BOOST_OUTCOME_TRY(page, ctx.reads->ReadHistory(id, after.value_or(0),
                                                  limit.value_or(kMaxHistoryPage)));
  HttpResponse out;
  if (NotModified(request, page.version, out)) return out;
  std::optional<std::string> next;
  if (page.has_more) {
    next = fmt::format("/v1/jobs/{}/events?after_version={}&limit={}", id,
                       page.events.back().version, limit.value_or(kMaxHistoryPage));
  }
  HttpResponse response = JsonResponse(200, RenderHistory(id, page, next));
  if (next) response.With("Link", fmt::format("<{}>; rel=\"next\"", *next));
  return Cacheable(std::move(response), page.version);
}

ApiResult<HttpResponse> GetLogs(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRY(id, JobIdParam(request));
  BOOST_OUTCOME_TRYV(CheckParameters(request, {"level"}));
  BOOST_OUTCOME_TRY(level, ParseMinLevel(request));
  BOOST_OUTCOME_TRY(logs, ctx.reads->Logs(id, level));
  HttpResponse out;
  if (NotModified(request, logs.version, out)) return out;
  return Cacheable(JsonResponse(200, RenderLogs(id, logs, level)), logs.version);
}

}  // namespace

void AddJobRoutes(Router& router, ApiContext& ctx) {
  router.Add("POST", "/v1/jobs", Bind(ctx, Enqueue));
  router.Add("GET", "/v1/jobs/{id}", BindRead(ctx, GetJob));
  router.Add("POST", "/v1/jobs/{id}/events", Bind(ctx, AppendEvents));
  router.Add("GET", "/v1/jobs/{id}/events", BindRead(ctx, GetHistory));
  router.Add("POST", "/v1/jobs/{id}/cancel", Bind(ctx, Cancel));
  router.Add("GET", "/v1/jobs/{id}/result", BindRead(ctx, GetResult));
  router.Add("GET", "/v1/jobs/{id}/logs", BindRead(ctx, GetLogs));
}

}  // namespace jobtrail::http
