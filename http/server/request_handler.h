#pragma once
// RequestHandler: everything a request goes through, whatever its route,
// independent of Pistache (pistache_handler.h adapts it to sockets):
//   request id (X-Request-Id echoed when sane, otherwise generated),
//   the body size limit (413), routing (404/405), OPTIONS preflights,
//   CORS headers on every answer including errors, and the one catch
//   point: an exception from any route becomes a 500 error body and a log
//   line, never a crash. Reject() answers a request the server will not run
//   (shutting down, overloaded) with the same headers.
// Record() writes the access log line and the request metrics.
//
// Thread-safe after construction (the router is read-only by then).
#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "http/server/api_error.h"
#include "http/server/cors.h"
#include "http/server/http_types.h"
#include "http/server/router.h"
#include "http/server/trusted_proxies.h"

namespace spdlog {
class logger;
}

namespace jobtrail::http {

class RequestMetrics;
class Gate;

class RequestHandler {
 public:
  struct Options {
    size_t max_body_bytes = 1 << 20;
    std::vector<std::string> cors_origins;
    std::shared_ptr<spdlog::logger> access_log;  // null: no access log
    // Abuse limits, authentication, rate limits and authorization: the
    // hook of server/gate.h (the server's RequestGate, http/security/).
    // Null: none (unit tests of the routing only).
    std::shared_ptr<Gate> gate;
    // Whose X-Forwarded-For names the client (the address limits and logs
    // then use); none by default.
    TrustedProxies trusted_proxies;
  };

  // `metrics` (may be null) must outlive the handler and have been built
  // from router.routes().
  RequestHandler(Router router, Options options, RequestMetrics* metrics);

  // Answers `request` (whose request_id it fills in). Never throws.
  // `route_index` receives the metrics series the request belongs to.
  HttpResponse Handle(HttpRequest& request, size_t& route_index) noexcept;

  // Answers `request` with `error` without running it (503 SHUTTING_DOWN
  // while draining, 503 OVERLOADED when the write queue is full). Never throws.
  HttpResponse Reject(HttpRequest& request, const ApiError& error, size_t& route_index) noexcept;

  // Access log line and metrics for an answered request.
  void Record(const HttpRequest& request, const HttpResponse& response, size_t route_index,
              double seconds) const;

  // From now on the server refuses new requests (the adapter checks
  // draining() on arrival and calls Reject) and closes connections.
  void StartDraining() { draining_.store(true); }
  bool draining() const { return draining_.load(std::memory_order_relaxed); }

  const Router& router() const { return router_; }

 private:
  HttpResponse Route(HttpRequest& request, size_t& route_index);
  // The gate's Admit, then the route's handler.
  HttpResponse RunRoute(HttpRequest& request, size_t route_index);
  HttpResponse Preflight(const HttpRequest& request, size_t& route_index) const;
  void AssignRequestId(HttpRequest& request) const;
  void Decorate(const HttpRequest& request, HttpResponse& response) const noexcept;

  Router router_;
  Options options_;
  CorsPolicy cors_;
  RequestMetrics* metrics_;
  std::atomic<bool> draining_{false};
};

}  // namespace jobtrail::http
