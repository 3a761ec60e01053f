#include "http/server/error_mapping.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "http/server/json_writer.h"

namespace jobtrail::http {

int HttpStatusFor(const Error& error) {
  switch (error.code) {
    case Code::kInvalidArgument:
      if (error.reason == "METHOD_NOT_ALLOWED") return 405;
      if (error.reason == "UNSUPPORTED_MEDIA_TYPE") return 415;
      return 400;
    case Code::kNotFound: return 404;
    case Code::kAlreadyExists: return 409;
    case Code::kFailedPrecondition: return 422;
    case Code::kAborted: return 409;
    case Code::kResourceExhausted:
      if (error.reason == "PAYLOAD_TOO_LARGE" || error.reason == "BATCH_TOO_LARGE") {
        return 413;
      }
      if (error.reason == "URI_TOO_LONG") return 414;
      if (error.reason == "HEADERS_TOO_LARGE") return 431;
      return 429;
    case Code::kUnauthenticated: return 401;
    case Code::kPermissionDenied: return 403;
    case Code::kUnavailable: return 503;
    case Code::kDataLoss:
    case Code::kInternal:
    case Code::kOk:
      return 500;
  }
  return 500;
}

std::string RenderErrorBody(const Error& error, std::string_view details_json) {
  JsonWriter w;
  w.StartObject().Key("error").StartObject();
  w.Field("code", error.reason.empty() ? CodeName(error.code) : error.reason);
  w.Field("message", error.message);
  w.RawField("details", details_json);
  w.EndObject().EndObject();
  return w.Take();
}

namespace {
thread_local std::string_view current_request_id;
}  // namespace

RequestIdScope::RequestIdScope(std::string_view request_id) : previous_(current_request_id) {
  current_request_id = request_id;
}
RequestIdScope::~RequestIdScope() { current_request_id = previous_; }
std::string_view CurrentRequestId() { return current_request_id; }

ApiError Redacted(const ApiError& error, std::string_view request_id) {
  if (HttpStatusFor(error.error) != 500) return error;
  const std::string_view id = request_id.empty() ? std::string_view("-") : request_id;
  SPDLOG_ERROR("request {} failed inside: {}", id, error.error.ToString());
  const bool data_loss = error.error.code == Code::kDataLoss;
  return ApiError(MakeError(data_loss ? Code::kDataLoss : Code::kInternal,
                            data_loss ? "DATA_LOSS" : "INTERNAL",
                            fmt::format("internal error; the server log has the details under "
                                        "request id {}",
                                        id)));
}

HttpResponse ErrorResponse(const ApiError& error, std::string_view request_id) {
  const ApiError shown = Redacted(error, request_id);
  return JsonResponse(HttpStatusFor(shown.error),
                      RenderErrorBody(shown.error, shown.details_json));
}

ApiError InvalidJson(std::string message) {
  return ApiError(MakeError(Code::kInvalidArgument, "INVALID_JSON", std::move(message)));
}

ApiError InvalidField(std::string_view field, std::string message) {
  JsonWriter d;
  d.StartObject().Field("field", field).EndObject();
  return ApiError(
      MakeError(Code::kInvalidArgument, "INVALID_INPUT",
                field.empty() ? std::move(message) : fmt::format("{}: {}", field, message)),
      d.Take());
}

ApiError InvalidParameter(std::string_view name, std::string message,
                          std::string allowed_json) {
  JsonWriter d;
  d.StartObject().Field("parameter", name);
  if (!allowed_json.empty()) d.RawField("allowed", allowed_json);
  d.EndObject();
  return ApiError(MakeError(Code::kInvalidArgument, "INVALID_PARAMETER",
                            fmt::format("query parameter '{}': {}", name, message)),
                  d.Take());
}

ApiError InvalidHeader(std::string_view name, std::string message) {
  JsonWriter d;
  d.StartObject().Field("header", name).EndObject();
  return ApiError(MakeError(Code::kInvalidArgument, "INVALID_HEADER",
                            fmt::format("header '{}': {}", name, message)),
                  d.Take());
}

ApiError PayloadTooLarge(size_t limit_bytes, size_t got_bytes) {
  JsonWriter d;
  d.StartObject()
      .Field("limit_bytes", uint64_t{limit_bytes})
      .Field("body_bytes", uint64_t{got_bytes})
      .EndObject();
  return ApiError(
      MakeError(Code::kResourceExhausted, "PAYLOAD_TOO_LARGE",
                fmt::format("request body of {} bytes exceeds the limit of {} bytes",
                            got_bytes, limit_bytes)),
      d.Take());
}

}  // namespace jobtrail::http
