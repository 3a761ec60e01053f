#pragma once
// CORS: which origins may read our answers, and the headers that say so.
// Applied by the request handler to every response, errors included (seed
// 003 lost its error bodies in browsers to a missing header), and used to
// answer OPTIONS preflights.
//
// Immutable after construction; thread-safe.
#include <string>
#include <string_view>
#include <vector>

#include "http/server/http_types.h"

namespace jobtrail::http {

class CorsPolicy {
 public:
  // `origins`: exact origins ("https://app.example.com"), or "*" for any.
  explicit CorsPolicy(std::vector<std::string> origins);

  bool Allows(std::string_view origin) const;

  // Headers for a normal response to a request from `origin` (empty origin:
  // not a CORS request, no headers). Origins named in the list (not those
  // "*" lets in) may also send credentialed requests.
  void AddResponseHeaders(std::string_view origin, StringPairs& headers) const;
  // Headers for a preflight, allowing `methods` (e.g. "GET, POST").
  void AddPreflightHeaders(std::string_view origin, std::string_view methods,
                           StringPairs& headers) const;

 private:
  std::vector<std::string> origins_;
  bool any_ = false;
};

}  // namespace jobtrail::http
