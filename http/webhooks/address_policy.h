#pragma once
// Which network addresses a webhook may reach (SSRF protection). A webhook
// URL is chosen by API callers, so without a rule any of them could make the
// server POST into its own network: the loopback interface, the cloud
// metadata service (169.254.169.254), private ranges, and so on.
//
// Public means a global unicast address: not loopback, private (RFC 1918,
// unique-local), link-local, carrier-grade NAT, multicast, reserved,
// documentation or unspecified; IPv4-mapped, -compatible and NAT64 IPv6
// addresses are judged by the IPv4 address they carry. The operator lifts
// the rule with `serve --webhook-allow-private` (tests use it with a
// listener on 127.0.0.1).
//
// Pure functions; thread-safe.
#include <sys/socket.h>

#include <string>
#include <string_view>

namespace jobtrail::webhooks {

// False for anything but AF_INET/AF_INET6 (`len` is the sockaddr's size).
bool IsPublicAddress(const sockaddr* address, socklen_t len);

// An IP literal ("203.0.113.9", "::1"; no brackets): true when it parses and
// is public. `parsed` tells whether it was an IP literal at all.
bool IsPublicLiteral(std::string_view text, bool& parsed);

// "127.0.0.1", "::1" (for error messages and logs).
std::string AddressText(const sockaddr* address, socklen_t len);

}  // namespace jobtrail::webhooks
