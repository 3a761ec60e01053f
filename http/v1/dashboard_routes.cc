// The API the dashboard needs beyond lists and reads (issue 14): a manual
// retry of one job, bulk actions over everything a filter matches, and the
// per-minute history for charts. Who may call them is in http/security/route_access.cc
// (all admin-only: they act on, or count, every owner's jobs).
#include <fmt/format.h>
#include <rapidjson/document.h>

#include "domain/names.h"
#include "http/v1/api_routes.h"
#include "http/server/error_mapping.h"
#include "http/server/json_reader.h"
#include "http/server/json_writer.h"
#include "http/v1/query_parsing.h"
#include "http/v1/route_binding.h"
#include "http/v1/writes.h"
#include "projections/bulk_action.h"
#include "projections/job_json.h"

namespace jobtrail::http {
namespace {

// POST /v1/jobs/{id}/retry: a failed or cancelled job runs again (a
// `retried` event with manual=true by the caller; domain/job_view.h).
ApiResult<HttpResponse> RetryJob(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRY(id, JobIdParam(request));
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  BOOST_OUTCOME_TRY(expected, ParseIfMatch(request));
  if (request.body.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    rapidjson::Document doc;
    BOOST_OUTCOME_TRYV(ParseJsonBody(request.body, doc));
    BOOST_OUTCOME_TRY(r, ObjectReader::Of(doc, ""));
    BOOST_OUTCOME_TRYV(r.Finish());  // {} only: nothing to say yet
  }
  BOOST_OUTCOME_TRY(actor, ActorOf(request));
  Retried retry;
  retry.manual = true;
  retry.next_run_at = ctx.reads->clock().Now();
  AppendRequest append;
  append.job_id = std::move(id);
  append.expected_version = expected;
  append.events.emplace_back(retry);
  append.actor = std::move(actor);
  return ExecuteAppend(ctx, std::move(append));
}

// The bulk body's filter: the list's query parameters as JSON strings
// (status may also be an array), checked by the list's own parser.
ApiResult<ListQuery> ParseBulkFilter(const rapidjson::Value* filter) {
  HttpRequest as_query;
  as_query.method = "GET";
  if (filter != nullptr) {
    if (!filter->IsObject()) return InvalidField("filter", "must be an object");
    for (const auto& m : filter->GetObject()) {
      const std::string key(m.name.GetString(), m.name.GetStringLength());
      std::string value;
      if (m.value.IsString()) {
        value.assign(m.value.GetString(), m.value.GetStringLength());
      } else if (key == "status" && m.value.IsArray()) {
        for (const auto& s : m.value.GetArray()) {
          if (!s.IsString()) return InvalidField("filter.status", "must hold strings");
          if (!value.empty()) value.push_back(',');
          value.append(s.GetString(), s.GetStringLength());
        }
      } else {
        return InvalidField("filter." + key, "must be a string");
      }
      for (std::string_view allowed : {"status", "type", "queue", "owner", "external_ref",
                                        "created_after", "created_before", "q"}) {
        if (key == allowed) {
          as_query.query.emplace_back(key, std::move(value));
          break;
        }
      }
      if (as_query.query.empty() || as_query.query.back().first != key) {
        return InvalidField("filter." + key, "is not a filter (status, type, queue, owner, "
                                             "external_ref, created_after, created_before, q)");
      }
    }
  }
  return ParseListQuery(as_query);
}

std::string RenderBulk(const BulkRequest& request, const BulkReport& report) {
  JsonWriter w;
  w.StartObject()
      .Field("action", request.action == BulkActionKind::kCancel ? "cancel" : "retry")
      .Field("dry_run", request.dry_run)
      .Field("matched", report.matched)
      .Field("changed", report.changed)
      .Field("skipped", report.skipped)
      .Key("skipped_reasons")
      .StartArray();
  for (const auto& [key, count] : report.skipped_by) {
    w.StartObject()
        .Field("reason", key.first)
        .Field("status", key.second)
        .Field("count", count)
        .EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

// POST /v1/jobs/bulk {"action": "cancel"|"retry", "filter": {...},
// "dry_run": false, "reason": "..."}
ApiResult<HttpResponse> Bulk(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  rapidjson::Document doc;
  BOOST_OUTCOME_TRYV(ParseJsonBody(request.body, doc));
  BOOST_OUTCOME_TRY(r, ObjectReader::Of(doc, ""));
  BOOST_OUTCOME_TRY(action, r.RequiredString("action"));
  BOOST_OUTCOME_TRY(dry_run, r.Bool("dry_run"));
  BOOST_OUTCOME_TRY(reason, r.String("reason", 4096));
  BOOST_OUTCOME_TRY(filter_json, r.AnyJson("filter"));
  BOOST_OUTCOME_TRYV(r.Finish());
  BulkRequest bulk;
  if (action == "cancel") {
    bulk.action = BulkActionKind::kCancel;
  } else if (action == "retry") {
    bulk.action = BulkActionKind::kRetry;
  } else {
    return InvalidField("action", "must be 'cancel' or 'retry'");
  }
  if (reason && bulk.action != BulkActionKind::kCancel) {
    return InvalidField("reason", "only a cancel has a reason");
  }
  rapidjson::Document filter;
  if (filter_json) filter.Parse(filter_json->data(), filter_json->size());
  BOOST_OUTCOME_TRY(query, ParseBulkFilter(filter_json ? &filter : nullptr));
  bulk.filter = std::move(query);
  bulk.dry_run = dry_run.value_or(false);
  bulk.reason = reason.value_or("");
  BOOST_OUTCOME_TRY(actor, ActorOf(request));
  bulk.actor = std::move(actor);
  BOOST_OUTCOME_TRY(report, RunBulkAction(*ctx.reads, *ctx.commands, bulk));
  return JsonResponse(200, RenderBulk(bulk, report));
}

// "60", "90s", "5m", "1h", "1d": a step in whole minutes.
ApiResult<Millis> ParseStep(const std::string* text) {
  if (text == nullptr) return kMinuteMs;
  std::string_view digits = *text;
  Millis unit = 1000;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 's': unit = 1000; digits.remove_suffix(1); break;
      case 'm': unit = kMinuteMs; digits.remove_suffix(1); break;
      case 'h': unit = 60 * kMinuteMs; digits.remove_suffix(1); break;
      case 'd': unit = 24 * 60 * kMinuteMs; digits.remove_suffix(1); break;
      default: break;
    }
  }
  Millis n = 0;
  bool ok = !digits.empty() && digits.size() <= 9;
  for (char c : digits) {
    if (c < '0' || c > '9') ok = false;
    n = n * 10 + (c - '0');
  }
  if (!ok || n <= 0 || (n * unit) % kMinuteMs != 0) {
    return InvalidParameter("step", fmt::format("must be a whole number of minutes, as seconds "
                                                "(60) or with a unit (5m, 1h, 1d), got '{}'",
                                                *text));
  }
  return n * unit;
}

ApiResult<std::optional<Millis>> Time(const HttpRequest& request, std::string_view name) {
  const std::string* text = request.Query(name);
  if (text == nullptr) return std::optional<Millis>();
  auto t = ParseTime(*text);
  if (!t) {
    return InvalidParameter(name, fmt::format("must be an RFC 3339 time or milliseconds since "
                                              "the epoch, got '{}'", *text));
  }
  return std::optional<Millis>(*t);
}

Millis FloorMinute(Millis t) { return t - ((t % kMinuteMs) + kMinuteMs) % kMinuteMs; }

// GET /v1/stats/series?from&to&step&type
ApiResult<HttpResponse> GetSeries(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(CheckParameters(request, {"from", "to", "step", "type"}));
  BOOST_OUTCOME_TRY(step, ParseStep(request.Query("step")));
  BOOST_OUTCOME_TRY(from, Time(request, "from"));
  BOOST_OUTCOME_TRY(to, Time(request, "to"));
  SeriesQuery q;
  q.step = step;
  // Whole minutes: `to` rounds up (the current minute is included).
  q.to = to ? FloorMinute(*to + kMinuteMs - 1) : FloorMinute(ctx.reads->clock().Now()) + kMinuteMs;
  q.from = from ? FloorMinute(*from) : q.to - 60 * kMinuteMs;
  if (q.from >= q.to) return InvalidParameter("from", "must be before to");
  if ((q.to - q.from + q.step - 1) / q.step > Millis(kMaxSeriesPoints)) {
    return InvalidParameter("step", fmt::format("the range has more than {} steps: widen the "
                                                "step", kMaxSeriesPoints));
  }
  if (const std::string* type = request.Query("type")) {
    if (!IsValidName(*type)) {
      return InvalidParameter("type", fmt::format("must be at most {} bytes without control "
                                                  "characters", kMaxNameLength));
    }
    q.type = *type;
  }
  BOOST_OUTCOME_TRY(points, ctx.reads->Series(q));
  JsonWriter w;
  w.StartObject()
      .StringOrNull("type", q.type)
      .Field("from", FormatTime(q.from))
      .Field("to", FormatTime(q.to))
      .Field("step_seconds", int64_t{q.step / 1000})
      .Key("points")
      .StartArray();
  for (const SeriesPoint& p : points) {
    const SeriesCounts& c = p.counts;
    w.StartObject()
        .Field("time", FormatTime(p.start))
        .Field("enqueued", c.enqueued)
        .Field("started", c.started)
        .Field("completed", c.completed)
        .Field("failed", c.failed)
        .Field("retried", c.retried)
        .Field("cancelled", c.cancelled)
        .Key("processing_time")
        .StartObject()
        .Field("count", p.processing.count)
        .Field("mean_ms", p.processing.mean_ms)
        .Field("p50_ms", p.processing.p50_ms)
        .Field("p95_ms", p.processing.p95_ms)
        .Field("p99_ms", p.processing.p99_ms)
        .EndObject()
        .EndObject();
  }
  w.EndArray().EndObject();
  return JsonResponse(200, w.Take());
}

}  // namespace

void AddDashboardRoutes(Router& router, ApiContext& ctx) {
  router.Add("POST", "/v1/jobs/{id}/retry", Bind(ctx, RetryJob));
  router.Add("POST", "/v1/jobs/bulk", Bind(ctx, Bulk));
  router.Add("GET", "/v1/stats/series", Bind(ctx, GetSeries));
}

}  // namespace jobtrail::http
