#include "http/webhooks/webhook_url.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <netdb.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "http/webhooks/address_policy.h"

namespace jobtrail::webhooks {
namespace {

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
struct PartDeleter {
  void operator()(char* p) const { curl_free(p); }
};

// One part of a parsed URL; "" when absent.
std::string Part(CURLU* url, CURLUPart what) {
  char* raw = nullptr;
  if (curl_url_get(url, what, &raw, 0) != CURLUE_OK || raw == nullptr) return "";
  std::unique_ptr<char, PartDeleter> owned(raw);
  return std::string(raw);
}

bool IsLocalhostName(std::string host) {
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  if (!host.empty() && host.back() == '.') host.pop_back();
  return host == "localhost" || host.ends_with(".localhost");
}

Error Refused(std::string message) { return InvalidArgument(std::move(message)); }

}  // namespace

Result<WebhookUrl> CheckWebhookUrl(std::string_view text, bool allow_private) {
  if (text.empty()) return Refused("must not be empty");
  if (text.size() > kMaxWebhookUrlBytes) {
    return Refused(fmt::format("is longer than {} bytes", kMaxWebhookUrlBytes));
  }
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7f) return Refused("must not contain spaces or control characters");
  }
  std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  if (!url) return Internal("curl_url() failed");
  const std::string owned(text);
  if (curl_url_set(url.get(), CURLUPART_URL, owned.c_str(), 0) != CURLUE_OK) {
    return Refused("is not an absolute URL");
  }
  WebhookUrl out;
  out.url = owned;
  out.scheme = Part(url.get(), CURLUPART_SCHEME);
  std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  if (out.scheme != "http" && out.scheme != "https") {
    return Refused("must be an http:// or https:// URL");
  }
  if (!Part(url.get(), CURLUPART_USER).empty() || !Part(url.get(), CURLUPART_PASSWORD).empty()) {
    return Refused("must not contain user info (user:password@); put secrets in the webhook's "
                   "secret");
  }
  out.host = Part(url.get(), CURLUPART_HOST);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host.empty()) return Refused("has no host");
  if (out.host.find('%') != std::string::npos || !Part(url.get(), CURLUPART_ZONEID).empty()) {
    return Refused("must not name an IPv6 zone (%...)");
  }
  out.port = Part(url.get(), CURLUPART_PORT);
  if (!allow_private) {
    bool literal = false;
    const bool is_public = IsPublicLiteral(out.host, literal);
    if ((literal && !is_public) || IsLocalhostName(out.host)) {
      return Refused(fmt::format("names {}, a loopback or private address (refused unless the "
                                 "server runs with --webhook-allow-private)",
                                 out.host));
    }
  }
  return out;
}

Result<void> CheckResolves(const WebhookUrl& url, bool allow_private) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(url.host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) {
    return Refused(fmt::format("has a host that does not resolve ({})", url.host));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(found, &freeaddrinfo);
  if (allow_private) return Ok();
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    if (!IsPublicAddress(a->ai_addr, a->ai_addrlen)) {
      return Refused(fmt::format("has a host that resolves to {}, a loopback or private address "
                                 "(refused unless the server runs with --webhook-allow-private)",
                                 AddressText(a->ai_addr, a->ai_addrlen)));
    }
  }
  return Ok();
}

}  // namespace jobtrail::webhooks
