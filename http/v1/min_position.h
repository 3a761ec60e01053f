#pragma once
// ?min_position=N on reads: read-your-writes on any node. A write answers
// with the log position it reached ("position"); a read that names it
// waits (bounded) until this node's read models have applied that position,
// so a client that wrote through one node sees its write on every other.
// A read model that does not get there in time answers 503 NOT_CAUGHT_UP
// with Retry-After, never an answer older than the client asked for.
// On one node every acknowledged write is already projected: the parameter
// costs nothing there.
#include <chrono>

#include "http/server/router.h"
#include "http/v1/api_routes.h"
#include "http/v1/route_binding.h"

namespace jobtrail::http {

// How long a read waits for its position before answering 503.
inline constexpr std::chrono::milliseconds kMinPositionWait{5000};

// Bind for a read route: takes min_position out of the query (the handler
// never sees it), waits for it, then runs the handler.
RouteHandler BindRead(ApiContext& context, ApiHandler handler);

}  // namespace jobtrail::http
