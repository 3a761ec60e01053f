#include "http/server/request_handler.h"

#include <algorithm>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/server/error_mapping.h"
#include "http/server/gate.h"
#include "http/server/ids.h"
#include "http/server/json_writer.h"
#include "http/server/query_params.h"
#include "http/server/request_metrics.h"

namespace jobtrail::http {
namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

HttpResponse MethodNotAllowed(const HttpRequest& request,
                              const std::vector<std::string>& allowed) {
  JsonWriter d;
  d.StartObject().Key("allowed").StartArray();
  for (const std::string& m : allowed) d.String(m);
  d.EndArray().EndObject();
  HttpResponse r = ErrorResponse(ApiError(
      MakeError(Code::kInvalidArgument, "METHOD_NOT_ALLOWED",
                fmt::format("{} is not allowed on {}; use {}", request.method, request.path,
                            Join(allowed))),
      d.Take()));
  r.With("Allow", Join(allowed));
  return r;
}

}  // namespace

RequestHandler::RequestHandler(Router router, Options options, RequestMetrics* metrics)
    : router_(std::move(router)),
      options_(std::move(options)),
      cors_(options_.cors_origins),
      metrics_(metrics) {}

HttpResponse RequestHandler::Handle(HttpRequest& request, size_t& route_index) noexcept {
  route_index = router_.size() + 1;  // unmatched, until routing says otherwise
  HttpResponse response;
  try {
    AssignRequestId(request);
    RequestIdScope scope(request.request_id);
    request.client_address = options_.trusted_proxies.ClientAddress(
        request.client_address, request.HeaderLines("X-Forwarded-For"));
    response = Route(request, route_index);
  } catch (const std::exception& e) {
    // ErrorResponse logs the exception's text and answers a generic 500.
    response = ErrorResponse(
        Internal(fmt::format("{} {}: exception: {}", request.method, request.path, e.what())),
        request.request_id);
  } catch (...) {
    response = ErrorResponse(
        Internal(fmt::format("{} {}: a non-standard exception", request.method, request.path)),
        request.request_id);
  }
  Decorate(request, response);
  return response;
}

HttpResponse RequestHandler::Reject(HttpRequest& request, const ApiError& error,
                                    size_t& route_index) noexcept {
  route_index = router_.size() + 1;
  HttpResponse response;
  try {
    AssignRequestId(request);
    response = ErrorResponse(error);
    response.With("Retry-After", "1");
  } catch (...) {
    response.status = 503;  // out of memory: a bare answer
  }
  Decorate(request, response);
  return response;
}

void RequestHandler::AssignRequestId(HttpRequest& request) const {
  auto given = request.Header("X-Request-Id");
  request.request_id = given && IsAcceptableRequestId(*given) ? *given : NewUuid();
}

void RequestHandler::Decorate(const HttpRequest& request, HttpResponse& response) const noexcept {
  try {
    // Every 503 says when to come back (STORAGE_UNAVAILABLE, NOT_READY,
    // PROJECTION_LAGGING, dialect answers too), unless it already does.
    if (response.status == 503 &&
        std::none_of(response.headers.begin(), response.headers.end(),
                     [](const auto& h) { return h.first == "Retry-After"; })) {
      response.With("Retry-After", "1");
    }
    response.With("X-Request-Id", request.request_id.empty() ? NewUuid() : request.request_id);
    cors_.AddResponseHeaders(request.Header("Origin").value_or(""), response.headers);
  } catch (...) {
    // Out of memory while adding headers: answer what we have.
  }
}

HttpResponse RequestHandler::Route(HttpRequest& request, size_t& route_index) {
  if (options_.gate) {
    if (auto refused = options_.gate->Screen(request)) return std::move(*refused);
  }
  if (request.method == "OPTIONS") return Preflight(request, route_index);
  Router::Match match = router_.Find(request.method, request.path);
  if (match.kind == Router::Match::Kind::kFound) route_index = match.route_index;
  // The size limit applies to every route, known or not.
  const size_t body_bytes = std::max(request.body.size(), request.unread_body_bytes);
  if (body_bytes > options_.max_body_bytes) {
    ApiError too_large(PayloadTooLarge(options_.max_body_bytes, body_bytes));
    // On a route, in its own shape (a seed dialect's error body).
    if (options_.gate && match.kind == Router::Match::Kind::kFound) {
      return options_.gate->RefuseOnRoute(too_large, request, router_.pattern(match.route_index));
    }
    return ErrorResponse(too_large);
  }
  switch (match.kind) {
    case Router::Match::Kind::kFound:
      // Route on the raw path, decode each parameter: an escaped "/" stays
      // inside its segment.
      for (auto& [name, value] : match.params) {
        if (auto decoded = PercentDecode(value, false)) value = std::move(*decoded);
      }
      request.params = std::move(match.params);
      return RunRoute(request, match.route_index);
    case Router::Match::Kind::kMethodNotAllowed:
      return MethodNotAllowed(request, match.allowed);
    case Router::Match::Kind::kNotFound:
      break;
  }
  return ErrorResponse(NotFound("ROUTE_NOT_FOUND",
                                fmt::format("no route for {} {}", request.method, request.path)));
}

HttpResponse RequestHandler::RunRoute(HttpRequest& request, size_t route_index) {
  if (!options_.gate) return router_.handler(route_index)(request);
  StringPairs limit_headers;
  std::optional<HttpResponse> refused =
      options_.gate->Admit(request, request.method, router_.pattern(route_index), limit_headers);
  HttpResponse response = refused ? std::move(*refused) : router_.handler(route_index)(request);
  for (auto& header : limit_headers) response.headers.push_back(std::move(header));
  return response;
}

HttpResponse RequestHandler::Preflight(const HttpRequest& request, size_t& route_index) const {
  route_index = router_.size();  // the preflight series
  Router::Match match = router_.Find("OPTIONS", request.path);
  if (match.allowed.empty()) {
    return ErrorResponse(
        NotFound("ROUTE_NOT_FOUND", fmt::format("no route for {}", request.path)));
  }
  match.allowed.push_back("OPTIONS");
  HttpResponse r;
  r.status = 204;
  r.content_type.clear();
  r.With("Allow", Join(match.allowed));
  cors_.AddPreflightHeaders(request.Header("Origin").value_or(""), Join(match.allowed),
                            r.headers);
  return r;
}

void RequestHandler::Record(const HttpRequest& request, const HttpResponse& response,
                            size_t route_index, double seconds) const {
  if (metrics_ != nullptr) metrics_->RecordRequest(route_index, response.status, seconds);
  if (options_.access_log) {
    options_.access_log->info("{} {} {} {}B {:.3f}ms id={}", request.method, request.path,
                              response.status, response.body.size(), seconds * 1e3,
                              request.request_id);
  }
}

}  // namespace jobtrail::http
