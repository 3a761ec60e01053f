// The webhooks module's pure parts: the address policy, URL checks,
// signatures, which subscriptions an event is for, and reading attempt
// records back (import).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>

#include "http/webhooks/address_policy.h"
#include "http/webhooks/attempt_json.h"
#include "http/webhooks/delivery_plan.h"
#include "http/webhooks/signature.h"
#include "http/webhooks/webhook_url.h"
#include "projections/job_json.h"

namespace jobtrail::webhooks {
namespace {

bool Public(const std::string& literal) {
  bool parsed = false;
  const bool is_public = IsPublicLiteral(literal, parsed);
  EXPECT_TRUE(parsed) << literal;
  return is_public;
}

TEST(AddressPolicyTest, OnlyGlobalUnicastIsPublic) {
  for (const char* a : {"8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111",
                        "2a00:1450:4001:82b::200e", "::ffff:8.8.8.8", "64:ff9b::808:808"}) {
    EXPECT_TRUE(Public(a)) << a;
  }
  for (const char* a :
       {"127.0.0.1", "127.255.255.254", "10.0.0.1", "172.16.0.1", "172.31.255.255",
        "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "0.1.2.3", "224.0.0.1",
        "239.255.255.250", "255.255.255.255", "240.0.0.1", "192.0.2.1", "198.51.100.7",
        "203.0.113.9", "198.18.0.1", "192.0.0.8", "::", "::1", "::ffff:127.0.0.1",
        "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1", "64:ff9b::a00:1",
        "64:ff9b:1::1", "fc00::1", "fd12:3456::1", "fe80::1", "fec0::1", "ff02::1",
        "2001:db8::1", "2002:7f00:1::1", "2001::1", "100::1", "4000::1"}) {
    EXPECT_FALSE(Public(a)) << a;
  }
  EXPECT_TRUE(Public("172.32.0.1"));   // just past 172.16/12
  EXPECT_TRUE(Public("100.128.0.1"));  // just past 100.64/10
  bool parsed = true;
  EXPECT_FALSE(IsPublicLiteral("example.com", parsed));
  EXPECT_FALSE(parsed);
}

TEST(AddressPolicyTest, JudgesSockaddrs) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &v4.sin_addr);
  EXPECT_FALSE(IsPublicAddress(reinterpret_cast<sockaddr*>(&v4), sizeof v4));
  EXPECT_EQ(AddressText(reinterpret_cast<sockaddr*>(&v4), sizeof v4), "127.0.0.1");
  inet_pton(AF_INET, "8.8.4.4", &v4.sin_addr);
  EXPECT_TRUE(IsPublicAddress(reinterpret_cast<sockaddr*>(&v4), sizeof v4));
  EXPECT_FALSE(IsPublicAddress(reinterpret_cast<sockaddr*>(&v4), 4));  // truncated
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:192.168.0.1", &v6.sin6_addr);
  EXPECT_FALSE(IsPublicAddress(reinterpret_cast<sockaddr*>(&v6), sizeof v6));
  sockaddr unix_like{};
  unix_like.sa_family = AF_UNIX;
  EXPECT_FALSE(IsPublicAddress(&unix_like, sizeof unix_like));
}

TEST(WebhookUrlTest, AcceptsAbsoluteHttpUrls) {
  auto u = CheckWebhookUrl("https://hooks.example.com:8443/jobs?team=a#x", false);
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u.value().scheme, "https");
  EXPECT_EQ(u.value().host, "hooks.example.com");
  EXPECT_EQ(u.value().port, "8443");
  EXPECT_TRUE(CheckWebhookUrl("http://93.184.216.34/", false));
  EXPECT_TRUE(CheckWebhookUrl("HTTP://EXAMPLE.COM/", false));
  // Private addresses only when allowed.
  EXPECT_FALSE(CheckWebhookUrl("http://127.0.0.1:9/", false));
  EXPECT_TRUE(CheckWebhookUrl("http://127.0.0.1:9/", true));
  EXPECT_FALSE(CheckWebhookUrl("http://LOCALHOST./", false));
  EXPECT_FALSE(CheckWebhookUrl("http://api.localhost/", false));
  EXPECT_TRUE(CheckWebhookUrl("http://localhost/", true));
}

TEST(WebhookUrlTest, RefusesWhatIsNotAPlainHttpUrl) {
  for (const char* bad : {"", "example.com/x", "//example.com/x", "ftp://example.com/",
                          "gopher://example.com/", "file:///etc/passwd",
                          "http://user:pw@example.com/", "http://user@example.com/",
                          "http://exa mple.com/", "http://example.com/\n",
                          "http://[fe80::1%25eth0]/"}) {
    auto u = CheckWebhookUrl(bad, true);
    EXPECT_FALSE(u) << bad;
    if (!u) {
      EXPECT_EQ(u.error().code, Code::kInvalidArgument) << bad;
    }
  }
  EXPECT_FALSE(CheckWebhookUrl("https://example.com/" + std::string(kMaxWebhookUrlBytes, 'a'), true));
}

TEST(WebhookUrlTest, ResolvedAddressesAreCheckedAtRegistration) {
  auto local = CheckWebhookUrl("http://127.0.0.1/", true);
  ASSERT_TRUE(local);
  EXPECT_FALSE(CheckResolves(local.value(), false));
  EXPECT_TRUE(CheckResolves(local.value(), true));
  auto unknown = CheckWebhookUrl("http://no-such-host.invalid/", false);
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(CheckResolves(unknown.value(), true));  // RFC 6761: never resolves
}

