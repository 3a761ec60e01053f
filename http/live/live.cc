#include "http/live/live.h"

#include <string_view>

#include "http/live/long_poll.h"
#include "http/live/stream_routes.h"

namespace jobtrail::http::live {
namespace {

// The seed dialects' one-job status routes that take `wait` (their paths
// without the mount prefix): those whose clients poll one job on a timer.
struct DialectPoll {
  std::string_view suffix;
  std::string_view job_param;
  bool by_external_ref;
};
constexpr DialectPoll kDialectPolls[] = {
    {"/api/job-status/{captchaId}", "captchaId", true},  // 000, every 5 s
    {"/v1/jobs/runs/{id}", "id", false},                   // 001
    {"/api/jobs/{kind}/status/{jobId}", "jobId", false},   // 002, every 2 s
    {"/api/v1/books/jobs/{job_id}", "job_id", false},      // 003, every 2 s
    {"/api/v1/flickr/jobs/{jobId}", "jobId", false},       // 004
};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Replaces the GET route `pattern`'s handler with its long-polling twin.
void WrapRoute(Router& router, const std::string& pattern, PollRoute route,
               const std::shared_ptr<LiveHub>& hub) {
  const std::vector<RouteInfo> routes = router.routes();
  for (size_t i = 0; i < routes.size(); ++i) {
    if (routes[i].method != "GET" || routes[i].pattern != pattern) continue;
    RouteHandler inner = router.handler(i);
    router.Add("GET", pattern, WrapLongPoll(std::move(inner), std::move(route), hub));
    return;
  }
}

}  // namespace

std::shared_ptr<LiveHandle> EnableLive(ServerOptions& server, LiveOptions options) {
  auto handle = std::make_shared<LiveHandle>();
  server.mounts.push_back([handle, options](Router& router, ApiContext& context) {
    auto hub = std::make_shared<LiveHub>(*context.reads, context.admin, options);
    MountLive(router, context, hub);
    hub->Start();
    handle->set(std::move(hub));
  });
  server.drains.push_back([handle] {
    if (auto hub = handle->hub()) hub->Drain();
  });
  return handle;
}

void MountLive(Router& router, ApiContext& context, const std::shared_ptr<LiveHub>& hub) {
  AddStreamRoutes(router, context, hub);
  WrapRoute(router, "/v1/jobs/{id}", PollRoute{PollRoute::Kind::kV1, "id", false, nullptr}, hub);
  // The dialects are mounted under a configurable prefix and declare their
  // routes' policies (and error bodies) in context.route_access.
  for (const RouteInfo& info : router.routes()) {
    if (info.method != "GET") continue;
    for (const DialectPoll& poll : kDialectPolls) {
      if (!EndsWith(info.pattern, poll.suffix)) continue;
      for (const RouteAccessRule& rule : context.route_access) {
        if (rule.method != "GET" || rule.pattern != info.pattern) continue;
        WrapRoute(router, info.pattern,
                  PollRoute{PollRoute::Kind::kDialect, std::string(poll.job_param),
                            poll.by_external_ref, rule.render_error},
                  hub);
        break;
      }
    }
  }
}

std::vector<RouteInfo> LiveRouteList() {
  return {{"GET", "/v1/jobs/{id}/stream"}, {"GET", "/v1/events/stream"}};
}

}  // namespace jobtrail::http::live
