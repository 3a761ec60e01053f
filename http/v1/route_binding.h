#pragma once
// Adapts a handler that returns ApiResult<HttpResponse> to a RouteHandler:
// an error becomes the one error body (error_mapping.h).
#include "http/server/api_error.h"
#include "http/server/error_mapping.h"
#include "http/server/http_types.h"
#include "http/server/router.h"
#include "http/v1/api_routes.h"

namespace jobtrail::http {

using ApiHandler = ApiResult<HttpResponse> (*)(ApiContext&, const HttpRequest&);

inline RouteHandler Bind(ApiContext& context, ApiHandler handler) {
  return [&context, handler](const HttpRequest& request) {
    auto response = handler(context, request);
    return response ? std::move(response).value() : ErrorResponse(response.error());
  };
}

}  // namespace jobtrail::http
