#pragma once
// Everything the server's security layer is configured with (README
// "Security"): who may call what (authenticator.h), how often
// (request_gate.h), and the limits on a request's and a connection's shape.
//
// The defaults are safe for the internet: authentication on with no keys
// accepted until keys.json has some, seed 002's rate limits for end users.
#include <cstddef>
#include <string>
#include <vector>

#include "domain/job_event.h"
#include "http/security/authenticator.h"
#include "http/security/request_gate.h"

namespace jobtrail::http {

struct SecurityOptions {
  AuthOptions auth;
  RequestLimits limits;
  RateLimitOptions rates;  // ignored (off) with auth.insecure_no_auth
  // Open connections per client address; more are closed at once.
  size_t max_connections_per_address = 512;
  // A request's header must arrive within header_timeout_ms of its first
  // byte and its body within body_timeout_ms; an idle keep-alive connection
  // is closed after keepalive_timeout_ms. Slow clients cannot hold the server.
  Millis header_timeout_ms = 10'000;
  Millis body_timeout_ms = 30'000;
  Millis keepalive_timeout_ms = 60'000;
  // The shared secret of webhook routes (seed 002's cron: x-webhook-secret,
  // checked with webhook_secret.h). Empty: those routes refuse every call.
  std::string webhook_secret;
  // Peers (addresses or CIDR blocks) whose X-Forwarded-For names the client
  // (trusted_proxies.h). Empty: the peer is the client.
  std::vector<std::string> trusted_proxies;
};

}  // namespace jobtrail::http
