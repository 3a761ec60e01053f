#pragma once
// Strict reading of JSON request bodies with RapidJSON.
//
// ParseJsonBody rejects malformed JSON, invalid UTF-8 and nesting deeper
// than kMaxJsonDepth (so nothing recursive can exhaust the stack later).
// ObjectReader reads one JSON object field by field: every accessor checks
// the type and range, `null` counts as absent, and Finish() rejects any key
// that no accessor asked for. Errors are INVALID_INPUT naming the field by
// its path ("events[1].data.percent").
//
// Thread-compatible; an ObjectReader points into a Document it does not own.
#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/job_event.h"
#include "http/server/api_error.h"

namespace jobtrail::http {

inline constexpr int kMaxJsonDepth = 64;
inline constexpr size_t kMaxStringBytes = 64 * 1024;

ApiResult<void> ParseJsonBody(std::string_view body, rapidjson::Document& doc);

// Serializes any JSON value compactly.
std::string SerializeJson(const rapidjson::Value& value);

class ObjectReader {
 public:
  // Errors: INVALID_INPUT if `value` is not an object.
  static ApiResult<ObjectReader> Of(const rapidjson::Value& value, std::string path);

  ApiResult<std::optional<std::string>> String(std::string_view key,
                                               size_t max_bytes = kMaxStringBytes);
  ApiResult<std::string> RequiredString(std::string_view key,
                                        size_t max_bytes = kMaxStringBytes);
  ApiResult<std::optional<int64_t>> Int(std::string_view key, int64_t min, int64_t max);
  ApiResult<std::optional<double>> Number(std::string_view key, double min, double max);
  ApiResult<std::optional<bool>> Bool(std::string_view key);
  // An RFC 3339 string or an integer of milliseconds since the epoch.
  ApiResult<std::optional<Millis>> Time(std::string_view key);
  // Any JSON value, serialized.
  ApiResult<std::optional<std::string>> AnyJson(std::string_view key);
  // An object whose values are strings: {"region": "eu", ...}.
  ApiResult<std::optional<Labels>> StringMap(std::string_view key);
  // The raw value (marks the key as known); nullptr when absent or null.
  const rapidjson::Value* Get(std::string_view key);

  // Errors: INVALID_INPUT naming the first key no accessor asked for.
  ApiResult<void> Finish() const;

  std::string PathOf(std::string_view key) const;

 private:
  ObjectReader(const rapidjson::Value& obj, std::string path)
      : obj_(&obj), path_(std::move(path)) {}

  const rapidjson::Value* obj_;
  std::string path_;
  std::vector<std::string> known_;
};

}  // namespace jobtrail::http
