// Which address a request is charged to behind reverse proxies
// (http/server/trusted_proxies.h): only what trusted hops vouch for is believed.
#include <gtest/gtest.h>

#include "http/server/pistache_security.h"
#include "http/server/trusted_proxies.h"

namespace jobtrail::http {
namespace {

TrustedProxies Proxies(const std::vector<std::string>& specs) {
  auto parsed = TrustedProxies::Parse(specs);
  EXPECT_TRUE(parsed) << parsed.error().ToString();
  return parsed ? std::move(parsed).value() : TrustedProxies();
}

TEST(TrustedProxies, AddressesAndBlocksOfBothFamilies) {
  const TrustedProxies p = Proxies({"127.0.0.1", "10.0.0.0/8", "172.16.0.0/12", "fd00::/8", "::1"});
  EXPECT_TRUE(p.Contains("127.0.0.1"));
  EXPECT_FALSE(p.Contains("127.0.0.2"));
  EXPECT_TRUE(p.Contains("10.255.3.4"));
  EXPECT_TRUE(p.Contains("172.31.255.255"));
  EXPECT_FALSE(p.Contains("172.32.0.1"));
  EXPECT_TRUE(p.Contains("fd12:3456::1"));
  EXPECT_FALSE(p.Contains("fe80::1"));
  EXPECT_TRUE(p.Contains("::1"));
  EXPECT_FALSE(p.Contains("not an address"));
  EXPECT_FALSE(p.Contains(""));
}

TEST(TrustedProxies, BadSpecsAreRefused) {
  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0/8", "10.0.0.0/", "10.0.0.0/x",
                          "proxy.local", "10.0.0.0/8/8"}) {
    auto r = TrustedProxies::Parse({bad});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, Code::kInvalidArgument);
  }
}

TEST(TrustedProxies, ClientIsTheFirstUntrustedHopFromTheRight) {
  const TrustedProxies p = Proxies({"127.0.0.1", "10.0.0.0/8"});
  // Not from a trusted peer: the header is the client's own words.
  EXPECT_EQ(p.ClientAddress("203.0.113.9", std::string("1.2.3.4")), "203.0.113.9");
  // From the proxy: what it appended.
  EXPECT_EQ(p.ClientAddress("127.0.0.1", std::string("198.51.100.7")), "198.51.100.7");
  // A client that sends its own header cannot pick its address: the proxy
  // appends the real one, and that is read first.
  EXPECT_EQ(p.ClientAddress("127.0.0.1", std::string("1.1.1.1, 198.51.100.7")), "198.51.100.7");
  // Through two trusted proxies.
  EXPECT_EQ(p.ClientAddress("127.0.0.1", std::string("198.51.100.7, 10.1.2.3")), "198.51.100.7");
  // Every hop trusted: the left-most one.
  EXPECT_EQ(p.ClientAddress("127.0.0.1", std::string("10.9.9.9, 10.1.2.3")), "10.9.9.9");
  // Garbage stops the walk at the last vouched-for hop.
  EXPECT_EQ(p.ClientAddress("127.0.0.1", std::string("198.51.100.7, bogus, 10.1.2.3")),
            "10.1.2.3");
  EXPECT_EQ(p.ClientAddress("127.0.0.1", std::string(" ")), "127.0.0.1");
  EXPECT_EQ(p.ClientAddress("127.0.0.1", std::nullopt), "127.0.0.1");
  // Nothing trusted: always the peer.
  EXPECT_EQ(TrustedProxies().ClientAddress("127.0.0.1", std::string("198.51.100.7")), "127.0.0.1");
}

TEST(TrustedProxies, EveryForwardedForLineIsRead) {
  const TrustedProxies p = Proxies({"127.0.0.1", "10.0.0.0/8"});
  using Lines = std::vector<std::string>;
  // The client sent a line of its own and the proxy added another: the
  // lines are one list (RFC 9110 5.3), and the proxy's last hop wins.
  EXPECT_EQ(p.ClientAddress("127.0.0.1", Lines{"1.1.1.1", "198.51.100.7"}), "198.51.100.7");
  EXPECT_EQ(p.ClientAddress("127.0.0.1", Lines{"1.1.1.1, 2.2.2.2", "198.51.100.7, 10.1.2.3"}),
            "198.51.100.7");
  EXPECT_EQ(p.ClientAddress("127.0.0.1", Lines{}), "127.0.0.1");
  EXPECT_EQ(p.ClientAddress("203.0.113.9", Lines{"1.1.1.1"}), "203.0.113.9");
}

TEST(TrustedProxies, FieldLinesReadsEveryLineOfOneNameFromTheRawBlock) {
  const std::string block =
      "Host: x\r\nX-Forwarded-For: 1.1.1.1\r\nx-forwarded-for:\t198.51.100.7 , 10.0.0.1 \r\n"
      "X-Forwarded-For-Not: 9.9.9.9\r\nX-Forwarded-Fo: 8.8.8.8\r\n\r\n";
  EXPECT_EQ(FieldLines(block, "X-Forwarded-For"),
            (std::vector<std::string>{"1.1.1.1", "198.51.100.7 , 10.0.0.1"}));
  EXPECT_TRUE(FieldLines(block, "Forwarded").empty());
  EXPECT_TRUE(FieldLines("", "Host").empty());
  EXPECT_EQ(FieldLines("Host: a", "host"), std::vector<std::string>{"a"});
}

}  // namespace
}  // namespace jobtrail::http
