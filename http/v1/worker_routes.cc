// The worker protocol over HTTP: claim jobs with a lease, heartbeat to keep
// the lease, and a maintenance pass (expire overdue leases: the store
// retries or fails those jobs by their retry policy).
#include <rapidjson/document.h>

#include <fmt/format.h>

#include "http/server/error_mapping.h"
#include "http/server/ids.h"
#include "http/server/json_reader.h"
#include "http/server/json_writer.h"
#include "http/v1/api_routes.h"
#include "http/v1/metrics.h"
#include "http/v1/query_parsing.h"
#include "http/v1/request_parsing.h"
#include "http/v1/route_binding.h"
#include "http/v1/writes.h"
#include "projections/job_json.h"

namespace jobtrail::http {
namespace {

constexpr int64_t kMaxLeaseMs = 24 * 3600 * 1000;
constexpr int64_t kMaxClaimJobs = 100;

// An optional JSON object body: empty means {}.
ApiResult<void> ParseOptionalBody(std::string_view body, rapidjson::Document& doc) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    doc.SetObject();
    return boost::outcome_v2::success();
  }
  return ParseJsonBody(body, doc);
}

// "append": [{"job_id", "events": [...], "expected_version"?}, ...] riding
// along a claim (the worker's finish-and-fetch-next round trip).
ApiResult<std::vector<AppendRequest>> ParseClaimAppends(ObjectReader& r,
                                                        const std::string& actor) {
  std::vector<AppendRequest> appends;
  const rapidjson::Value* list = r.Get("append");
  if (list == nullptr) return appends;
  if (!list->IsArray() || list->Size() > kMaxClaimJobs) {
    return InvalidField("append", fmt::format("must be an array of at most {} appends",
                                              kMaxClaimJobs));
  }
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    BOOST_OUTCOME_TRY(append, ParseJobAppend((*list)[i], fmt::format("append[{}]", i)));
    append.actor = actor;
    appends.push_back(std::move(append));
  }
  return appends;
}

