// The security layer's pieces without a socket: encodings, API keys, JWTs
// (HS256, RS256, every claim check, algorithm confusion), share tokens,
// token buckets, the webhook secret check.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "domain/clock.h"
#include "http/security/authenticator.h"
#include "http/security/crypto.h"
#include "http/security/jwt_verifier.h"
#include "http/security/key_store.h"
#include "http/security/rate_limiter.h"
#include "http/security/request_gate.h"
#include "http/security/route_access.h"
#include "http/security/share_token.h"
#include "http/security/webhook_secret.h"
#include "http/server/pistache_security.h"
#include "tests/http/jwt_test_util.h"

namespace jobtrail::http {
namespace {

using jobtrail::testing::MakeHs256;
using jobtrail::testing::RsaKey;

constexpr Millis kNow = 1705314600000;  // 2024-01-15T10:30:00Z
const std::string kSecret = "0123456789abcdef0123456789abcdef-test";

std::string TempDir() {
  std::string t = (std::filesystem::temp_directory_path() / "jobtrail-sec-XXXXXX").string();
  EXPECT_NE(mkdtemp(t.data()), nullptr);
  return t;
}

TEST(Crypto, Base64UrlRoundTripsAndRejectsJunk) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00\x01"}) {
    auto back = Base64UrlDecode(Base64UrlEncode(s));
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, s);
  }
  EXPECT_FALSE(Base64UrlDecode("ab+c"));
  EXPECT_FALSE(Base64UrlDecode("abc="));
  EXPECT_FALSE(Base64UrlDecode("a"));
  EXPECT_FALSE(Base64UrlDecode("ab c"));
  EXPECT_EQ(HexEncode(*HexDecode("00ff7a")), "00ff7a");
  EXPECT_FALSE(HexDecode("0g"));
}

TEST(Webhook, ConstantTimeCheck) {
  EXPECT_TRUE(WebhookSecretMatches("s3cret", "s3cret"));
  EXPECT_FALSE(WebhookSecretMatches("s3cre", "s3cret"));
  EXPECT_FALSE(WebhookSecretMatches("", ""));  // an unset secret never matches
  EXPECT_FALSE(WebhookHeaderMatches(std::optional<std::string>(), "s3cret"));
  EXPECT_TRUE(WebhookHeaderMatches(std::optional<std::string>("s3cret"), "s3cret"));
}

TEST(KeyStore, CreateVerifyRevokeAndPersistOnlyHashes) {
  const std::string dir = TempDir();
  auto store = KeyStore::Load(KeyStore::PathIn(dir));
  ASSERT_TRUE(store);
  auto a = store.value().Create(Role::kReader, "alice", "laptop", kNow);
  ASSERT_TRUE(a);
  auto b = store.value().Create(Role::kAdmin, "", "", kNow);
  ASSERT_TRUE(b);
  EXPECT_EQ(b.value().record.owner, "key-" + b.value().record.id);
  ASSERT_TRUE(store.value().Save());

  std::ifstream in(KeyStore::PathIn(dir));
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text.find(a.value().key.substr(20)), std::string::npos) << "the secret is stored";
  EXPECT_EQ(std::filesystem::status(KeyStore::PathIn(dir)).permissions() &
                std::filesystem::perms::others_read,
            std::filesystem::perms::none);

  auto reloaded = KeyStore::Load(KeyStore::PathIn(dir));
  ASSERT_TRUE(reloaded);
  const ApiKeyRecord* found = reloaded.value().Verify(a.value().key);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->owner, "alice");
  EXPECT_EQ(found->role, Role::kReader);
  std::string wrong = a.value().key;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(reloaded.value().Verify(wrong), nullptr);
  EXPECT_EQ(reloaded.value().Verify("jt_nothing"), nullptr);
  EXPECT_EQ(reloaded.value().Verify(""), nullptr);

  ASSERT_TRUE(reloaded.value().Revoke(a.value().record.id, kNow + 1));
  EXPECT_EQ(reloaded.value().Verify(a.value().key), nullptr);
  EXPECT_FALSE(reloaded.value().Revoke("0000000000000000", kNow));
  std::filesystem::remove_all(dir);
}

TEST(KeyStore, DamagedFileIsDataLoss) {
  for (std::string text : {"", "[]", R"({"version":2,"keys":[]})",
                           R"({"version":1,"keys":[{"id":"x"}]})",
                           R"({"version":1,"keys":[{"id":"0123456789abcdef","role":"root",)"
                           R"("owner":"a","salt":"00","hash":"00"}]})"}) {
    auto parsed = KeyStore::Parse("keys.json", text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().code, Code::kDataLoss);
  }
}

