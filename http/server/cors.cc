#include "http/server/cors.h"

#include <algorithm>

namespace jobtrail::http {
namespace {

constexpr std::string_view kExposed =
    "ETag, Location, X-Request-Id, Idempotent-Replayed, Allow, Retry-After, "
    "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset";
constexpr std::string_view kAllowedRequestHeaders =
    "Content-Type, Authorization, If-Match, If-None-Match, Idempotency-Key, X-Request-Id";

}  // namespace

CorsPolicy::CorsPolicy(std::vector<std::string> origins) : origins_(std::move(origins)) {
  any_ = std::find(origins_.begin(), origins_.end(), "*") != origins_.end();
}

bool CorsPolicy::Allows(std::string_view origin) const {
  if (origin.empty()) return false;
  return any_ || std::find(origins_.begin(), origins_.end(), origin) != origins_.end();
}

void CorsPolicy::AddResponseHeaders(std::string_view origin, StringPairs& headers) const {
  if (origins_.empty()) return;
  // The answer depends on Origin whenever a list is configured: caches must
  // key on it.
  headers.emplace_back("Vary", "Origin");
  if (!Allows(origin)) return;
  headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  headers.emplace_back("Access-Control-Expose-Headers", std::string(kExposed));
  // A browser sends `credentials: 'include'` requests (seed 003's client)
  // only where this says so; never for "*", only for origins named.
  if (std::find(origins_.begin(), origins_.end(), origin) != origins_.end()) {
    headers.emplace_back("Access-Control-Allow-Credentials", "true");
  }
}

void CorsPolicy::AddPreflightHeaders(std::string_view origin, std::string_view methods,
                                     StringPairs& headers) const {
  if (!Allows(origin)) return;
  headers.emplace_back("Access-Control-Allow-Methods", std::string(methods));
  headers.emplace_back("Access-Control-Allow-Headers", std::string(kAllowedRequestHeaders));
  headers.emplace_back("Access-Control-Max-Age", "600");
}

}  // namespace jobtrail::http
