#pragma once
// The dashboard's page (issue 14) at /ui/: its static files, embedded at
// build time (ui_assets.h), served from memory. The page holds no data and
// no secrets; it asks the operator for an API key and reads everything
// through the public /v1 API with it. Mounted by http/app/ on every server.
#include <vector>

#include "http/server/router.h"
#include "http/v1/api_routes.h"

namespace jobtrail::http::ui {

// Registers GET /ui and GET /ui/{file}, and their access rows (open to
// anyone, never rate limited: the same bytes for everyone).
void AddUiRoutes(Router& router, ApiContext& context);

// The routes AddUiRoutes adds (the OpenAPI check compares them too).
std::vector<RouteInfo> UiRouteList();

}  // namespace jobtrail::http::ui
