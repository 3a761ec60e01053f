#include "http/server/trusted_proxies.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>

namespace jobtrail::http {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<TrustedProxies::Block> TrustedProxies::ParseAddress(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  const std::string s(text);
  Block b;
  if (inet_pton(AF_INET, s.c_str(), b.bytes.data()) == 1) {
    b.prefix = 32;
    return b;
  }
  if (inet_pton(AF_INET6, s.c_str(), b.bytes.data()) == 1) {
    b.v6 = true;
    b.prefix = 128;
    return b;
  }
  return std::nullopt;
}

Result<TrustedProxies> TrustedProxies::Parse(const std::vector<std::string>& specs) {
  TrustedProxies out;
  for (const std::string& spec : specs) {
    auto bad = [&] {
      return InvalidArgument(fmt::format(
          "--trusted-proxy '{}' must be an IP address or a CIDR block (10.0.0.0/8, fd00::/8)",
          spec));
    };
    const std::string_view text = spec;
    const size_t slash = text.find('/');
    auto block = ParseAddress(text.substr(0, slash));
    if (!block) return bad();
    if (slash != std::string_view::npos) {
      const std::string_view bits = text.substr(slash + 1);
      int prefix = -1;
      auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
      if (ec != std::errc() || end != bits.data() + bits.size() || prefix < 0 ||
          prefix > block->prefix) {
        return bad();
      }
      block->prefix = prefix;
    }
    out.blocks_.push_back(*block);
  }
  return out;
}

bool TrustedProxies::Contains(std::string_view address) const {
  auto parsed = ParseAddress(address);
  if (!parsed) return false;
  for (const Block& b : blocks_) {
    if (b.v6 != parsed->v6) continue;
    int bits = b.prefix;
    size_t i = 0;
    bool match = true;
    for (; bits >= 8; bits -= 8, ++i) {
      if (b.bytes[i] != parsed->bytes[i]) {
        match = false;
        break;
      }
    }
    if (match && bits > 0) {
      const uint8_t mask = uint8_t(0xff << (8 - bits));
      match = (b.bytes[i] & mask) == (parsed->bytes[i] & mask);
    }
    if (match) return true;
  }
  return false;
}

std::string TrustedProxies::ClientAddress(std::string_view peer,
                                          const std::optional<std::string>& forwarded_for) const {
  if (blocks_.empty() || !forwarded_for || !Contains(peer)) return std::string(peer);
  std::string_view hops = *forwarded_for;
  std::string_view vouched = peer;  // the last address a trusted hop gave us
  while (!hops.empty()) {
    const size_t comma = hops.rfind(',');
    const std::string_view hop =
        Trim(comma == std::string_view::npos ? hops : hops.substr(comma + 1));
    hops = comma == std::string_view::npos ? std::string_view() : hops.substr(0, comma);
    if (!ParseAddress(hop)) break;  // malformed: believe no further
    if (!Contains(hop)) return std::string(hop);
    vouched = hop;
  }
  return std::string(vouched);
}

std::string TrustedProxies::ClientAddress(
    std::string_view peer, const std::vector<std::string>& forwarded_for_lines) const {
  if (forwarded_for_lines.empty()) return ClientAddress(peer, std::nullopt);
  // RFC 9110 5.3: the lines of a list-valued field are one list, joined
  // with commas in order, so the walk from the right starts at the last
  // hop whichever line it came in.
  std::string joined;
  for (const std::string& line : forwarded_for_lines) {
    if (!joined.empty()) joined += ", ";
    joined += line;
  }
  return ClientAddress(peer, std::optional<std::string>(std::move(joined)));
}

}  // namespace jobtrail::http
