// Operational routes: liveness, readiness, Prometheus metrics.
#include "http/server/error_mapping.h"
#include "http/server/json_writer.h"
#include "http/v1/api_routes.h"
#include "http/v1/metrics.h"
#include "http/v1/query_parsing.h"
#include "http/v1/route_binding.h"

namespace jobtrail::http {
namespace {

// Liveness: the process answers. Never touches the store.
ApiResult<HttpResponse> Healthz(ApiContext&, const HttpRequest&) {
  return JsonResponse(200, R"({"status":"ok"})");
}

// Readiness: the read models have caught up with the log since start (until
// then reads may be stale, so load balancers should wait).
ApiResult<HttpResponse> Readyz(ApiContext& ctx, const HttpRequest&) {
  const ProjectionProgress p = ctx.reads->Progress();
  JsonWriter d;
  d.StartObject()
      .Field("ready", p.ready)
      .Field("log_position", p.log_position)
      .Field("projected_position", p.projected_position)
      .EndObject();
  if (!p.ready) {
    return ApiError(MakeError(Code::kUnavailable, "NOT_READY",
                              "the read models are catching up with the log"),
                    d.Take());
  }
  return JsonResponse(200, d.Take());
}

ApiResult<HttpResponse> GetMetrics(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  if (ctx.metrics == nullptr) return Internal("metrics are not enabled");
  HttpResponse r;
  r.body = ctx.metrics->Render(ctx.reads->Progress(), ctx.reads->Stats());
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return r;
}

}  // namespace

void AddOpsRoutes(Router& router, ApiContext& ctx) {
  router.Add("GET", "/healthz", Bind(ctx, Healthz));
  router.Add("GET", "/readyz", Bind(ctx, Readyz));
  router.Add("GET", "/metrics", Bind(ctx, GetMetrics));
}

}  // namespace jobtrail::http
