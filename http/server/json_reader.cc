#include "http/server/json_reader.h"

#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "http/server/error_mapping.h"
#include "projections/job_json.h"

namespace jobtrail::http {
namespace {

// Deepest nesting of arrays/objects in `text`, outside strings. A linear
// scan, so that a hostile "[[[[..." is refused before any recursive code
// (RapidJSON's parser and writer recurse per level) sees it.
int NestingDepth(std::string_view text) {
  int depth = 0;
  int max_depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

std::string_view TypeName(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "a boolean";
    case rapidjson::kObjectType: return "an object";
    case rapidjson::kArrayType: return "an array";
    case rapidjson::kStringType: return "a string";
    case rapidjson::kNumberType: return "a number";
  }
  return "unknown";
}

}  // namespace

ApiResult<void> ParseJsonBody(std::string_view body, rapidjson::Document& doc) {
  if (body.empty()) return InvalidJson("request body is empty; expected a JSON object");
  if (NestingDepth(body) > kMaxJsonDepth) {
    return InvalidJson(fmt::format("JSON nested deeper than {} levels", kMaxJsonDepth));
  }
  constexpr unsigned kFlags =
      rapidjson::kParseValidateEncodingFlag | rapidjson::kParseFullPrecisionFlag;
  doc.Parse<kFlags>(body.data(), body.size());
  if (doc.HasParseError()) {
    return InvalidJson(fmt::format("malformed JSON at byte {}: {}", doc.GetErrorOffset(),
                                   rapidjson::GetParseError_En(doc.GetParseError())));
  }
  return boost::outcome_v2::success();
}

std::string SerializeJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  value.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

ApiResult<ObjectReader> ObjectReader::Of(const rapidjson::Value& value, std::string path) {
  if (!value.IsObject()) {
    return InvalidField(path, fmt::format("must be a JSON object, got {}", TypeName(value)));
  }
  return ObjectReader(value, std::move(path));
}

std::string ObjectReader::PathOf(std::string_view key) const {
  return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

const rapidjson::Value* ObjectReader::Get(std::string_view key) {
  known_.emplace_back(key);
  auto it = obj_->FindMember(
      rapidjson::Value(rapidjson::StringRef(key.data(), key.size())));
  if (it == obj_->MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

ApiResult<std::optional<std::string>> ObjectReader::String(std::string_view key,
                                                           size_t max_bytes) {
  const rapidjson::Value* v = Get(key);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->IsString()) {
    return InvalidField(PathOf(key), fmt::format("must be a string, got {}", TypeName(*v)));
  }
  if (v->GetStringLength() > max_bytes) {
    return InvalidField(PathOf(key), fmt::format("longer than {} bytes", max_bytes));
  }
  return std::optional<std::string>(std::in_place, v->GetString(), v->GetStringLength());
}

ApiResult<std::string> ObjectReader::RequiredString(std::string_view key, size_t max_bytes) {
  BOOST_OUTCOME_TRY(s, String(key, max_bytes));
  if (!s || s->empty()) return InvalidField(PathOf(key), "is required (a non-empty string)");
  return std::move(*s);
}

ApiResult<std::optional<int64_t>> ObjectReader::Int(std::string_view key, int64_t min,
                                                    int64_t max) {
  const rapidjson::Value* v = Get(key);
  if (v == nullptr) return std::optional<int64_t>();
  if (!v->IsInt64()) {
    return InvalidField(PathOf(key),
                        fmt::format("must be an integer, got {}",
                                    v->IsNumber() ? "a fraction or an out-of-range number"
                                                  : TypeName(*v)));
  }
  const int64_t n = v->GetInt64();
  if (n < min || n > max) {
    return InvalidField(PathOf(key), fmt::format("must be between {} and {}", min, max));
  }
  return std::optional<int64_t>(n);
}

ApiResult<std::optional<double>> ObjectReader::Number(std::string_view key, double min,
                                                      double max) {
  const rapidjson::Value* v = Get(key);
  if (v == nullptr) return std::optional<double>();
  if (!v->IsNumber()) {
    return InvalidField(PathOf(key), fmt::format("must be a number, got {}", TypeName(*v)));
  }
  const double d = v->GetDouble();
  if (!std::isfinite(d) || d < min || d > max) {
    return InvalidField(PathOf(key), fmt::format("must be between {} and {}", min, max));
  }
  return std::optional<double>(d);
}

ApiResult<std::optional<bool>> ObjectReader::Bool(std::string_view key) {
  const rapidjson::Value* v = Get(key);
  if (v == nullptr) return std::optional<bool>();
  if (!v->IsBool()) {
    return InvalidField(PathOf(key), fmt::format("must be a boolean, got {}", TypeName(*v)));
  }
  return std::optional<bool>(v->GetBool());
}

ApiResult<std::optional<Millis>> ObjectReader::Time(std::string_view key) {
  const rapidjson::Value* v = Get(key);
  if (v == nullptr) return std::optional<Millis>();
  // Times RFC 3339 cannot write (before year 0000, after 9999) are refused
  // here, so that none is ever stored (projections/job_json.h).
  if (v->IsInt64() && v->GetInt64() >= kEarliestTime && v->GetInt64() <= kLatestTime) {
    return std::optional<Millis>(v->GetInt64());
  }
  if (v->IsString()) {
    if (auto t = ParseTime(std::string_view(v->GetString(), v->GetStringLength()))) {
      return std::optional<Millis>(*t);
    }
  }
  return InvalidField(PathOf(key),
                      "must be an RFC 3339 time (\"2024-01-15T10:30:45.123Z\") or "
                      "integer milliseconds since the epoch, from year 0000 to 9999");
}

ApiResult<std::optional<std::string>> ObjectReader::AnyJson(std::string_view key) {
  const rapidjson::Value* v = Get(key);
  if (v == nullptr) return std::optional<std::string>();
  return std::optional<std::string>(SerializeJson(*v));
}

ApiResult<std::optional<Labels>> ObjectReader::StringMap(std::string_view key) {
  const rapidjson::Value* v = Get(key);
  if (v == nullptr) return std::optional<Labels>();
  if (!v->IsObject()) {
    return InvalidField(PathOf(key),
                        fmt::format("must be an object of strings, got {}", TypeName(*v)));
  }
  Labels out;
  for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
    std::string name(it->name.GetString(), it->name.GetStringLength());
    if (!it->value.IsString()) {
      return InvalidField(PathOf(key) + "." + name, "must be a string");
    }
    if (name.empty() || name.size() > 256 || it->value.GetStringLength() > 4096) {
      return InvalidField(PathOf(key) + "." + name,
                          "names must be 1..256 bytes and values at most 4096 bytes");
    }
    out.emplace_back(std::move(name),
                     std::string(it->value.GetString(), it->value.GetStringLength()));
  }
  return std::optional<Labels>(std::move(out));
}

ApiResult<void> ObjectReader::Finish() const {
  // O(members x known fields): known_ holds a handful of names.
  for (auto it = obj_->MemberBegin(); it != obj_->MemberEnd(); ++it) {
    std::string_view name(it->name.GetString(), it->name.GetStringLength());
    if (std::find(known_.begin(), known_.end(), name) == known_.end()) {
      return InvalidField(PathOf(name), fmt::format("unknown field (known fields: {})",
                                                    fmt::join(known_, ", ")));
    }
  }
  // Every member is a known name, so there are few unless some repeat.
  for (auto it = obj_->MemberBegin(); it != obj_->MemberEnd(); ++it) {
    for (auto prev = obj_->MemberBegin(); prev != it; ++prev) {
      if (prev->name == it->name) {
        return InvalidField(PathOf(std::string_view(it->name.GetString(),
                                                    it->name.GetStringLength())),
                            "appears twice");
      }
    }
  }
  return boost::outcome_v2::success();
}

}  // namespace jobtrail::http
