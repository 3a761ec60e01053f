// Seed 002 with authentication on: who may start and poll (by default
// credentials; --public-dialect 002 opens starts of the kinds without a
// user and status polls), its rate limits and the cron webhook's
// providers, all answered in the seed's error body.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fmt/format.h>

#include "tests/http/dialects/generation_002_bodies.h"
#include "tests/http/dialects/test_util.h"
#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

class Generation002SecureTest : public SecureServerTest {
 protected:
  void SetUp() override {
    SecureServerTest::SetUp();
    options_.security.webhook_secret = "cron-s3cret";
    options_.security.rates.enabled = true;
    options_.security.rates.address = {2, 60'000};
    Start();
  }
  // Opens seed 002's unauthenticated routes, as --public-dialect 002 does.
  void MakePublic() {
    options_.dialects.public_dialects = {"002"};
    Stop();
    Start();
  }
  HttpResult StartScenes(const std::vector<std::string>& headers = {}) {
    return client_->Post("/api/jobs/scenes/start",
                         std::string(R"({"story":")") + kStory + R"(","audience":"adults"})",
                         headers);
  }
  // A 429 in the seed's shape, its retryAfter the Retry-After header.
  static void ExpectSeedRateLimited(const HttpResult& r) {
    EXPECT_EQ(r.status, 429) << r.body;
    ExpectMatchesSeed(r.body,
                      R"({"error":"<string>","code":"RATE_LIMIT_EXCEEDED","retryAfter":"<number>"})");
    auto doc = r.Json();
    ASSERT_TRUE(doc.IsObject() && doc.HasMember("retryAfter")) << r.body;
    EXPECT_EQ(std::to_string(doc["retryAfter"].GetInt64()), r.Header("Retry-After"));
    EXPECT_EQ(r.Header("X-RateLimit-Remaining"), "0");
  }
};

TEST_F(Generation002SecureTest, StorybookNeedsAUserWhoOwnsTheJob) {
  HttpResult anonymous = client_->Post("/api/jobs/storybook/start", kStorybookBody);
  EXPECT_EQ(anonymous.status, 401);
  ExpectMatchesSeed(anonymous.body,
                    R"({"error":"Missing or invalid authentication","code":"UNAUTHORIZED"})");
  HttpResult r = client_->Post("/api/jobs/storybook/start", kStorybookBody,
                               Bearer(Jwt("alice")));
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string id = r.Json()["jobId"].GetString();
  auto job = client_->Get("/v1/jobs/" + id, Bearer(admin_key_)).Json();
  EXPECT_STREQ(job["owner"].GetString(), "alice");
  // Scenes take a user if one is given; without one, only where the
  // operator opened the seed (--public-dialect 002).
  HttpResult closed = StartScenes();
  EXPECT_EQ(closed.status, 401) << closed.body;
  ExpectMatchesSeed(closed.body,
                    R"({"error":"Missing or invalid authentication","code":"UNAUTHORIZED"})");
  MakePublic();
  EXPECT_EQ(StartScenes().status, 200);
  EXPECT_EQ(client_->Post("/api/jobs/storybook/start", kStorybookBody).status, 401);
}

TEST_F(Generation002SecureTest, PublicRoutesCarryRateLimitHeadersAnd429) {
  MakePublic();
  for (int i = 0; i < 2; ++i) {
    HttpResult r = StartScenes();
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("X-RateLimit-Limit"), "2");
    EXPECT_EQ(r.Header("X-RateLimit-Remaining"), std::to_string(1 - i));
    EXPECT_FALSE(r.Header("X-RateLimit-Reset").empty());
  }
  HttpResult limited = StartScenes();
  ExpectSeedRateLimited(limited);
  EXPECT_EQ(limited.Header("Retry-After"), "30");
}

TEST_F(Generation002SecureTest, EachUserMayCreateFiveJobsAnHour) {
  for (int i = 0; i < 5; ++i) {
    HttpResult r = StartScenes(Bearer(Jwt("alice")));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("X-RateLimit-Limit"), "5");
    EXPECT_EQ(r.Header("X-RateLimit-Remaining"), std::to_string(4 - i));
  }
  HttpResult sixth = StartScenes(Bearer(Jwt("alice")));
  ExpectSeedRateLimited(sixth);
  EXPECT_EQ(sixth.Header("Retry-After"), "720");  // one creation back every 12 minutes
  // The refused start changed nothing: alice owns exactly five jobs.
  auto list = client_->Get("/v1/jobs?limit=100", Bearer(alice_key_)).Json();
  EXPECT_EQ(list["items"].Size(), 5u);
  // Bob has his own budget; alice gets one creation back after 12 minutes.
  EXPECT_EQ(StartScenes(Bearer(Jwt("bob"))).status, 200);
  clock_.Advance(720'000);
  EXPECT_EQ(StartScenes(Bearer(Jwt("alice"))).status, 200);
  ExpectSeedRateLimited(StartScenes(Bearer(Jwt("alice"))));
}

TEST_F(Generation002SecureTest, AnonymousCreationsAreBudgetedPerAddress) {
  // Scenes need no user; anonymous starts share the address's budget of 5.
  options_.security.rates.address = {100, 60'000};
  MakePublic();
  for (int i = 0; i < 5; ++i) ASSERT_EQ(StartScenes().status, 200);
  ExpectSeedRateLimited(StartScenes());
}

TEST_F(Generation002SecureTest, StatusPollsAreLimitedPerJobNotByTheAddressBudget) {
  MakePublic();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    HttpResult r = StartScenes(Bearer(Jwt("alice")));
    ASSERT_EQ(r.status, 200) << r.body;
    ids.push_back(r.Json()["jobId"].GetString());
  }
  // Three jobs polled anonymously: more calls than the address budget of 2.
  for (const std::string& id : ids) {
    HttpResult r = client_->Get("/api/jobs/scenes/status/" + id);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("X-RateLimit-Limit"), "1");
  }
  // The seed's "1 request per second per job".
  ExpectSeedRateLimited(client_->Get("/api/jobs/scenes/status/" + ids[0]));
  clock_.Advance(1000);
  EXPECT_EQ(client_->Get("/api/jobs/scenes/status/" + ids[0]).status, 200);
}