class JwtTest : public ::testing::Test {
 protected:
  std::unique_ptr<JwtVerifier> Make(JwtOptions o) {
    auto v = JwtVerifier::Create(std::move(o));
    EXPECT_TRUE(v) << v.error().message;
    return v ? std::move(v).value() : nullptr;
  }
  JwtOptions Hs() {
    JwtOptions o;
    o.hs256_secret = kSecret;
    o.issuer = "https://auth.example.com";
    o.audience = "jobtrail";
    return o;
  }
  static std::string Claims(const std::string& extra = "") {
    return R"({"sub":"alice","iss":"https://auth.example.com","aud":"jobtrail","exp":1705318200)" +
           extra + "}";
  }
};

TEST_F(JwtTest, Hs256AcceptsAGoodTokenAndReadsTheRole) {
  auto v = Make(Hs());
  auto p = v->Verify(MakeHs256(Claims(), kSecret), kNow);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p.value().subject, "alice");
  EXPECT_EQ(p.value().role, Role::kReader);
  auto w = v->Verify(MakeHs256(Claims(R"(,"role":"worker")"), kSecret), kNow);
  ASSERT_TRUE(w);
  EXPECT_EQ(w.value().role, Role::kWorker);
  // aud as an array.
  auto arr = v->Verify(
      MakeHs256(R"({"sub":"a","iss":"https://auth.example.com","aud":["x","jobtrail"],"exp":1705318200})",
                kSecret),
      kNow);
  EXPECT_TRUE(arr);
}