TEST(SignatureTest, IsHmacSha256OfTimestampDotBody) {
  // The value computed independently:
  //   printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec_test'
  const std::string header = SignatureHeader("whsec_test", 1700000000, R"({"a":1})");
  EXPECT_EQ(header,
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
  EXPECT_TRUE(VerifySignatureHeader(header, "whsec_test", R"({"a":1})", 1700000100, 300));
  EXPECT_FALSE(VerifySignatureHeader(header, "whsec_other", R"({"a":1})", 1700000100, 300));
  EXPECT_FALSE(VerifySignatureHeader(header, "whsec_test", R"({"a":2})", 1700000100, 300));
  EXPECT_FALSE(VerifySignatureHeader(header, "whsec_test", R"({"a":1})", 1700000400, 300));
  EXPECT_FALSE(VerifySignatureHeader("v1=abc", "whsec_test", "", 0, 300));
  // Extra entries (a second key during rotation) are fine.
  EXPECT_TRUE(VerifySignatureHeader(header + ",v1=00", "whsec_test", R"({"a":1})", 1700000000, 0));
}

TEST(SignatureTest, SecretsAreFreshAndCallbackSecretsPerOwner) {
  auto a = NewSecret();
  auto b = NewSecret();
  ASSERT_TRUE(a && b);
  EXPECT_NE(a.value(), b.value());
  EXPECT_EQ(a.value().size(), 6u + 64u);
  EXPECT_EQ(CallbackSecret("key", "alice"), CallbackSecret("key", "alice"));
  EXPECT_NE(CallbackSecret("key", "alice"), CallbackSecret("key", "bob"));
  EXPECT_NE(CallbackSecret("key", "alice"), CallbackSecret("other-key", "alice"));
}

TEST(DeliveryPlanTest, TransitionsAndFilters) {
  EXPECT_EQ(TransitionTo(EventKind::kCompleted), JobStatus::kCompleted);
  EXPECT_EQ(TransitionTo(EventKind::kEnqueued), JobStatus::kPending);
  EXPECT_FALSE(TransitionTo(EventKind::kProgressed));
  EXPECT_FALSE(TransitionTo(EventKind::kWebhookAttempted));
  EXPECT_FALSE(TransitionTo(EventKind::kExpired));
  Subscription s;
  s.statuses = {JobStatus::kFailed};
  s.after_position = 10;
  const JobFacts facts{"alice", "report", "q1", ""};
  EXPECT_TRUE(Wants(s, 11, JobStatus::kFailed, facts));
  EXPECT_FALSE(Wants(s, 10, JobStatus::kFailed, facts));  // not after its creation
  EXPECT_FALSE(Wants(s, 11, JobStatus::kCompleted, facts));
  s.owner = "bob";
  EXPECT_FALSE(Wants(s, 11, JobStatus::kFailed, facts));
  s.owner = "alice";
  s.types = {"email", "report"};
  s.queues = {"q2"};
  EXPECT_FALSE(Wants(s, 11, JobStatus::kFailed, facts));
  s.queues = {"q1"};
  EXPECT_TRUE(Wants(s, 11, JobStatus::kFailed, facts));
  EXPECT_TRUE(CallbackWants(JobStatus::kCancelled, {"a", "t", "q", "https://x.example/"}));
  EXPECT_FALSE(CallbackWants(JobStatus::kRunning, {"a", "t", "q", "https://x.example/"}));
  EXPECT_FALSE(CallbackWants(JobStatus::kFailed, facts));
  // Deterministic per event and target, different across them.
  EXPECT_EQ(DeliveryId("ev-1", "wh_1"), DeliveryId("ev-1", "wh_1"));
  EXPECT_NE(DeliveryId("ev-1", "wh_1"), DeliveryId("ev-1", "wh_2"));
  EXPECT_NE(DeliveryId("ev-1", "wh_1"), DeliveryId("ev-2", "wh_1"));
}

TEST(AttemptJsonTest, ReadsBackWhatTheExportWrites) {
  RecordedEvent e;
  e.event_id = "e";
  e.job_id = "j";
  e.version = 5;
  e.position = 9;
  e.timestamp = 1'700'000'000'000;
  e.actor = "system";
  WebhookAttempted a{"d-1", "wh_1", 4, "completed", 2, 503, "HTTP 503", 120,
                     WebhookOutcome::kRetrying, 1'700'000'060'000};
  e.body = a;
  rapidjson::Document doc;
  doc.Parse(RenderEventJson(e).c_str());
  ASSERT_FALSE(doc.HasParseError());
  auto parsed = ParseAttemptData(doc["data"]);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(parsed.value() == a);
  // A callback's attempt without an answer: nulls are dropped by the import.
  a = WebhookAttempted{"d-2", "", 4, "failed", 1, 0, "Couldn't connect to server", 3,
                       WebhookOutcome::kGaveUp, std::nullopt};
  rapidjson::Document sparse;
  sparse.Parse(R"({"delivery_id":"d-2","event_version":4,"event_type":"failed","attempt":1,)"
               R"("error":"Couldn't connect to server","duration_ms":3,"outcome":"gave_up"})");
  parsed = ParseAttemptData(sparse);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_TRUE(parsed.value() == a);
  sparse["outcome"].SetString("maybe");
  EXPECT_FALSE(ParseAttemptData(sparse));
}

}  // namespace
}  // namespace jobtrail::webhooks
