// Routes over many jobs: list, stats, health, the global event feed, and the
// batch write route.
#include <fmt/format.h>
#include <rapidjson/document.h>

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

namespace jobtrail::http {
namespace {

ApiResult<HttpResponse> ListJobs(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRY(query, ParseListQuery(request));
  // A non-admin sees its own jobs only; asking for another owner's is an
  // empty list, not an error (which would say the owner exists).
  if (!RestrictListToOwner(request.principal, query)) {
    return JsonResponse(200, RenderListPage(ListPage{}, query));
  }
  BOOST_OUTCOME_TRY(page, ctx.reads->List(query));
  return JsonResponse(200, RenderListPage(page, query));
}

ApiResult<HttpResponse> GetStats(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  return JsonResponse(200, RenderStats(ctx.reads->Stats()));
}

ApiResult<HttpResponse> GetHealth(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  return JsonResponse(200, RenderHealth(ctx.reads->Health()));
}

ApiResult<HttpResponse> GetFeed(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRY(query, ParseFeedQuery(request));
  // Non-admins get the events of their own jobs only.
  BOOST_OUTCOME_TRY(page, OwnFeed(*ctx.reads, request.principal, query.after, query.limit));
  return JsonResponse(200, RenderFeed(page.events, page.next_after, page.has_more));
}

ApiResult<HttpResponse> Batch(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  rapidjson::Document doc;
  BOOST_OUTCOME_TRYV(ParseJsonBody(request.body, doc));
  BOOST_OUTCOME_TRY(operations, ParseBatch(doc, ctx.max_batch_operations));
  BOOST_OUTCOME_TRY(actor, ActorOf(request));
  // Every operation that passes its own checks goes to the store in one
  // WriteMany: one commit for the whole batch.
  std::vector<HttpResponse> answers(operations.size());
  std::vector<WriteCommand> commands;
  std::vector<size_t> command_of;  // commands[k] answers operations[command_of[k]]
  for (size_t i = 0; i < operations.size(); ++i) {
    if (!operations[i]) {
      answers[i] = ErrorResponse(operations[i].error());
    } else if (BatchOperation& op = operations[i].value();
               op.kind == BatchOperation::Kind::kEnqueue) {
      op.enqueue.actor = actor;
      if (auto owned = ApplyEnqueueOwner(request.principal, op.enqueue); !owned) {
        answers[i] = ErrorResponse(owned.error());
      } else if (auto checked = CheckCallbackUrl(
                     ctx, op.enqueue, fmt::format("operations[{}].job.callback_url", i));
                 !checked) {
        answers[i] = ErrorResponse(checked.error());
      } else {
        commands.emplace_back(op.enqueue);
        command_of.push_back(i);
      }
    } else {
      op.append.actor = actor;
      commands.emplace_back(op.append);
      command_of.push_back(i);
    }
  }
  auto outcomes = ctx.commands->WriteMany(std::move(commands));
  for (size_t k = 0; k < outcomes.size(); ++k) {
    BatchOperation& op = operations[command_of[k]].value();
    answers[command_of[k]] = op.kind == BatchOperation::Kind::kEnqueue
                                 ? RenderEnqueue(ctx, outcomes[k])
                                 : RenderAppend(ctx, outcomes[k], op.append);
  }
  JsonWriter w;
  w.StartObject().Key("results").StartArray();
  uint64_t succeeded = 0;
  for (size_t i = 0; i < operations.size(); ++i) {
    const HttpResponse& r = answers[i];
    if (r.status < 400) ++succeeded;
    w.StartObject()
        .Field("index", uint64_t{i})
        .Field("status", r.status)
        .RawField("body", r.body)
        .EndObject();
  }
  w.EndArray()
      .Field("succeeded", succeeded)
      .Field("failed", uint64_t{operations.size() - succeeded})
      .EndObject();
  return JsonResponse(200, w.Take());
}

}  // namespace

void AddCollectionRoutes(Router& router, ApiContext& ctx) {
  router.Add("GET", "/v1/jobs", BindRead(ctx, ListJobs));
  router.Add("GET", "/v1/stats", BindRead(ctx, GetStats));
  router.Add("GET", "/v1/health", BindRead(ctx, GetHealth));
  router.Add("GET", "/v1/events", BindRead(ctx, GetFeed));
  router.Add("POST", "/v1/batch", Bind(ctx, Batch));
}

void AddApiRoutes(Router& router, ApiContext& ctx) {
  AddJobRoutes(router, ctx);
  AddCollectionRoutes(router, ctx);
  AddWorkerRoutes(router, ctx);
  AddOpsRoutes(router, ctx);
  AddShareRoutes(router, ctx);
  AddScheduleRoutes(router, ctx);
  AddDashboardRoutes(router, ctx);
  AddAdminRoutes(router, ctx);
}

std::vector<RouteInfo> ApiRouteList() {
  Router router;
  ApiContext unused;
  AddApiRoutes(router, unused);
  return router.routes();
}

}  // namespace jobtrail::http
