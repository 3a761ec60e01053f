#pragma once
// The routes of jobtrail's own API, registered on a Router. Handlers are
// plain functions of HttpRequest -> HttpResponse; they reach data only
// through the parts of the store in ApiContext, each the one it calls.
#include <cstddef>
#include <memory>
#include <functional>
#include <string>
#include <string_view>
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
class BackupJobs;

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
  // /readyz answers 503 once the read models lag the log by more than this
  // (serve --max-projection-lag-ms); 0: no bound.
  uint64_t max_projection_lag_ms = 0;
  // Not owned; null only where no server runs (route listing). Share links
  // are issued by it. (Requests are authenticated by the request gate.)
  const Authenticator* authenticator = nullptr;
  // For webhook routes (http/webhook_secret.h); empty: refuse every call.
  std::string webhook_secret;
  // Who may call routes that are not in route_access.cc's table (the seed
  // dialects add theirs here as they register them); read by the request
  // gate when the server starts.
  std::vector<RouteAccessRule> route_access;
  // Backups over HTTP (http/backup_jobs.h); null: `serve --backup-dir` unset.
  std::shared_ptr<BackupJobs> backups;

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
  // Checks an enqueue's callback_url (kInvalidArgument: the message says
  // what is wrong); set by the webhooks module (http/webhooks/) when it is
  // mounted. Null: the server sends no webhooks, and an enqueue with a
  // callback_url is refused.
  std::function<Result<void>(std::string_view url)> check_callback_url;
};

void AddJobRoutes(Router& router, ApiContext& context);         // /v1/jobs/{id}...
void AddCollectionRoutes(Router& router, ApiContext& context);  // list, stats, feed, batch
void AddWorkerRoutes(Router& router, ApiContext& context);      // claim, heartbeat, maintenance
void AddOpsRoutes(Router& router, ApiContext& context);         // healthz, readyz, metrics
void AddShareRoutes(Router& router, ApiContext& context);       // share links
void AddScheduleRoutes(Router& router, ApiContext& context);    // /v1/schedules
void AddAdminRoutes(Router& router, ApiContext& context);       // /v1/admin/backup(s)

// All of the above.
void AddApiRoutes(Router& router, ApiContext& context);

// Every route AddApiRoutes registers (method, OpenAPI-style pattern); the
// OpenAPI document is checked against this list.
std::vector<RouteInfo> ApiRouteList();

}  // namespace jobtrail::http
