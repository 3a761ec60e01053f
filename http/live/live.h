#pragma once
// Live updates (issue 12): long-polls and Server-Sent Events, mounted on the
// HTTP server as a module (README.md in this folder).
//
//   GET /v1/jobs/{id}?wait=SECONDS     long-poll (long_poll.h), also on the
//                                      seed dialects' one-job status routes
//   GET /v1/jobs/{id}/stream           a job's events (event_stream.h)
//   GET /v1/events/stream              the global feed, filtered
#include <memory>
#include <mutex>
#include <vector>

#include "http/v1/api_routes.h"
#include "http/app/http_server.h"
#include "http/live/live_hub.h"
#include "http/live/live_options.h"
#include "http/server/router.h"

namespace jobtrail::http::live {

// The hub of a server that EnableLive was given to: made when the server
// starts (it needs the server's store), null before. Thread-safe.
class LiveHandle {
 public:
  std::shared_ptr<LiveHub> hub() const {
    std::lock_guard lock(mu_);
    return hub_;
  }
  void set(std::shared_ptr<LiveHub> hub) {
    std::lock_guard lock(mu_);
    hub_ = std::move(hub);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<LiveHub> hub_;
};

// Adds the live routes to a server about to start (ServerOptions::mounts),
// and their end to its shutdown (ServerOptions::drains). `options` must
// pass CheckLiveOptions.
std::shared_ptr<LiveHandle> EnableLive(ServerOptions& server, LiveOptions options);

// Registers the stream routes and wraps the one-job status routes already
// on `router` (/v1's and the seed dialects') with long-polling.
void MountLive(Router& router, ApiContext& context, const std::shared_ptr<LiveHub>& hub);

// The routes MountLive adds (the OpenAPI check compares them too).
std::vector<RouteInfo> LiveRouteList();

}  // namespace jobtrail::http::live
