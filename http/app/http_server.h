#pragma once
// jobtrail's HTTP server (Pistache): the canonical /v1 API, health, metrics.
// It reaches the log only through JobStore.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "domain/error.h"
#include "http/dialects/options.h"
#include "http/security/security_options.h"
#include "projections/job_store.h"

namespace jobtrail::http {

class Router;
struct ApiContext;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: an ephemeral port, see HttpServer::port()
  size_t threads = 2;  // Pistache reactor threads (reads run on them)
  size_t max_body_bytes = 1 << 20;  // larger bodies answer 413 PAYLOAD_TOO_LARGE
  std::vector<std::string> cors_origins;  // "*" allows any origin
  // One line per request (method, path, status, bytes, duration, request id)
  // on the spdlog logger named "access" (registered on stderr if absent).
  bool access_log = true;
  size_t max_batch_operations = 1000;  // POST /v1/batch; more: 413 BATCH_TOO_LARGE
  // /readyz turns 503 (reason projection_lagging) while the oldest event
  // not yet in the read models was committed longer ago than this; 0: off.
  uint64_t max_projection_lag_ms = 0;
  DialectOptions dialects;  // the seed APIs (http/dialect_routes.h)
  // Writes (every POST) run on this many threads instead of the reactor
  // threads: a write waits for fsync and the read models, and concurrent
  // writes share a group commit. 0: run them on the reactor threads.
  // A group holds at most one write per thread, and per-group costs (the
  // sync, a read-model batch) are shared by its writes: with 50 workers
  // of the worker protocol, 32 threads made 3,459-3,642 jobs/s against
  // 16 threads' 2,706-3,107 in the same session (64: no better, 128:
  // worse); polls (on the reactor threads) p99 5.8 -> 7.0-7.5 ms beside
  // 20 pollers. They sleep while they wait: threads cost little else.
  size_t write_threads = 32;
  // Writes waiting for a write thread beyond this answer 503 OVERLOADED.
  size_t max_queued_writes = 4096;
  // Authentication, rate limits, abuse limits (security_options.h). The
  // default accepts no credentials at all: configure auth, or set
  // security.auth.insecure_no_auth.
  SecurityOptions security;
  // Modules built on top of http/ (http/webhooks/) mount their routes
  // here: each is called after the API's and the dialects' routes, before
  // the request gate is built (route_access rows it adds count).
  std::vector<std::function<void(Router&, ApiContext&)>> mounts;
  // Run first when the server shuts down, before in-flight requests are
  // waited for: modules with answers that outlive their request (http/live/)
  // end them here.
  std::vector<std::function<void()>> drains;
  // Where POST /v1/admin/backup writes (created if missing); empty: backups
  // over HTTP are off (the CLI's `jobtrail backup` works either way).
  std::string backup_dir;
};

class HttpServer {
 public:
  // Binds and starts serving in background threads. `store` must outlive
  // the server. Errors: kUnavailable/BIND_FAILED, kInvalidArgument.
  static Result<std::unique_ptr<HttpServer>> Start(JobStore& store,
                                                   const ServerOptions& options);
  virtual ~HttpServer() = default;
  virtual uint16_t port() const = 0;
  // Stops accepting, lets in-flight requests finish, joins the threads.
  // Idempotent.
  virtual void Shutdown() = 0;
};

}  // namespace jobtrail::http
