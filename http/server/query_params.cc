// Query parameters every route family shares: percent-decoding, unknown
// parameters, bounded integers.
#include "http/server/query_params.h"

#include <fmt/format.h>

#include <charconv>

#include "http/server/error_mapping.h"
#include "http/server/json_writer.h"

namespace jobtrail::http {

std::optional<uint64_t> ParseUint(std::string_view text) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return v;
}

std::string AllowedJson(std::initializer_list<std::string_view> values) {
  JsonWriter w;
  w.StartArray();
  for (std::string_view v : values) w.String(v);
  w.EndArray();
  return w.Take();
}

std::optional<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex(text[i + 1]);
      const int lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(char(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

ApiResult<void> CheckParameters(const HttpRequest& request,
                                std::initializer_list<std::string_view> allowed) {
  for (const auto& [name, value] : request.query) {
    bool known = false;
    for (std::string_view a : allowed) known = known || a == name;
    if (!known) {
      return InvalidParameter(name,
                              allowed.size() == 0 ? "this route takes no query parameters"
                                                  : "unknown parameter",
                              AllowedJson(allowed));
    }
  }
  return boost::outcome_v2::success();
}

ApiResult<std::optional<uint64_t>> ParseUintParameter(const HttpRequest& request,
                                                      std::string_view name, uint64_t min,
                                                      uint64_t max) {
  const std::string* text = request.Query(name);
  if (text == nullptr) return std::optional<uint64_t>();
  auto v = ParseUint(*text);
  if (!v || *v < min || *v > max) {
    return InvalidParameter(name, fmt::format("must be an integer from {} to {}, got '{}'",
                                              min, max, *text));
  }
  return std::optional<uint64_t>(*v);
}

}  // namespace jobtrail::http