void RenderAppended(JsonWriter& w, ApiContext& ctx, const std::vector<AppendRequest>& appends,
                    const std::vector<Result<WriteOutcome>>& outcomes) {
  w.Key("appended").StartArray();
  for (size_t i = 0; i < outcomes.size(); ++i) {
    const Result<WriteOutcome>& o = outcomes[i];
    w.StartObject().Field("job_id", appends[i].job_id);
    if (o) {
      w.Field("status", StatusName(o.value().status))
          .Field("version", o.value().version)
          .Field("position", o.value().position);
      if (ctx.metrics != nullptr) {
        EventKindCounts kinds{};
        for (const EventBody& e : appends[i].events) ++kinds[e.index()];
        ctx.metrics->RecordAppend(kinds);
      }
    } else {
      w.Field("http_status", int64_t{HttpStatusFor(o.error())})
          .Key("error")
          .StartObject()
          .Field("code", o.error().reason)
          .Field("message", o.error().message)
          .EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
}

ApiResult<HttpResponse> Claim(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  rapidjson::Document doc;
  BOOST_OUTCOME_TRYV(ParseJsonBody(request.body, doc));
  BOOST_OUTCOME_TRY(r, ObjectReader::Of(doc, ""));
  ClaimRequest claim;
  claim.queue = *request.Param("queue");
  BOOST_OUTCOME_TRY(worker_id, r.RequiredString("worker_id", 256));
  BOOST_OUTCOME_TRY(lease_ms, r.Int("lease_ms", 1, kMaxLeaseMs));
  BOOST_OUTCOME_TRY(max_jobs, r.Int("max_jobs", 0, kMaxClaimJobs));
  claim.actor = ActorNamed(request.principal, worker_id);
  const bool with_appends = r.Get("append") != nullptr;
  BOOST_OUTCOME_TRY(appends, ParseClaimAppends(r, claim.actor));
  BOOST_OUTCOME_TRYV(r.Finish());
  if (max_jobs && *max_jobs == 0 && appends.empty()) {
    return InvalidField("max_jobs", "may be 0 only when \"append\" is given");
  }
  claim.worker_id = std::move(worker_id);
  if (lease_ms) claim.lease_ms = *lease_ms;
  if (max_jobs) claim.max_jobs = size_t(*max_jobs);
  std::vector<AppendRequest> sent = appends;  // for the answer
  BOOST_OUTCOME_TRY(outcome, ctx.workers->AppendAndClaim(std::move(appends), claim));
  const std::vector<ClaimedJob>& jobs = outcome.jobs;
  if (ctx.metrics != nullptr && !jobs.empty()) {
    EventKindCounts kinds{};
    kinds[size_t(EventKind::kStarted)] = jobs.size();
    ctx.metrics->RecordAppend(kinds);
  }
  JsonWriter w;
  w.StartObject().Field("queue", claim.queue);
  if (with_appends) RenderAppended(w, ctx, sent, outcome.appended);
  w.Key("jobs").StartArray();
  for (const ClaimedJob& job : jobs) {
    w.StartObject()
        .Field("job_id", job.job_id)
        .Field("version", job.version)
        .Field("attempt", int64_t{job.attempt})
        .Field("lease_deadline", FormatTime(job.lease_deadline))
        .Field("status_url", StatusUrl(job.job_id))
        .RawField("job", job.json)
        .EndObject();
  }
  w.EndArray().EndObject();
  return JsonResponse(200, w.Take());
}

ApiResult<HttpResponse> Heartbeat(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  BOOST_OUTCOME_TRY(id, JobIdParam(request));
  rapidjson::Document doc;
  BOOST_OUTCOME_TRYV(ParseJsonBody(request.body, doc));
  BOOST_OUTCOME_TRY(r, ObjectReader::Of(doc, ""));
  HeartbeatRequest beat;
  beat.job_id = id;
  BOOST_OUTCOME_TRY(worker_id, r.RequiredString("worker_id", 256));
  BOOST_OUTCOME_TRY(lease_ms, r.Int("lease_ms", 1, kMaxLeaseMs));
  BOOST_OUTCOME_TRY(percent, r.Number("percent", 0, 100));
  BOOST_OUTCOME_TRY(message, r.String("message"));
  BOOST_OUTCOME_TRYV(r.Finish());
  beat.actor = ActorNamed(request.principal, worker_id);
  beat.worker_id = std::move(worker_id);
  if (lease_ms) beat.lease_ms = *lease_ms;
  beat.percent = percent;
  beat.message = message.value_or("");
  BOOST_OUTCOME_TRY(out, ctx.workers->Heartbeat(beat));
  if (ctx.metrics != nullptr && out.keep_working) {
    EventKindCounts kinds{};
    kinds[size_t(EventKind::kProgressed)] = 1;
    ctx.metrics->RecordAppend(kinds);
  }
  JsonWriter w;
  w.StartObject()
      .Field("job_id", id)
      .Field("status", StatusName(out.status))
      .Field("keep_working", out.keep_working)
      .Field("cancelled", out.cancelled)
      .Key("lease_deadline");
  if (out.lease_deadline) {
    w.String(FormatTime(*out.lease_deadline));
  } else {
    w.Null();
  }
  w.Field("version", out.version).EndObject();
  HttpResponse response = JsonResponse(200, w.Take());
  response.With("ETag", VersionETag(out.version));
  return response;
}

ApiResult<HttpResponse> Maintenance(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  rapidjson::Document doc;
  BOOST_OUTCOME_TRYV(ParseOptionalBody(request.body, doc));
  BOOST_OUTCOME_TRY(r, ObjectReader::Of(doc, ""));
  BOOST_OUTCOME_TRY(cleanup, r.Int("cleanup_older_than_ms", 0, INT64_MAX));
  BOOST_OUTCOME_TRYV(r.Finish());
  MaintenanceOptions options;
  options.cleanup_older_than_ms = cleanup;
  BOOST_OUTCOME_TRY(report, ctx.admin->RunMaintenance(options));
  JsonWriter w;
  w.StartObject()
      .Field("due_retries", report.due_retries)
      .Field("due_delayed", report.due_delayed)
      .Field("leases_expired", report.leases_expired)
      .Field("retried", report.retried)
      .Field("failed", report.failed)
      .Field("cleaned", report.cleaned)
      .Field("expired", report.expired)
      .EndObject();
  return JsonResponse(200, w.Take());
}

}  // namespace

void AddWorkerRoutes(Router& router, ApiContext& ctx) {
  router.Add("POST", "/v1/queues/{queue}/claim", Bind(ctx, Claim));
  router.Add("POST", "/v1/jobs/{id}/heartbeat", Bind(ctx, Heartbeat));
  router.Add("POST", "/v1/maintenance", Bind(ctx, Maintenance));
}

}  // namespace jobtrail::http
