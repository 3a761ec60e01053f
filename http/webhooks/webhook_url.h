#pragma once
// Checking a webhook URL (a subscription's, an enqueue's callback_url)
// before it is accepted. Parsing is libcurl's URL API (the same parser that
// later sends the request), so what is checked is what gets called.
//
// Accepted: an absolute http:// or https:// URL with a host, at most
// kMaxWebhookUrlBytes, no user info (credentials belong in the signature's
// secret, and URLs are listed back to callers), no whitespace or control
// characters. Unless private addresses are allowed, a host that is an IP
// literal must be public (address_policy.h) and "localhost" (and any
// *.localhost) is refused.
//
// At registration a subscription's host is also resolved (CheckResolves):
// a name that resolves to a private address is refused at once. That is a
// courtesy, not the protection: DNS can change after registration (DNS
// rebinding), so the sender checks the address it actually connects to,
// every time (http_sender.h).
//
// Thread-safe.
#include <string>
#include <string_view>

#include "domain/error.h"

namespace jobtrail::webhooks {

inline constexpr size_t kMaxWebhookUrlBytes = 2048;

struct WebhookUrl {
  std::string url;   // as given
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6 literals
  std::string port;    // "" when the scheme's default
};

// Errors: kInvalidArgument/INVALID_INPUT; the message says what is wrong
// (it is shown to the caller after the field's name).
Result<WebhookUrl> CheckWebhookUrl(std::string_view url, bool allow_private);

// Resolves the host (getaddrinfo: blocking, call it off the HTTP reactor)
// and refuses a name that does not resolve or resolves to a private
// address. Errors: kInvalidArgument/INVALID_INPUT.
Result<void> CheckResolves(const WebhookUrl& url, bool allow_private);

}  // namespace jobtrail::webhooks
