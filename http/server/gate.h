#pragma once
// Gate: the one hook through which the server lets a policy judge requests,
// so that the transport knows nothing of credentials, roles or budgets. The
// security room's RequestGate (http/security/request_gate.h) implements it;
// RequestHandler calls it for every request when one is set.
#include <optional>
#include <string_view>

#include "http/server/api_error.h"
#include "http/server/http_types.h"

namespace jobtrail::http {

class Gate {
 public:
  virtual ~Gate() = default;

  // Before routing: refuses what no route may see (oversized targets and
  // headers). nullopt: go on; otherwise the answer.
  virtual std::optional<HttpResponse> Screen(const HttpRequest& request) const = 0;

  // Before the matched route's handler (`pattern` as registered): nullopt to
  // run it (request.principal is then set); otherwise the answer. Either way
  // `headers` gets the headers the final answer carries (rate limits).
  virtual std::optional<HttpResponse> Admit(HttpRequest& request, std::string_view method,
                                            std::string_view pattern, StringPairs& headers) = 0;

  // `error`, refused by the server itself on the route registered as
  // `pattern` (a 413), in that route's own error shape (a seed dialect's).
  virtual HttpResponse RefuseOnRoute(const ApiError& error, const HttpRequest& request,
                                     std::string_view pattern) const = 0;
};

}  // namespace jobtrail::http
