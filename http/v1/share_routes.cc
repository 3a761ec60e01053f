// Share links: POST /v1/jobs/{id}/share issues a signed, read-only token for
// one job (share_token.h). The request gate has already checked that the
// caller owns the job or is an admin.
#include <rapidjson/document.h>

#include <fmt/format.h>

#include "http/security/authenticator.h"
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

constexpr int64_t kDefaultTtlSeconds = 7 * 24 * 3600;
constexpr int64_t kMaxTtlSeconds = 30 * 24 * 3600;

ApiResult<HttpResponse> Share(ApiContext& ctx, const HttpRequest& request) {
  BOOST_OUTCOME_TRY(id, JobIdParam(request));
  BOOST_OUTCOME_TRYV(CheckParameters(request, {}));
  rapidjson::Document doc;
  if (request.body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    doc.SetObject();
  } else {
    BOOST_OUTCOME_TRYV(ParseJsonBody(request.body, doc));
  }
  BOOST_OUTCOME_TRY(r, ObjectReader::Of(doc, ""));
  BOOST_OUTCOME_TRY(ttl, r.Int("ttl_seconds", 1, kMaxTtlSeconds));
  BOOST_OUTCOME_TRYV(r.Finish());
  const ShareTokens* tokens =
      ctx.authenticator != nullptr ? ctx.authenticator->share_tokens() : nullptr;
  if (tokens == nullptr) {
    return ApiError(MakeError(Code::kFailedPrecondition, "SHARING_DISABLED",
                              "share links are not enabled on this server"));
  }
  BOOST_OUTCOME_TRY(status, ctx.reads->Status(id));  // 404 for a job that is not there
  const Millis expires_at =
      ctx.authenticator->clock().Now() + ttl.value_or(kDefaultTtlSeconds) * 1000;
  const std::string token = tokens->Issue(id, expires_at);
  JsonWriter w;
  w.StartObject()
      .Field("job_id", id)
      .Field("token", token)
      .Field("expires_at", FormatTime(expires_at))
      .Field("url", fmt::format("{}?token={}", StatusUrl(id), token))
      .Field("version", status.version)
      .EndObject();
  HttpResponse out = JsonResponse(201, w.Take());
  out.With("Cache-Control", "no-store");
  return out;
}

}  // namespace

void AddShareRoutes(Router& router, ApiContext& ctx) {
  router.Add("POST", "/v1/jobs/{id}/share", Bind(ctx, Share));
}

}  // namespace jobtrail::http
