// The dashboard's page (http/ui/): static files from memory at /ui/. The
// page holds no data and no secrets; it asks the operator for an API key
// and reads everything through the public API with it.
#include "http/api_routes.h"
#include "http/error_mapping.h"
#include "http/route_binding.h"
#include "http/ui/ui_assets.h"

namespace jobtrail::http {
namespace {

// Scripts, styles and API calls only from this server; images from anywhere
// (error screenshots live in object stores); no inline script, no framing.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' https: http: data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

HttpResponse Serve(const ui::Asset& asset, const HttpRequest& request) {
  HttpResponse out;
  const auto match = request.Header("If-None-Match");
  if (match && *match == asset.etag) {
    out.status = 304;
    out.content_type.clear();
  } else {
    out.status = 200;
    out.body.assign(asset.body);
    out.content_type.assign(asset.content_type);
  }
  out.With("ETag", std::string(asset.etag))
      .With("Cache-Control", "no-cache")
      .With("Content-Security-Policy", std::string(kContentSecurityPolicy))
      .With("X-Content-Type-Options", "nosniff")
      .With("Referrer-Policy", "no-referrer")
      .With("X-Frame-Options", "DENY");
  return out;
}

// "/ui" and "/ui/" are one route (the router ignores empty segments): the
// page's relative links need the slash, so "/ui" is sent there.
ApiResult<HttpResponse> UiIndex(ApiContext&, const HttpRequest& request) {
  if (request.path.ends_with('/')) return Serve(*ui::FindAsset("index.html"), request);
  HttpResponse out;
  out.status = 308;
  out.content_type.clear();
  out.With("Location", "/ui/");
  return out;
}

ApiResult<HttpResponse> UiFile(ApiContext&, const HttpRequest& request) {
  const std::string* name = request.Param("file");
  const ui::Asset* asset = name != nullptr ? ui::FindAsset(*name) : nullptr;
  if (asset == nullptr) {
    return MakeError(Code::kNotFound, "ROUTE_NOT_FOUND", "no such file in the dashboard");
  }
  return Serve(*asset, request);
}

}  // namespace

void AddUiRoutes(Router& router, ApiContext& ctx) {
  router.Add("GET", "/ui", Bind(ctx, UiIndex));
  router.Add("GET", "/ui/{file}", Bind(ctx, UiFile));
}

}  // namespace jobtrail::http
