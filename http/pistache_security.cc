#include "http/pistache_security.h"

#include <sys/socket.h>

#include <sstream>

namespace jobtrail::http {
namespace {

namespace PHttp = Pistache::Http;

constexpr const char* kSlotKey = "jobtrail.connection_slot";

std::string TypedValue(const PHttp::Header::Header& header) {
  std::ostringstream os;
  header.write(os);
  return os.str();
}

}  // namespace

std::shared_ptr<void> ConnectionLimiter::Acquire(const std::string& address) {
  {
    std::lock_guard lock(mu_);
    size_t& n = open_[address];
    if (n >= max_) return nullptr;
    ++n;
  }
  // The slot releases itself when the last reference goes.
  struct Slot {
    std::shared_ptr<ConnectionLimiter> limiter;
    std::string address;
    ~Slot() {
      if (limiter) limiter->Release(address);
    }
  };
  auto slot = std::make_shared<Slot>();
  slot->limiter = shared_from_this();
  slot->address = address;
  return slot;
}

void ConnectionLimiter::Release(const std::string& address) {
  std::lock_guard lock(mu_);
  auto it = open_.find(address);
  if (it == open_.end()) return;
  if (--it->second == 0) open_.erase(it);
}

size_t ConnectionLimiter::open(const std::string& address) const {
  std::lock_guard lock(mu_);
  auto it = open_.find(address);
  return it == open_.end() ? 0 : it->second;
}

void SetUpConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer, size_t max_request_bytes,
                     ConnectionLimiter* limiter) {
  peer->putData(PHttp::Handler::ParserData,
                std::make_shared<PHttp::RequestParser>(max_request_bytes));
  if (limiter == nullptr) return;
  auto slot = limiter->Acquire(peer->address().host());
  if (slot) {
    // Released when Pistache drops the peer, however the connection ends.
    peer->putData(kSlotKey, std::move(slot));
  } else {
    // The reactor sees end-of-stream and removes the peer as usual.
    ::shutdown(peer->fd(), SHUT_RDWR);
  }
}

void FillRequestShape(const PHttp::Request& req, HttpRequest& out) {
  out.client_address = req.address().host();
  size_t url = req.resource().size();
  const auto& q = req.query();
  for (auto it = q.parameters_begin(); it != q.parameters_end(); ++it) {
    url += it->first.size() + it->second.size() + 2;
  }
  out.url_bytes = url;
  size_t count = 0;
  size_t bytes = 0;
  for (const auto& [name, raw] : req.headers().rawList()) {
    ++count;
    bytes += name.size() + raw.value().size() + 4;
  }
  for (const auto& typed : req.headers().list()) {
    ++count;
    bytes += std::string_view(typed->name()).size() + 4;
  }
  out.header_count = count;
  out.header_bytes = bytes;
}

std::optional<std::string> HeaderValue(const PHttp::Header::Collection& headers,
                                       std::string_view name) {
  const std::string key(name);
  if (auto raw = headers.tryGetRaw(key)) return raw->value();
  if (auto typed = headers.tryGet(key)) return TypedValue(*typed);
  return std::nullopt;
}

void CopyHeaders(const PHttp::Header::Collection& headers,
                 std::vector<std::pair<std::string, std::string>>& out) {
  for (const auto& [name, raw] : headers.rawList()) out.emplace_back(name, raw.value());
  for (const auto& typed : headers.list()) out.emplace_back(typed->name(), TypedValue(*typed));
}

}  // namespace jobtrail::http
