#pragma once
// The two event-stream routes: their parameters, where a stream starts, and
// who may read what (the request gate has checked the route's policy).
//
//   GET /v1/jobs/{id}/stream[?after_version=V]   (kJobRead, polled)
//     Last-Event-ID (a position) or after_version: replay what came after;
//     neither: only what comes from now on. Ends after the job's final
//     event; 204 when the job is final and there is nothing after.
//   GET /v1/events/stream[?after=P&queue=&type=&owner=&status=&limit=]
//     (kListRead) Last-Event-ID or after: replay after that position;
//     neither: from now. Non-admins see their own jobs' events only.
#include <memory>

#include "http/v1/api_routes.h"
#include "http/live/live_hub.h"
#include "http/server/router.h"

namespace jobtrail::http::live {

void AddStreamRoutes(Router& router, ApiContext& context, const std::shared_ptr<LiveHub>& hub);

}  // namespace jobtrail::http::live
