// The /v1/webhooks routes: subscriptions (create, list, read, delete), their
// delivery attempts, and the caller's callback secret. Every route is for
// any credential but a share link (kListRead); the handlers scope what a
// caller sees (subscription_book.h: its own subscriptions, all for admins).
#include <fmt/format.h>
#include <rapidjson/document.h>

#include "domain/names.h"
#include "http/v1/api_routes.h"
#include "http/server/error_mapping.h"
#include "http/server/json_reader.h"
#include "http/server/json_writer.h"
#include "http/v1/query_parsing.h"
#include "http/webhooks/signature.h"
#include "http/webhooks/webhook_service.h"
#include "http/webhooks/webhook_url.h"
#include "projections/job_json.h"
#include "projections/uuid.h"
#include "http/security/crypto.h"

namespace jobtrail::webhooks {
namespace {

using http::ApiError;
using http::ApiResult;
using http::HttpRequest;
using http::HttpResponse;
using http::JsonWriter;

constexpr size_t kMaxFilterValues = 100;
constexpr size_t kDefaultAttempts = 50;
constexpr size_t kMaxAttempts = 1000;

struct Route {
  const char* method;
  const char* pattern;
};
constexpr Route kRoutes[] = {
    {"POST", "/v1/webhooks"},
    {"GET", "/v1/webhooks"},
    {"GET", "/v1/webhooks/callback-secret"},
    {"GET", "/v1/webhooks/{id}"},
    {"DELETE", "/v1/webhooks/{id}"},
    {"GET", "/v1/webhooks/{id}/deliveries"},
};

Error Forbidden(std::string message) {
  return MakeError(Code::kPermissionDenied, "FORBIDDEN", std::move(message));
}

bool MayManage(const http::Principal& p, const Subscription& s) {
  return p.admin() || s.created_by == p.subject;
}

std::string RenderSubscription(const Subscription& s, bool with_secret) {
  JsonWriter w;
  w.StartObject()
      .Field("id", s.id)
      .Field("url", s.url)
      .StringOrNull("description", s.description)
      .StringOrNull("owner", s.owner);
  for (const auto& [name, list] : {std::pair{"types", &s.types}, std::pair{"queues", &s.queues}}) {
    w.Key(name).StartArray();
    for (const std::string& v : *list) w.String(v);
    w.EndArray();
  }
  w.Key("statuses").StartArray();
  for (JobStatus status : s.statuses) w.String(StatusName(status));
  w.EndArray();
  w.StringOrNull("created_by", s.created_by)
      .Field("created_at", FormatTime(s.created_at))
      .Field("after_position", s.after_position)
      .Field("deliveries_url", fmt::format("/v1/webhooks/{}/deliveries", s.id));
  if (with_secret) w.Field("secret", s.secret);
  w.EndObject();
  return w.Take();
}

// An array of names ("types", "queues"): at most kMaxFilterValues, each a
// valid non-empty name.
ApiResult<std::vector<std::string>> NameList(http::ObjectReader& r, std::string_view key) {
  std::vector<std::string> out;
  const rapidjson::Value* v = r.Get(key);
  if (v == nullptr) return out;
  const std::string path = r.PathOf(key);
  if (!v->IsArray() || v->Size() > kMaxFilterValues) {
    return http::InvalidField(
        path, fmt::format("must be an array of at most {} strings", kMaxFilterValues));
  }
  for (const auto& item : v->GetArray()) {
    if (!item.IsString() || item.GetStringLength() == 0 || item.GetStringLength() > 256 ||
        !IsValidName(std::string_view(item.GetString(), item.GetStringLength()))) {
      return http::InvalidField(path, "must hold names of 1 to 256 bytes without control "
                                      "characters");
    }
    out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return out;
}

ApiResult<std::vector<JobStatus>> StatusList(http::ObjectReader& r) {
  std::vector<JobStatus> out;
  const rapidjson::Value* v = r.Get("statuses");
  if (v == nullptr) return std::vector<JobStatus>{JobStatus::kCompleted, JobStatus::kFailed,
                                                  JobStatus::kCancelled};
  const std::string path = r.PathOf("statuses");
  const std::string allowed =
      R"(["pending","running","retrying","completed","failed","cancelled"])";
  if (!v->IsArray() || v->Empty()) {
    return ApiError(MakeError(Code::kInvalidArgument, "INVALID_INPUT",
                              fmt::format("{}: must be a non-empty array of statuses", path)),
                    fmt::format(R"({{"field":{},"allowed":{}}})", http::JsonQuote(path), allowed));
  }
  for (const auto& item : v->GetArray()) {
    std::optional<JobStatus> status;
    if (item.IsString()) status = ParseStatus(item.GetString());
    if (!status) {
      return ApiError(
          MakeError(Code::kInvalidArgument, "INVALID_INPUT",
                    fmt::format("{}: holds an unknown status", path)),
          fmt::format(R"({{"field":{},"allowed":{}}})", http::JsonQuote(path), allowed));
    }
    if (std::find(out.begin(), out.end(), *status) == out.end()) out.push_back(*status);
  }
  return out;
}

ApiResult<std::string> NewId() {
  auto bytes = http::RandomBytes(8);
  if (!bytes) return ApiError(Internal("the random generator failed"));
  return "wh_" + http::HexEncode(*bytes);
}

ApiResult<HttpResponse> Create(WebhookService& service, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(http::CheckParameters(request, {}));
  rapidjson::Document doc;
  BOOST_OUTCOME_TRYV(http::ParseJsonBody(request.body, doc));
  BOOST_OUTCOME_TRY(r, http::ObjectReader::Of(doc, ""));
  BOOST_OUTCOME_TRY(url, r.RequiredString("url", kMaxWebhookUrlBytes));
  BOOST_OUTCOME_TRY(secret, r.String("secret", 256));
  BOOST_OUTCOME_TRY(description, r.String("description", 1024));
  BOOST_OUTCOME_TRY(owner, r.String("owner", 256));
  BOOST_OUTCOME_TRY(types, NameList(r, "types"));
  BOOST_OUTCOME_TRY(queues, NameList(r, "queues"));
  BOOST_OUTCOME_TRY(statuses, StatusList(r));
  BOOST_OUTCOME_TRYV(r.Finish());
  const bool allow_private = service.options().allow_private;
  auto checked = CheckWebhookUrl(url, allow_private);
  if (!checked) return http::InvalidField("url", checked.error().message);
  // Off the reactor: POSTs run on the write pool.
  if (auto resolves = CheckResolves(checked.value(), allow_private); !resolves) {
    return http::InvalidField("url", resolves.error().message);
  }
  if (secret) {
    const bool visible = std::all_of(secret->begin(), secret->end(),
                                     [](unsigned char c) { return c > 0x20 && c < 0x7f; });
    if (secret->size() < 16 || !visible) {
      return http::InvalidField("secret", "must be 16 to 256 visible ASCII characters");
    }
  }
  if (owner && !IsValidName(*owner)) {
    return http::InvalidField("owner", "must not contain control characters");
  }
  const http::Principal& p = request.principal;
  Subscription s;
  if (p.admin()) {
    s.owner = owner.value_or("");
  } else if (owner && *owner != p.subject) {
    return ApiError(Forbidden("only an admin may subscribe to another owner's jobs"));
  } else {
    s.owner = p.subject;  // a non-admin hears of its own jobs only
  }
  BOOST_OUTCOME_TRY(id, NewId());
  s.id = std::move(id);
  s.url = checked.value().url;
  if (secret) {
    s.secret = std::move(*secret);
  } else {
    BOOST_OUTCOME_TRY(generated, NewSecret());
    s.secret = std::move(generated);
  }
  s.description = description.value_or("");
  s.types = std::move(types);
  s.queues = std::move(queues);
  s.statuses = std::move(statuses);
  s.created_by = p.subject;
  s.created_at = service.store().clock().Now();
  // The tap keeps these statuses from now on, before the first event the
  // subscription is for can be committed (the log's head, read after).
  if (FeedTap* tap = service.options().dispatch.tap) {
    for (JobStatus status : s.statuses) tap->Want(status);
  }
  s.after_position = service.store().Progress().log_position;
  BOOST_OUTCOME_TRYV(service.book().Add(s));
  HttpResponse out = http::JsonResponse(201, RenderSubscription(s, /*with_secret=*/true));
  out.With("Location", "/v1/webhooks/" + s.id).With("Cache-Control", "no-store");
  return out;
}

ApiResult<HttpResponse> List(WebhookService& service, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(http::CheckParameters(request, {}));
  JsonWriter w;
  w.StartObject().Key("webhooks").StartArray();
  for (const Subscription& s : service.book().List()) {
    if (MayManage(request.principal, s)) w.Raw(RenderSubscription(s, false));
  }
  w.EndArray().EndObject();
  return http::JsonResponse(200, w.Take());
}

// The subscription named by {id}, if the caller may see it; otherwise the
// same 404 as for one that does not exist.
ApiResult<Subscription> Visible(WebhookService& service, const HttpRequest& request) {
  const std::string* id = request.Param("id");
  if (id == nullptr) return ApiError(Internal("webhook route without {id}"));
  auto s = service.book().Get(*id);
  if (!s || !MayManage(request.principal, *s)) return ApiError(WebhookNotFound(*id));
  return std::move(*s);
}

ApiResult<HttpResponse> Get(WebhookService& service, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(http::CheckParameters(request, {}));
  BOOST_OUTCOME_TRY(s, Visible(service, request));
  return http::JsonResponse(200, RenderSubscription(s, false));
}

ApiResult<HttpResponse> Delete(WebhookService& service, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(http::CheckParameters(request, {}));
  BOOST_OUTCOME_TRY(s, Visible(service, request));
  BOOST_OUTCOME_TRYV(service.book().Remove(s.id));
  HttpResponse out;
  out.status = 204;
  out.content_type.clear();
  return out;
}

ApiResult<HttpResponse> Deliveries(WebhookService& service, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(http::CheckParameters(request, {"limit", "before"}));
  BOOST_OUTCOME_TRY(s, Visible(service, request));
  BOOST_OUTCOME_TRY(limit, http::ParseUintParameter(request, "limit", 1, kMaxAttempts));
  BOOST_OUTCOME_TRY(before, http::ParseUintParameter(request, "before", 1, UINT64_MAX));
  BOOST_OUTCOME_TRY(page, service.store().WebhookAttempts(s.id, before.value_or(0),
                                                          limit.value_or(kDefaultAttempts)));
  JsonWriter w;
  w.StartObject().Field("webhook_id", s.id).Key("attempts").StartArray();
  for (const std::string& a : page.attempts_json) w.Raw(a);
  w.EndArray().Field("has_more", page.next_before != 0);
  if (page.next_before != 0) {
    w.Field("next_before", page.next_before);
  } else {
    w.Key("next_before").Null();
  }
  w.EndObject();
  return http::JsonResponse(200, w.Take());
}

ApiResult<HttpResponse> CallbackSecretOf(WebhookService& service, const HttpRequest& request) {
  BOOST_OUTCOME_TRYV(http::CheckParameters(request, {"owner"}));
  const http::Principal& p = request.principal;
  std::string owner = p.subject;
  if (const std::string* asked = request.Query("owner"); asked && *asked != p.subject) {
    if (!p.admin()) return ApiError(Forbidden("only an admin may read another owner's secret"));
    owner = *asked;
  }
  JsonWriter w;
  w.StartObject()
      .StringOrNull("owner", owner)
      .Field("secret", CallbackSecret(service.signing_key(), owner))
      .EndObject();
  HttpResponse out = http::JsonResponse(200, w.Take());
  out.With("Cache-Control", "no-store");
  return out;
}

using Handler = ApiResult<HttpResponse> (*)(WebhookService&, const HttpRequest&);

http::RouteHandler Bind(WebhookService& service, Handler handler) {
  return [&service, handler](const HttpRequest& request) {
    auto response = handler(service, request);
    return response ? std::move(response).value() : http::ErrorResponse(response.error());
  };
}

}  // namespace

void WebhookService::Mount(http::Router& router, http::ApiContext& context) {
  const Handler handlers[] = {Create, List, CallbackSecretOf, Get, Delete, Deliveries};
  static_assert(std::size(handlers) == std::size(kRoutes));
  for (size_t i = 0; i < std::size(kRoutes); ++i) {
    router.Add(kRoutes[i].method, kRoutes[i].pattern, Bind(*this, handlers[i]));
    http::RouteAccessRule rule;
    rule.method = kRoutes[i].method;
    rule.pattern = kRoutes[i].pattern;
    rule.access = http::RouteAccess::kListRead;
    context.route_access.push_back(std::move(rule));
  }
  const bool allow_private = options_.allow_private;
  context.check_callback_url = [allow_private](std::string_view url) -> Result<void> {
    BOOST_OUTCOME_TRYV(CheckWebhookUrl(url, allow_private));
    return Ok();
  };
}

std::vector<http::RouteInfo> WebhookRouteList() {
  std::vector<http::RouteInfo> out;
  for (const Route& r : kRoutes) out.push_back({r.method, r.pattern});
  return out;
}

}  // namespace jobtrail::webhooks
