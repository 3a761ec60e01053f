#include "http/webhooks/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>

namespace jobtrail::webhooks {
namespace {

bool InPrefix(uint32_t address, uint32_t prefix, int bits) {
  const uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  return (address & mask) == (prefix & mask);
}

constexpr uint32_t V4(int a, int b, int c, int d) {
  return uint32_t(a) << 24 | uint32_t(b) << 16 | uint32_t(c) << 8 | uint32_t(d);
}

// `address` in host byte order.
bool IsPublicV4(uint32_t address) {
  struct Range {
    uint32_t prefix;
    int bits;
  };
  // IANA's special-purpose registry (RFC 6890 and successors), the ranges
  // that are not globally reachable, plus multicast and the reserved block.
  static constexpr Range kNotPublic[] = {
      {V4(0, 0, 0, 0), 8},       // "this network"
      {V4(10, 0, 0, 0), 8},      // private
      {V4(100, 64, 0, 0), 10},   // carrier-grade NAT
      {V4(127, 0, 0, 0), 8},     // loopback
      {V4(169, 254, 0, 0), 16},  // link-local (cloud metadata services)
      {V4(172, 16, 0, 0), 12},   // private
      {V4(192, 0, 0, 0), 24},    // IETF protocol assignments
      {V4(192, 0, 2, 0), 24},    // documentation
      {V4(192, 88, 99, 0), 24},  // 6to4 relay anycast (deprecated)
      {V4(192, 168, 0, 0), 16},  // private
      {V4(198, 18, 0, 0), 15},   // benchmarking
      {V4(198, 51, 100, 0), 24}, // documentation
      {V4(203, 0, 113, 0), 24},  // documentation
      {V4(224, 0, 0, 0), 4},     // multicast
      {V4(240, 0, 0, 0), 4},     // reserved, broadcast
  };
  for (const Range& r : kNotPublic) {
    if (InPrefix(address, r.prefix, r.bits)) return false;
  }
  return true;
}

uint32_t V4At(const uint8_t* bytes) {
  return uint32_t(bytes[0]) << 24 | uint32_t(bytes[1]) << 16 | uint32_t(bytes[2]) << 8 |
         uint32_t(bytes[3]);
}

bool StartsWith(const uint8_t* a, std::initializer_list<uint8_t> prefix) {
  size_t i = 0;
  for (uint8_t b : prefix) {
    if (a[i++] != b) return false;
  }
  return true;
}

bool IsPublicV6(const in6_addr& in) {
  const uint8_t* a = in.s6_addr;
  // ::/96 covers ::, ::1 and the deprecated IPv4-compatible addresses.
  static constexpr uint8_t kZero[12] = {};
  if (std::memcmp(a, kZero, 12) == 0) return false;
  // IPv4-mapped ::ffff:a.b.c.d: the IPv4 address is what gets reached.
  if (StartsWith(a, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff})) return IsPublicV4(V4At(a + 12));
  // NAT64 64:ff9b::/96 translates to the IPv4 address it carries;
  // 64:ff9b:1::/48 is for local use.
  if (StartsWith(a, {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0})) {
    return IsPublicV4(V4At(a + 12));
  }
  if (StartsWith(a, {0, 0x64, 0xff, 0x9b, 0, 1})) return false;
  if (StartsWith(a, {0x01, 0x00, 0, 0, 0, 0, 0, 0})) return false;  // discard 100::/64
  if (a[0] == 0x20 && a[1] == 0x01 && a[2] < 0x02) return false;     // 2001::/23 IETF
  if (StartsWith(a, {0x20, 0x01, 0x0d, 0xb8})) return false;         // documentation
  if (StartsWith(a, {0x20, 0x02})) return false;                     // 6to4 (deprecated)
  if ((a[0] & 0xfe) == 0xfc) return false;                           // unique local fc00::/7
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return false;           // link-local fe80::/10
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0) return false;           // site-local fec0::/10
  if (a[0] == 0xff) return false;                                    // multicast
  // Global unicast is 2000::/3; everything else is unassigned.
  return (a[0] & 0xe0) == 0x20;
}

}  // namespace

bool IsPublicAddress(const sockaddr* address, socklen_t len) {
  if (address == nullptr) return false;
  if (address->sa_family == AF_INET && len >= socklen_t(sizeof(sockaddr_in))) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    return IsPublicV4(ntohl(in->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6 && len >= socklen_t(sizeof(sockaddr_in6))) {
    const auto* in = reinterpret_cast<const sockaddr_in6*>(address);
    return IsPublicV6(in->sin6_addr);
  }
  return false;
}

bool IsPublicLiteral(std::string_view text, bool& parsed) {
  const std::string s(text);
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    parsed = true;
    return IsPublicV4(ntohl(v4.s_addr));
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    parsed = true;
    return IsPublicV6(v6);
  }
  parsed = false;
  return false;
}

std::string AddressText(const sockaddr* address, socklen_t len) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (address != nullptr && address->sa_family == AF_INET &&
      len >= socklen_t(sizeof(sockaddr_in))) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, buf, sizeof buf);
  } else if (address != nullptr && address->sa_family == AF_INET6 &&
             len >= socklen_t(sizeof(sockaddr_in6))) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, buf,
              sizeof buf);
  } else {
    return "an address that is not IPv4 or IPv6";
  }
  return buf;
}

}  // namespace jobtrail::webhooks
