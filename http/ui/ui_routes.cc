// The dashboard's page: static files from memory at /ui/ (ui_routes.h).
#include "http/ui/ui_routes.h"

#include "http/security/route_access.h"
#include "http/server/error_mapping.h"
#include "http/ui/ui_assets.h"
#include "http/v1/route_binding.h"

namespace jobtrail::http::ui {
namespace {

// Scripts, styles and API calls only from this server; images from anywhere
// (error screenshots live in object stores); no inline script, no framing.
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' https: http: data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

HttpResponse Serve(const Asset& asset, const HttpRequest& request) {
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
  if (request.path.ends_with('/')) return Serve(*FindAsset("index.html"), request);
  HttpResponse out;
  out.status = 308;
  out.content_type.clear();
  out.With("Location", "/ui/");
  return out;
}

ApiResult<HttpResponse> UiFile(ApiContext&, const HttpRequest& request) {
  const std::string* name = request.Param("file");
  const Asset* asset = name != nullptr ? FindAsset(*name) : nullptr;
  if (asset == nullptr) {
    return MakeError(Code::kNotFound, "ROUTE_NOT_FOUND", "no such file in the dashboard");
  }
  return Serve(*asset, request);
}

}  // namespace

void AddUiRoutes(Router& router, ApiContext& ctx) {
  router.Add("GET", "/ui", Bind(ctx, UiIndex));
  router.Add("GET", "/ui/{file}", Bind(ctx, UiFile));
  // The same bytes for everyone, no data, no secrets: served like a probe,
  // never rate limited.
  ctx.route_access.push_back(RouteAccessRule{"GET", "/ui", RouteAccess::kProbe});
  ctx.route_access.push_back(RouteAccessRule{"GET", "/ui/{file}", RouteAccess::kProbe});
}

std::vector<RouteInfo> UiRouteList() {
  Router router;
  ApiContext unused;
  AddUiRoutes(router, unused);
  return router.routes();
}

}  // namespace jobtrail::http::ui
