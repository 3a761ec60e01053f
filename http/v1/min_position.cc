#include "http/v1/min_position.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>

#include "http/server/query_params.h"

namespace jobtrail::http {
namespace {

constexpr std::string_view kName = "min_position";

// Waits until the read models hold ?min_position (absent or 0: at once).
// Errors: INVALID_PARAMETER, 503 NOT_CAUGHT_UP.
ApiResult<void> AwaitPosition(JobReads& reads, const HttpRequest& request) {
  BOOST_OUTCOME_TRY(wanted, ParseUintParameter(request, kName, 0, INT64_MAX));
  if (!wanted || *wanted == 0) return boost::outcome_v2::success();
  const auto deadline = std::chrono::steady_clock::now() + kMinPositionWait;
  for (;;) {
    const uint64_t projected = reads.Progress().projected_position;
    if (projected >= *wanted) return boost::outcome_v2::success();
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return ApiError(MakeError(Code::kUnavailable, "NOT_CAUGHT_UP",
                                fmt::format("this node's read models are at position {}, not "
                                            "yet at {}; retry (or ask the node that took the "
                                            "write)",
                                            projected, *wanted)),
                      fmt::format(R"({{"projected_position":{},"min_position":{}}})", projected,
                                  *wanted));
    }
    reads.AwaitProjected(std::max<uint64_t>(projected, *wanted - 1), left);
  }
}

}  // namespace

RouteHandler BindRead(ApiContext& context, ApiHandler handler) {
  return [&context, handler](const HttpRequest& request) {
    const bool named = std::any_of(request.query.begin(), request.query.end(),
                                   [](const auto& kv) { return kv.first == kName; });
    if (!named) {
      auto response = handler(context, request);
      return response ? std::move(response).value() : ErrorResponse(response.error());
    }
    if (auto waited = AwaitPosition(*context.reads, request); !waited) {
      HttpResponse out = ErrorResponse(waited.error());
      if (out.status == 503) out.With("Retry-After", "1");
      return out;
    }
    HttpRequest rest = request;
    std::erase_if(rest.query, [](const auto& kv) { return kv.first == kName; });
    auto response = handler(context, rest);
    return response ? std::move(response).value() : ErrorResponse(response.error());
  };
}

}  // namespace jobtrail::http
