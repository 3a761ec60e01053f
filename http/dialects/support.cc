#include "http/dialects/support.h"

#include <cmath>

#include "http/security/ownership.h"
#include "http/server/error_mapping.h"
#include "http/server/router.h"
#include "projections/job_json.h"

namespace jobtrail::http {

std::vector<JobStatus> StatusVocabulary::StatesNamed(std::string_view w) const {
  std::vector<JobStatus> out;
  for (JobStatus s : kAllStatuses) {
    if (!w.empty() && Word(s) == w) out.push_back(s);
  }
  return out;
}

uint64_t StatusVocabulary::Sum(const std::array<uint64_t, kStatusSlots>& per_state,
                               std::string_view w) const {
  uint64_t sum = 0;
  for (JobStatus s : StatesNamed(w)) sum += per_state[size_t(s)];
  return sum;
}

void MountDialect(Router& router, ApiContext& context, const DialectOptions& options,
                  DialectRoute::ErrorBody render_error,
                  std::initializer_list<DialectRoute> routes) {
  for (const DialectRoute& route : routes) {
    context.route_access.push_back(RouteAccessRule{
        std::string(route.method), options.prefix + std::string(route.path), route.access,
        route.rate, std::string(route.job_param), render_error, route.rate_subject});
    router.Add(std::string(route.method), options.prefix + std::string(route.path),
               [&context, options, render_error,
                handler = route.handler](const HttpRequest& request) {
                 auto response = handler(context, options, request);
                 if (response) return std::move(response).value();
                 return JsonResponse(
                     HttpStatusFor(response.error().error),
                     render_error(Redacted(response.error(), request.request_id), request,
                                  context.reads->clock().Now()));
               });
  }
}

bool CallerMayRead(const HttpRequest& request, bool public_seed, std::string_view job_id,
                   std::string_view owner) {
  return public_seed || request.principal.MayRead(job_id, owner);
}

bool RestrictToCaller(const HttpRequest& request, bool public_seed, ListQuery& query) {
  if (public_seed) return true;
  const Principal& p = request.principal;
  // An empty owner filter means "every owner": never for a caller without
  // a subject of its own.
  if (!p.admin() && (!p.authenticated() || p.share_link() || p.subject.empty())) return false;
  return RestrictListToOwner(p, query);
}

ApiError DialectError(Code code, std::string reason, std::string message,
                      std::string details_json) {
  return ApiError(MakeError(code, std::move(reason), std::move(message)),
                  std::move(details_json));
}

JsonWriter& JsNumber(JsonWriter& w, double v, int digits) {
  if (!std::isfinite(v)) return w.Int(0);
  const double scale = std::pow(10.0, digits);
  const double rounded = std::round(v * scale) / scale;
  if (rounded == std::trunc(rounded) && std::fabs(rounded) < 9e15) {
    return w.Int(int64_t(rounded));
  }
  return w.Double(rounded);
}

JsonWriter& TimeOrNull(JsonWriter& w, std::string_view key, std::optional<Millis> t) {
  w.Key(key);
  return t ? w.String(FormatTime(*t)) : w.Null();
}

ApiResult<void> ParseStatusDocument(std::string_view json, rapidjson::Document& doc) {
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Internal("a stored status document does not parse");
  }
  return boost::outcome_v2::success();
}

const rapidjson::Value* DocMember(const rapidjson::Value& obj, std::string_view key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(rapidjson::Value(rapidjson::StringRef(
      key.data(), rapidjson::SizeType(key.size()))));
  if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

std::string_view DocString(const rapidjson::Value& obj, std::string_view key) {
  const rapidjson::Value* v = DocMember(obj, key);
  if (v == nullptr || !v->IsString()) return {};
  return {v->GetString(), v->GetStringLength()};
}

std::optional<int64_t> DocInt(const rapidjson::Value& obj, std::string_view key) {
  const rapidjson::Value* v = DocMember(obj, key);
  if (v == nullptr || !v->IsInt64()) return std::nullopt;
  return v->GetInt64();
}

std::optional<Millis> DocTime(const rapidjson::Value& obj, std::string_view key) {
  return ParseTime(DocString(obj, key));
}

const std::string& PathParam(const HttpRequest& request, std::string_view name) {
  static const std::string kEmpty;
  const std::string* v = request.Param(name);
  return v ? *v : kEmpty;
}

}  // namespace jobtrail::http