TEST_F(JwtTest, Hs256RejectsEveryBadClaim) {
  auto v = Make(Hs());
  std::string why;
  struct Case {
    std::string token;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {MakeHs256(Claims(), "another secret that is long enough!!"), "bad signature"},
      {MakeHs256(R"({"sub":"alice","iss":"https://auth.example.com","aud":"jobtrail","exp":1705314000})", kSecret), "expired"},
      {MakeHs256(R"({"sub":"alice","iss":"https://auth.example.com","aud":"jobtrail"})", kSecret), "no exp"},
      {MakeHs256(Claims(R"(,"nbf":1705318000)"), kSecret), "not yet valid"},
      {MakeHs256(R"({"sub":"alice","iss":"https://evil.example.com","aud":"jobtrail","exp":1705318200})", kSecret), "wrong issuer"},
      {MakeHs256(R"({"sub":"alice","iss":"https://auth.example.com","aud":"other","exp":1705318200})", kSecret), "wrong audience"},
      {MakeHs256(R"({"iss":"https://auth.example.com","aud":"jobtrail","exp":1705318200})", kSecret), "no subject"},
      {MakeHs256(Claims(R"(,"role":"root")"), kSecret), "unknown role"},
      {MakeHs256(Claims(), kSecret, R"({"alg":"none"})"), "algorithm not accepted"},
      {MakeHs256(Claims(), kSecret, R"({"alg":"RS256"})"), "algorithm not accepted"},
      {"a.b", "not three parts"},
      {"###.###.###", "bad base64url"},
  };
  for (const Case& c : cases) {
    auto p = v->Verify(c.token, kNow, &why);
    ASSERT_FALSE(p) << c.reason;
    EXPECT_EQ(p.error().code, Code::kUnauthenticated);
    EXPECT_EQ(p.error().reason, "INVALID_CREDENTIALS");
    EXPECT_EQ(why, c.reason);
  }
  // An unsigned token ("alg":"none", empty signature).
  const std::string none = jobtrail::testing::JwtPart(R"({"alg":"none"})") + "." +
                           jobtrail::testing::JwtPart(Claims()) + ".";
  EXPECT_FALSE(v->Verify(none, kNow));
}

TEST_F(JwtTest, Rs256VerifiesWithThePublicKeyAndRefusesAlgorithmConfusion) {
  RsaKey key;
  JwtOptions o;
  o.rs256_public_pem = key.PublicPem();
  auto v = Make(o);
  auto p = v->Verify(key.Sign(R"({"sub":"bob","exp":1705318200,"role":"admin"})"), kNow);
  ASSERT_TRUE(p);
  EXPECT_EQ(p.value().role, Role::kAdmin);
  RsaKey other;
  EXPECT_FALSE(v->Verify(other.Sign(R"({"sub":"bob","exp":1705318200})"), kNow));
  // HS256 signed with the public key's PEM as the secret: refused, as this
  // verifier has no HS256 secret.
  EXPECT_FALSE(v->Verify(MakeHs256(R"({"sub":"bob","exp":1705318200})", o.rs256_public_pem), kNow));
  JwtOptions bad;
  bad.rs256_public_pem = "not a pem";
  EXPECT_FALSE(JwtVerifier::Create(bad));
  EXPECT_FALSE(JwtVerifier::Create(JwtOptions{}));
}

TEST(ShareTokens, ScopedToOneJobAndExpire) {
  ShareTokens tokens(kSecret);
  const std::string t = tokens.Issue("job-1", kNow + 1000);
  auto job = tokens.Verify(t, kNow);
  ASSERT_TRUE(job);
  EXPECT_EQ(job.value(), "job-1");
  EXPECT_FALSE(tokens.Verify(t, kNow + 1000));  // expired
  std::string tampered = t;
  tampered[7] = tampered[7] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(tokens.Verify(tampered, kNow));
  EXPECT_FALSE(ShareTokens("another secret, also 32 bytes long...").Verify(t, kNow));
  EXPECT_FALSE(tokens.Verify("jts1.", kNow));
  EXPECT_FALSE(tokens.Verify("", kNow));
}

TEST(RateLimiter, TokenBucketRefillsWithTheClock) {
  RateLimiter limiter;
  const RateRule rule{3, 3000};
  for (int i = 0; i < 3; ++i) {
    RateDecision d = limiter.Take("k", rule, kNow);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, uint64_t(2 - i));
  }
  RateDecision denied = limiter.Take("k", rule, kNow);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.retry_after_ms, 1000);
  EXPECT_EQ(denied.reset_at, kNow + 3000);
  EXPECT_TRUE(limiter.Take("other", rule, kNow).allowed);
  EXPECT_FALSE(limiter.Take("k", rule, kNow + 999).allowed);
  EXPECT_TRUE(limiter.Take("k", rule, kNow + 1000).allowed);
}

TEST(RateLimiter, AWholePeriodRefillsTheWholeBurstExactly) {
  // 3 per 10 s: 3/10000 of a token a millisecond is not exact in binary
  // floating point; the bucket must still be full after exactly 10 s.
  RateLimiter limiter;
  const RateRule rule{3, 10'000};
  for (Millis t = kNow; t < kNow + 100'000; t += 10'000) {
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Take("k", rule, t).allowed) << t;
    EXPECT_FALSE(limiter.Take("k", rule, t).allowed) << t;
  }
}

TEST(RateLimiter, BucketsAreBoundedUnderAFloodOfNewKeys) {
  // 160 buckets: 10 per shard. Nothing is idle (one instant), so dropping
  // only idle buckets would keep all 5000.
  RateLimiter limiter(160);
  const RateRule rule{1, 3'600'000};
  for (int i = 0; i < 5000; ++i) limiter.Take("flood:" + std::to_string(i), rule, kNow);
  EXPECT_LE(limiter.size(), 176u);
}

TEST(RateLimiter, AnActiveBucketOutlivesTheFlood) {
  RateLimiter limiter(160);
  const RateRule rule{1, 3'600'000};
  EXPECT_TRUE(limiter.Take("hot", rule, kNow).allowed);
  for (int i = 0; i < 5000; ++i) {
    limiter.Take("flood:" + std::to_string(i), rule, kNow);
    // Used again and again, it stays among the most recent: still empty.
    if (i % 5 == 0) EXPECT_FALSE(limiter.Take("hot", rule, kNow).allowed) << i;
  }
}

TEST(RateLimiter, ParsesRules) {
  EXPECT_EQ(ParseRateRule("100/15m").value().period_ms, 15 * 60000);
  EXPECT_EQ(ParseRateRule("5/1h").value().limit, 5u);
  EXPECT_EQ(ParseRateRule("1/s").value().period_ms, 1000);
  EXPECT_FALSE(ParseRateRule("off").value().enabled());
  EXPECT_EQ(ParseRateRule("10/366d").value().period_ms, 366 * 86'400'000LL);
  for (const char* bad : {"", "5", "/1s", "5/", "5/1y", "0/1s", "a/1s", "5/0s", "1/367d",
                          "1000000000/300d"}) {
    EXPECT_FALSE(ParseRateRule(bad)) << bad;
  }
  RateLimitOptions o;
  EXPECT_TRUE(SetRateLimit(o, "reader=10/1m"));
  EXPECT_EQ(o.reader.limit, 10u);
  EXPECT_FALSE(SetRateLimit(o, "nobody=10/1m"));
  EXPECT_FALSE(SetRateLimit(o, "reader"));
}

TEST(RouteAccess, TableDefaultsToAdminAndExtraRowsWin) {
  EXPECT_EQ(AccessFor("GET", "/v1/jobs/{id}"), RouteAccess::kJobRead);
  EXPECT_EQ(AccessFor("GET", "/healthz"), RouteAccess::kProbe);
  EXPECT_EQ(AccessFor("GET", "/some/new/route"), RouteAccess::kAdmin);
  const std::vector<RouteAccessRule> extra = {
      {"GET", "/compat/api/v1/books/jobs/{job_id}", RouteAccess::kSelf}};
  EXPECT_EQ(AccessFor("GET", "/compat/api/v1/books/jobs/{job_id}", extra), RouteAccess::kSelf);
  EXPECT_EQ(AccessFor("POST", "/compat/api/v1/books/jobs/{job_id}", extra), RouteAccess::kAdmin);
  // One job's reads are polls of {id}; creations have their own budget.
  EXPECT_EQ(PolicyFor("GET", "/v1/jobs/{id}/result").rate, RateClass::kPoll);
  EXPECT_EQ(PolicyFor("GET", "/v1/jobs/{id}/result").job_param, "id");
  EXPECT_EQ(PolicyFor("POST", "/v1/jobs").rate, RateClass::kCreate);
  EXPECT_EQ(PolicyFor("GET", "/v1/jobs").rate, RateClass::kGeneral);
  const std::vector<RouteAccessRule> polled = {
      {"GET", "/x/{jobId}", RouteAccess::kPublic, RateClass::kPoll, "jobId"}};
  EXPECT_EQ(PolicyFor("GET", "/x/{jobId}", polled).job_param, "jobId");
}

TEST(Authenticator, InsecureModeIsAdminAndNoCredentialsIsMissing) {
  ManualClock clock(kNow);
  AuthOptions insecure;
  insecure.insecure_no_auth = true;
  auto a = Authenticator::Create(insecure, clock);
  ASSERT_TRUE(a);
  HttpRequest r;
  auto p = a.value()->Authenticate(r);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p.value().admin());

  auto secure = Authenticator::Create(AuthOptions{}, clock);
  ASSERT_TRUE(secure);
  auto none = secure.value()->Authenticate(r);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().error.reason, "MISSING_CREDENTIALS");
  r.header = [](std::string_view name) -> std::optional<std::string> {
    if (name == "Authorization") return "Basic dXNlcjpwYXNz";
    return std::nullopt;
  };
  auto basic = secure.value()->Authenticate(r);
  ASSERT_FALSE(basic);
  EXPECT_EQ(basic.error().error.reason, "INVALID_CREDENTIALS");
}

// The mark that keeps Pistache's header timer off a request being answered
// belongs to that request. The answer's bytes leave before its WorkPool
// thread ends the mark, so the client's next request on the connection may
// already be handed over and marked: ending the earlier answer must leave
// that mark alone (cleared, a write of the next request that took seconds,
// as in a failover, got a bare 408).
TEST(AnsweringMarkTest, EndingAnEarlierAnswerLeavesTheNextRequestsMark) {
  GuardedRequestParser parser(ParserLimits{.max_request_bytes = 4096, .max_body_bytes = 1024,
                                           .max_header_lines = 100, .max_header_bytes = 4096});
  constexpr auto kRequestLine = Pistache::Http::Private::RequestLineStep::Id;
  ASSERT_EQ(parser.step()->id(), kRequestLine);  // Pistache's header timeout applies
  const uint64_t first = parser.BeginAnswering();
  EXPECT_NE(parser.step()->id(), kRequestLine);
  const uint64_t next = parser.BeginAnswering();  // the next request, handed over
  parser.EndAnswering(first);                     // the first answer's thread, late
  EXPECT_NE(parser.step()->id(), kRequestLine);
  parser.EndAnswering(next);
  EXPECT_EQ(parser.step()->id(), kRequestLine);
  parser.EndAnswering(next);  // a second end (a channel's) changes nothing
  EXPECT_EQ(parser.step()->id(), kRequestLine);
}

}  // namespace
}  // namespace jobtrail::http
