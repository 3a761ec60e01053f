#pragma once
// The Pistache side of the security layer, kept out of the adapter:
// per-address connection limits, the request fields the gate checks
// (client address, target length, header count and bytes), and header
// lookups that also see the headers Pistache parses into typed objects
// (Authorization, Host, User-Agent, ...), which tryGetRaw does not return.
#include <pistache/http.h>
#include <pistache/peer.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "http/http_types.h"

namespace jobtrail::http {

// Counts open connections per client address. Thread-safe.
class ConnectionLimiter : public std::enable_shared_from_this<ConnectionLimiter> {
 public:
  explicit ConnectionLimiter(size_t max_per_address) : max_(max_per_address) {}
  // A slot held for the connection's life (released when the last copy is
  // dropped), or null when `address` already has the maximum.
  std::shared_ptr<void> Acquire(const std::string& address);
  size_t open(const std::string& address) const;

 private:
  void Release(const std::string& address);

  const size_t max_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, size_t> open_;  // GUARDED_BY(mu_)
};

// What Http::Handler::onConnection does (a request parser for the peer),
// plus the connection limit: over the limit, the socket is shut down at
// once (the client sees the connection closed; nothing is read from it).
// `limiter` may be null (no limit).
void SetUpConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer, size_t max_request_bytes,
                     ConnectionLimiter* limiter);

// Client address, target length, header count and bytes.
void FillRequestShape(const Pistache::Http::Request& req, HttpRequest& out);

// A header's value whether Pistache kept it raw or typed.
std::optional<std::string> HeaderValue(const Pistache::Http::Header::Collection& headers,
                                       std::string_view name);
// Every header (raw and typed) as name/value pairs.
void CopyHeaders(const Pistache::Http::Header::Collection& headers,
                 std::vector<std::pair<std::string, std::string>>& out);

}  // namespace jobtrail::http
