// Schedules over HTTP: list them with their next run and whether a run is
// running, create or replace one, delete one, trigger a run now. The
// definitions live beside the log (projections/schedule_book.h); the runs
// they fire are ordinary enqueued jobs labelled with the schedule's name.
#include <rapidjson/document.h>

#include "http/server/error_mapping.h"
#include "http/server/json_reader.h"
#include "http/server/json_writer.h"
#include "http/v1/api_routes.h"
#include "http/v1/query_parsing.h"
#include "http/v1/route_binding.h"
#include "http/v1/writes.h"
#include "projections/job_json.h"

namespace jobtrail::http {
namespace {

void WriteSchedule(JsonWriter& w, const ScheduleView& view) {
  const ScheduleSpec& spec = view.schedule.spec;
  w.StartObject()
      .Field("name", spec.name)
      .Field("display_name", spec.display_name)
      .Field("cron", spec.cron)
      .Field("time_zone", spec.time_zone)
      .Field("job_type", spec.job_type)
      .Field("queue", spec.queue)
      .Field("max_attempts", int64_t{spec.max_attempts})
      .Field("catch_up", std::string(CatchUpName(spec.catch_up)))
      .Field("running", view.running);
  w.Key("payload");
  if (spec.payload_json.empty()) {
    w.Null();
  } else {
    w.Raw(spec.payload_json);
  }
  w.Key("next_run_at");
  view.schedule.next_run_at ? w.String(FormatTime(*view.schedule.next_run_at)) : w.Null();
  w.Key("last_fired_at");
  view.schedule.last_fired_at ? w.String(FormatTime(*view.schedule.last_fired_at)) : w.Null();
  w.Key("last_job_id");
  view.schedule.last_job_id.empty() ? w.Null() : w.String(view.schedule.last_job_id);
  w.EndObject();
}

HttpResponse ScheduleResponse(int status, const ScheduleView& view) {
  JsonWriter w;
  WriteSchedule(w, view);
  return JsonResponse(status, w.Take());
}

ApiResult<HttpResponse> List(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  BOOST_OUTCOME_TRY(views, ctx.schedules->ListSchedules());
  JsonWriter w;
  w.StartObject().Key("schedules").StartArray();
  for (const ScheduleView& view : views) WriteSchedule(w, view);
  w.EndArray().Field("now", FormatTime(ctx.reads->clock().Now())).EndObject();
  return JsonResponse(200, w.Take());
}

ApiResult<HttpResponse> Get(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  BOOST_OUTCOME_TRY(view, ctx.schedules->GetSchedule(*request.Param("name")));
  return ScheduleResponse(200, view);
}

ApiResult<HttpResponse> Put(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  rapidjson::Document doc;
  BOOST_OUTCOME_TRYV(ParseJsonBody(request.body, doc));
  BOOST_OUTCOME_TRY(r, ObjectReader::Of(doc, ""));
  ScheduleSpec spec;
  spec.name = *request.Param("name");
  BOOST_OUTCOME_TRY(cron, r.RequiredString("cron", 256));
  BOOST_OUTCOME_TRY(time_zone, r.String("time_zone", 64));
  BOOST_OUTCOME_TRY(display_name, r.String("display_name", 256));
  BOOST_OUTCOME_TRY(job_type, r.String("job_type", 256));
  BOOST_OUTCOME_TRY(queue, r.String("queue", 256));
  BOOST_OUTCOME_TRY(payload, r.AnyJson("payload"));
  BOOST_OUTCOME_TRY(max_attempts, r.Int("max_attempts", 1, 1000));
  BOOST_OUTCOME_TRY(catch_up, r.String("catch_up", 16));
  BOOST_OUTCOME_TRYV(r.Finish());
  spec.cron = std::move(cron);
  spec.time_zone = time_zone.value_or("UTC");
  spec.display_name = display_name.value_or("");
  spec.job_type = job_type.value_or("");
  spec.queue = queue.value_or("");
  spec.payload_json = payload.value_or("");
  spec.max_attempts = int32_t(max_attempts.value_or(1));
  if (catch_up) {
    auto parsed = ParseCatchUp(*catch_up);
    if (!parsed) {
      return ApiError(InvalidArgument("catch_up: must be 'once' or 'skip'"),
                      R"({"field":"catch_up","allowed":["once","skip"]})");
    }
    spec.catch_up = *parsed;
  }
  BOOST_OUTCOME_TRY(view, ctx.schedules->PutSchedule(std::move(spec)));
  return ScheduleResponse(200, view);
}

ApiResult<HttpResponse> Delete(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  BOOST_OUTCOME_TRYV(ctx.schedules->DeleteSchedule(*request.Param("name")));
  HttpResponse response;
  response.status = 204;
  return response;
}

ApiResult<HttpResponse> Trigger(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  const std::string actor = request.principal.subject.empty() ? "api" : request.principal.subject;
  BOOST_OUTCOME_TRY(out, ctx.schedules->TriggerSchedule(*request.Param("name"), actor));
  JsonWriter w;
  w.StartObject()
      .Field("schedule", *request.Param("name"))
      .Field("job_id", out.job_id)
      .Field("status", StatusName(out.status))
      .Field("status_url", StatusUrl(out.job_id))
      .EndObject();
  HttpResponse response = JsonResponse(201, w.Take());
  response.With("Location", StatusUrl(out.job_id));
  return response;
}

}  // namespace

void AddScheduleRoutes(Router& router, ApiContext& ctx) {
  router.Add("GET", "/v1/schedules", Bind(ctx, List));
  router.Add("GET", "/v1/schedules/{name}", Bind(ctx, Get));
  router.Add("PUT", "/v1/schedules/{name}", Bind(ctx, Put));
  router.Add("DELETE", "/v1/schedules/{name}", Bind(ctx, Delete));
  router.Add("POST", "/v1/schedules/{name}/trigger", Bind(ctx, Trigger));
}

}  // namespace jobtrail::http
