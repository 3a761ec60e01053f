#pragma once
// The request and response as route handlers see them: plain values, no
// Pistache types, so handlers can be called (and tested) without a socket.
//
// A handler returns an HttpResponse; the request handler (request_handler.h)
// is the one place that adds the cross-cutting headers (CORS, request id,
// keep-alive) and puts it on the wire.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/server/principal.h"

namespace jobtrail::http {

class DeferredResponse;  // http/response_channel.h

using StringPairs = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // as sent (not decoded), without the query
  StringPairs query;   // percent-decoded, in arrival order
  StringPairs params;  // path parameters ("{name}" segments), percent-decoded
  std::string_view body;
  std::string request_id;
  // Case-insensitive header lookup; nullopt when absent.
  std::function<std::optional<std::string>(std::string_view)> header;
  // Every field line of a header, in arrival order (RFC 9110 5.3: lines of
  // one list-valued field join with commas). Where the transport does not
  // set it, HeaderLines falls back to `header`'s one value.
  std::function<std::vector<std::string>(std::string_view)> header_lines;
  // The peer's address (no port), for per-client limits and logs.
  std::string client_address;
  // Sizes the abuse limits check (request_gate.h): the request target's
  // length, and the number and bytes of the header fields.
  size_t url_bytes = 0;
  size_t header_count = 0;
  size_t header_bytes = 0;
  // A body declared (Content-Length) over the server's limit is not read:
  // `body` is empty and this is the declared size (RequestHandler: 413).
  size_t unread_body_bytes = 0;
  // Who asks, once the request gate has authenticated the request
  // (unauthenticated until then, and on kPublic/kSelf routes).
  Principal principal;

  const std::string* Param(std::string_view name) const {
    for (const auto& [k, v] : params) {
      if (k == name) return &v;
    }
    return nullptr;
  }
  const std::string* Query(std::string_view name) const {
    for (const auto& [k, v] : query) {
      if (k == name) return &v;
    }
    return nullptr;
  }
  std::optional<std::string> Header(std::string_view name) const {
    return header ? header(name) : std::nullopt;
  }
  std::vector<std::string> HeaderLines(std::string_view name) const {
    if (header_lines) return header_lines(name);
    std::optional<std::string> one = Header(name);
    return one ? std::vector<std::string>{std::move(*one)} : std::vector<std::string>{};
  }
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  StringPairs headers;  // extra headers (ETag, Location, ...)
  // Set: the answer comes later (a long-poll, an event stream); status and
  // body are ignored, the headers go out with it (response_channel.h).
  std::shared_ptr<DeferredResponse> deferred;

  HttpResponse& With(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

inline HttpResponse JsonResponse(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace jobtrail::http
