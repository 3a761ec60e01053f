#pragma once
// The routes of jobtrail's own API, registered on a Router. Handlers are
// plain functions of HttpRequest -> HttpResponse; they reach data only
// through the JobStore in ApiContext.
#include <cstddef>
#include <string>
#include <vector>

#include "http/route_access.h"
#include "http/router.h"
#include "projections/job_store.h"

namespace jobtrail::http {

class Metrics;
class Authenticator;

struct ApiContext {
  JobStore* store = nullptr;  // not owned; outlives the routes
  Metrics* metrics = nullptr;  // not owned; may be null (nothing recorded)
  size_t max_batch_operations = 1000;
  // Not owned; null only where no server runs (route listing). Share links
  // are issued by it. (Requests are authenticated by the request gate.)
  const Authenticator* authenticator = nullptr;
  // For webhook routes (http/webhook_secret.h); empty: refuse every call.
  std::string webhook_secret;
  // Who may call routes that are not in route_access.cc's table (the seed
  // dialects add theirs here as they register them); read by the request
  // gate when the server starts.
  std::vector<RouteAccessRule> route_access;
};

void AddJobRoutes(Router& router, ApiContext& context);         // /v1/jobs/{id}...
void AddCollectionRoutes(Router& router, ApiContext& context);  // list, stats, feed, batch
void AddWorkerRoutes(Router& router, ApiContext& context);      // claim, heartbeat, maintenance
void AddOpsRoutes(Router& router, ApiContext& context);         // healthz, readyz, metrics
void AddShareRoutes(Router& router, ApiContext& context);       // share links
void AddScheduleRoutes(Router& router, ApiContext& context);    // /v1/schedules
// The dashboard's API (v1_dashboard_routes.cc): retry, bulk, stats/series.
void AddDashboardRoutes(Router& router, ApiContext& context);
// The dashboard's page at /ui/ (v1_ui_routes.cc; files from http/ui/).
void AddUiRoutes(Router& router, ApiContext& context);

// All of the above.
void AddApiRoutes(Router& router, ApiContext& context);

// Every route AddApiRoutes registers (method, OpenAPI-style pattern); the
// OpenAPI document is checked against this list.
std::vector<RouteInfo> ApiRouteList();

}  // namespace jobtrail::http