TEST_F(Generation002SecureTest, CronWebhookHasTheSeedsWebhookLimits) {
  const std::vector<std::string> secret = {"x-webhook-secret: cron-s3cret"};
  auto call = [&] { return client_->Post("/api/cron/process-jobs", "{}", secret); };
  for (int i = 0; i < 3; ++i) ASSERT_EQ(call().status, 200);
  // Burst: 3 per 10 seconds.
  HttpResult burst = call();
  ExpectSeedRateLimited(burst);
  EXPECT_EQ(burst.Header("X-RateLimit-Limit"), "3");
  // 10 per minute: three calls every 10 s run out of it within the minute
  // (each refused call costs a token too).
  int accepted = 0;
  HttpResult refused;
  for (int step = 0; step < 6 && refused.status != 429; ++step) {
    clock_.Advance(10'000);
    for (int k = 0; k < 3; ++k) {
      HttpResult r = call();
      if (r.status == 429) {
        refused = r;
        break;
      }
      ASSERT_EQ(r.status, 200) << r.body;
      ++accepted;
    }
  }
  ExpectSeedRateLimited(refused);
  EXPECT_EQ(refused.Header("X-RateLimit-Limit"), "10");
  // 6 tokens left after the burst and 1 2/3 back every 10 s: 14 calls fit.
  EXPECT_EQ(accepted, 14);
}

TEST_F(Generation002SecureTest, CronAcceptsTheProvidersOwnHeaders) {
  EXPECT_EQ(client_->Post("/api/cron/process-jobs", "{}", {"x-github-token: cron-s3cret"}).status,
            200);
  EXPECT_EQ(client_->Post("/api/cron/process-jobs", "{}", {"x-github-token: nope"}).status, 401);
  // Vercel signs the body: hex HMAC-SHA1 under the shared secret.
  const std::string body = R"({"healthCheck":true})";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), "cron-s3cret", 11, reinterpret_cast<const unsigned char*>(body.data()),
       body.size(), mac, &len);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", mac[i]);
  HttpResult signed_call =
      client_->Post("/api/cron/process-jobs", body, {"x-vercel-signature: " + hex});
  ASSERT_EQ(signed_call.status, 200) << signed_call.body;
  EXPECT_STREQ(signed_call.Json()["provider"].GetString(), "vercel");
  EXPECT_EQ(client_->Post("/api/cron/process-jobs", body + " ", {"x-vercel-signature: " + hex})
                .status,
            401);
}

TEST_F(Generation002SecureTest, WebhookLimitsArePerProvider) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(client_->Post("/api/cron/process-jobs", "{}", {"x-github-token: cron-s3cret"}).status,
              200);
  }
  EXPECT_EQ(client_->Post("/api/cron/process-jobs", "{}", {"x-github-token: cron-s3cret"}).status,
            429);
  // Another scheduler calling from the same address has its own budget.
  EXPECT_EQ(client_->Post("/api/cron/process-jobs", "{}", {"x-webhook-secret: cron-s3cret"}).status,
            200);
}

TEST_F(Generation002SecureTest, TheGatesRefusalsAreInTheSeedsErrorBody) {
  HttpResult anonymous = client_->Post("/api/jobs/process", "{}");
  EXPECT_EQ(anonymous.status, 401);
  ExpectMatchesSeed(anonymous.body, R"({"error":"<string>","code":"UNAUTHORIZED"})");
  EXPECT_FALSE(anonymous.Header("WWW-Authenticate").empty());
  HttpResult reader = client_->Get("/api/jobs/process", Bearer(alice_key_));
  EXPECT_EQ(reader.status, 403);
  ExpectMatchesSeed(reader.body, R"({"error":"<string>","code":"FORBIDDEN"})");
  EXPECT_EQ(client_->Get("/api/jobs/process", Bearer(admin_key_)).status, 200);
}

}  // namespace
}  // namespace jobtrail::testing
