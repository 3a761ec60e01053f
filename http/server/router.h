#pragma once
// Router: maps (method, path) to a handler. Patterns use OpenAPI's syntax,
// "/v1/jobs/{id}/events", so the registered list can be compared with
// schemas/openapi.yaml as is.
//
// Matching is by segment; at each segment a literal wins over a parameter
// (SPEC §5: "/v1/jobs/status" of a dialect beats "/v1/jobs/{id}"), whatever
// the registration order.
//
// Thread safety: register every route before serving; after that Match() is
// const and may be called from any thread.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/server/http_types.h"

namespace jobtrail::http {

using RouteHandler = std::function<HttpResponse(const HttpRequest&)>;

struct RouteInfo {
  std::string method;   // "GET", "POST", ...
  std::string pattern;  // "/v1/jobs/{id}"
};

class Router {
 public:
  struct Match {
    enum class Kind { kFound, kNotFound, kMethodNotAllowed };
    Kind kind = Kind::kNotFound;
    size_t route_index = 0;              // when kFound: index into routes()
    StringPairs params;                  // when kFound
    std::vector<std::string> allowed;    // methods the path accepts (sorted)
  };

  // Registers a route. A second registration of the same method and pattern
  // replaces the first (returns false then).
  bool Add(std::string method, std::string pattern, RouteHandler handler);

  Match Find(std::string_view method, std::string_view path) const;
  const RouteHandler& handler(size_t route_index) const {
    return routes_[route_index].handler;
  }
  // Every registered route, in registration order (metrics label by index).
  std::vector<RouteInfo> routes() const;
  size_t size() const { return routes_.size(); }
  const std::string& pattern(size_t route_index) const {
    return routes_[route_index].pattern;
  }

 private:
  struct Entry {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;  // "{x}" for parameters
    RouteHandler handler;
  };
  // Ranks a path match: lexicographic over segments, literal before param.
  // Returns false when the path does not match the pattern at all.
  static bool MatchSegments(const Entry& e,
                            const std::vector<std::string_view>& path,
                            std::vector<bool>& literal_mask, StringPairs* params);

  std::vector<Entry> routes_;
};

// Splits "/a/b/c" into {"a","b","c"}; empty segments are dropped.
std::vector<std::string_view> SplitPath(std::string_view path);

}  // namespace jobtrail::http
