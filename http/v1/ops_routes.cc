// Operational routes: liveness, readiness, Prometheus metrics.
#include "http/server/error_mapping.h"
#include "http/server/json_writer.h"
#include "http/v1/api_routes.h"
#include "http/v1/metrics.h"
#include "http/v1/query_parsing.h"
#include "http/v1/route_binding.h"
#include "http/v1/readiness.h"

namespace jobtrail::http {
namespace {

std::string NotReadyMessage(const std::string& reason) {
  if (reason == "projection_failed") return "the read models stopped (see the server log)";
  if (reason == "storage_unavailable") {
    return "storage is unavailable (the disk is full or failing): writes are refused, reads "
           "go on";
  }
  if (reason == "projection_lagging") return "the read models lag behind the log";
  return "the read models are catching up with the log";
}

// Liveness: the process answers. Never touches the store.
ApiResult<HttpResponse> Healthz(ApiContext&, const HttpRequest&) {
  return JsonResponse(200, R"({"status":"ok"})");
}

// Readiness (readiness.h): the read models have caught up since start and
// keep up, and the store can write. Until then reads may be stale or writes
// refused, so load balancers should wait; the details say why.
ApiResult<HttpResponse> Readyz(ApiContext& ctx, const HttpRequest&) {
  const ProjectionProgress p = ctx.reads->Progress();
  const StoreVitals v = ctx.reads->Vitals();
  const Readiness r = Assess(p, v, ctx.max_projection_lag_ms);
  std::string body = RenderReadiness(r, p, v);
  if (!r.ready) {
    return ApiError(MakeError(Code::kUnavailable, "NOT_READY", NotReadyMessage(r.reason)),
                    std::move(body));
  }
  return JsonResponse(200, std::move(body));
}

ApiResult<HttpResponse> GetMetrics(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  if (ctx.metrics == nullptr) return Internal("metrics are not enabled");
  const ProjectionProgress p = ctx.reads->Progress();
  const StoreVitals v = ctx.reads->Vitals();
  HttpResponse r;
  r.body = ctx.metrics->Render(p, ctx.reads->Stats(), v, Assess(p, v, ctx.max_projection_lag_ms));
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
