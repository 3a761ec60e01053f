#pragma once
// Which peers' X-Forwarded-For is believed. Behind a reverse proxy every
// request comes from the proxy's address, so per-address limits would lump
// all clients together; naming the proxy (--trusted-proxy) lets jobtrail
// take the client's address from the header the proxy appends to. Nothing
// is trusted by default: a client could otherwise pick any address.
//
// Immutable after Parse; thread-safe.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.h"

namespace jobtrail::http {

class TrustedProxies {
 public:
  TrustedProxies() = default;

  // Each spec an IPv4 or IPv6 address ("10.0.0.7", "::1") or a CIDR block
  // ("10.0.0.0/8", "fd00::/8"). Errors: kInvalidArgument naming the spec.
  static Result<TrustedProxies> Parse(const std::vector<std::string>& specs);

  bool empty() const { return blocks_.empty(); }
  bool Contains(std::string_view address) const;

  // The client's address. Not behind a trusted peer: the peer. Otherwise
  // X-Forwarded-For is read from the right (the hop our proxy appended)
  // past every trusted proxy; the first other address is the client. A
  // malformed entry ends the walk at the last hop vouched for.
  std::string ClientAddress(std::string_view peer,
                            const std::optional<std::string>& forwarded_for) const;
  // The same over every X-Forwarded-For field line, in arrival order: a
  // proxy may add its own line instead of appending to the client's, and
  // reading only the first line would let the client pick its address.
  std::string ClientAddress(std::string_view peer,
                            const std::vector<std::string>& forwarded_for_lines) const;

 private:
  struct Block {
    bool v6 = false;
    std::array<uint8_t, 16> bytes{};
    int prefix = 0;  // bits
  };
  static std::optional<Block> ParseAddress(std::string_view text);
  std::vector<Block> blocks_;
};

}  // namespace jobtrail::http
