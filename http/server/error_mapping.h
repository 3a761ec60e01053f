#pragma once
// The one place where errors become HTTP: the status code for each error
// code (and the few reasons that refine it), and the one error body,
//   {"error": {"code": "<reason>", "message": "...", "details": <json|null>}}
//
// Mapping (Abseil's codes, domain/error.h):
//   kInvalidArgument 400 (reason METHOD_NOT_ALLOWED: 405,
//                         UNSUPPORTED_MEDIA_TYPE: 415)
//   kNotFound 404            kAlreadyExists 409     kFailedPrecondition 422
//   kAborted 409             kResourceExhausted 413 for PAYLOAD_TOO_LARGE and
//                            BATCH_TOO_LARGE, 414 URI_TOO_LONG, 431
//                            HEADERS_TOO_LARGE, otherwise 429 (RATE_LIMITED)
//   kUnauthenticated 401     kPermissionDenied 403  kUnavailable 503
//   kDataLoss, kInternal, kOk (a bug: an error that is not one) 500
#include <string>
#include <string_view>

#include "domain/error.h"
#include "http/server/api_error.h"
#include "http/server/http_types.h"

namespace jobtrail::http {

int HttpStatusFor(const Error& error);

// The error body for `error` (details: JSON text or empty for null).
std::string RenderErrorBody(const Error& error, std::string_view details_json);

// While a RequestIdScope lives, errors rendered on its thread belong to its
// request: the request is handled on one thread, and errors are rendered
// deep inside routes (batch items, write helpers) that do not carry it.
class RequestIdScope {
 public:
  explicit RequestIdScope(std::string_view request_id);
  ~RequestIdScope();
  RequestIdScope(const RequestIdScope&) = delete;
  RequestIdScope& operator=(const RequestIdScope&) = delete;

 private:
  std::string_view previous_;
};
std::string_view CurrentRequestId();

// A 500 (kInternal, kDataLoss) says only that something failed inside and
// which request it was: INTERNAL or DATA_LOSS, a fixed message with the
// request id, null details. What failed (library messages, file paths,
// exception text) is logged here, with the request id, and never sent.
// Other errors are returned as they are.
ApiError Redacted(const ApiError& error, std::string_view request_id = CurrentRequestId());

// The error's answer, redacted as above.
HttpResponse ErrorResponse(const ApiError& error,
                           std::string_view request_id = CurrentRequestId());

// Builders for the HTTP layer's own errors, with their details.
ApiError InvalidJson(std::string message);
ApiError InvalidField(std::string_view field, std::string message);
// details: {"parameter": name, "allowed": [..]} (allowed omitted if empty).
ApiError InvalidParameter(std::string_view name, std::string message,
                          std::string allowed_json = {});
ApiError InvalidHeader(std::string_view name, std::string message);
ApiError PayloadTooLarge(size_t limit_bytes, size_t got_bytes);

}  // namespace jobtrail::http
