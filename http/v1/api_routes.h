#pragma once
// The routes of jobtrail's own API, registered on a Router. Handlers are
// plain functions of HttpRequest -> HttpResponse; they reach data only
// through the parts of the store in ApiContext, each the one it calls.
#include <cstddef>
#include <string>
#include <vector>

#include "http/security/route_access.h"
#include "http/server/router.h"
#include "projections/job_commands.h"
#include "projections/job_reads.h"
#include "projections/job_schedules.h"
#include "projections/store_admin.h"
#include "projections/worker_protocol.h"

namespace jobtrail::http {

class Metrics;
class Authenticator;

struct ApiContext {
  // The store (projections/job_store.h), by the part each route uses; not
  // owned, they outlive the routes. UseStore points them all at one store.
  JobCommands* commands = nullptr;
  JobReads* reads = nullptr;
  WorkerProtocol* workers = nullptr;
  JobSchedules* schedules = nullptr;
  StoreAdmin* admin = nullptr;
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

  // A JobStore is all five parts (a template, so that the routes need not
  // see job_store.h).
  template <typename Store>
  void UseStore(Store& store) {
    commands = &store;
    reads = &store;
    workers = &store;
    schedules = &store;
    admin = &store;
  }
};

void AddJobRoutes(Router& router, ApiContext& context);         // /v1/jobs/{id}...
void AddCollectionRoutes(Router& router, ApiContext& context);  // list, stats, feed, batch
void AddWorkerRoutes(Router& router, ApiContext& context);      // claim, heartbeat, maintenance
void AddOpsRoutes(Router& router, ApiContext& context);         // healthz, readyz, metrics
void AddShareRoutes(Router& router, ApiContext& context);       // share links
void AddScheduleRoutes(Router& router, ApiContext& context);    // /v1/schedules

// All of the above.
void AddApiRoutes(Router& router, ApiContext& context);

// Every route AddApiRoutes registers (method, OpenAPI-style pattern); the
// OpenAPI document is checked against this list.
std::vector<RouteInfo> ApiRouteList();

}  // namespace jobtrail::http
