// The request gate's own refusals (401, 403, 429) on a seed dialect's routes
// are written in that seed's error body, as the seed's clients expect; the
// X-RateLimit-* and Retry-After headers stay. (Seed 002's are in
// dialect_generation_002_test.cc.)
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "tests/http/dialects/test_util.h"
#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

class DialectGateTest : public SecureServerTest {
 protected:
  void SetUp() override {
    SecureServerTest::SetUp();
    auto& rates = options_.security.rates;
    rates.enabled = true;
    rates.address = {1, 60'000};
    rates.poll = {1, 1000};
    // The anonymous budgets below apply where an operator opened the seeds'
    // unauthenticated routes (by default they need credentials).
    options_.dialects.public_dialects = {"000", "001", "002", "004"};
    Start();
  }
  static void ExpectLimited(const HttpResult& r, const std::string& seed_body) {
    EXPECT_EQ(r.status, 429) << r.body;
    ExpectMatchesSeed(r.body, seed_body);
    EXPECT_EQ(r.Header("Retry-After"), "1");
    EXPECT_EQ(r.Header("X-RateLimit-Remaining"), "0");
  }
};

TEST_F(DialectGateTest, Seed000AnswersLimitsInItsBody) {
  const std::string path = "/api/job-status/507f1f77bcf86cd799439011";
  EXPECT_EQ(client_->Get(path).status, 404);  // no such captcha yet
  ExpectLimited(client_->Get(path), R"({"success":false,"message":"<string>"})");
}

TEST_F(DialectGateTest, DashboardsOf000And001HaveTheirOwnLargerBudget) {
  // 001's own advice: status every 15 s, runs every 30 s, from a few tabs.
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(client_->Get("/v1/jobs/status").status, 200) << i;
    ASSERT_EQ(client_->Get("/v1/jobs/runs").status, 200) << i;
    ASSERT_EQ(client_->Get("/api/jobs/stats").status, 200) << i;
  }
  HttpResult r = client_->Get("/api/jobs");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("X-RateLimit-Limit"), "1000");
  EXPECT_EQ(r.Header("X-RateLimit-Remaining"), "939");
}

TEST_F(DialectGateTest, AnonymousPollsOfEverNewJobsHitTheAddressCeiling) {
  options_.security.rates.public_reads = {3, 60'000};
  Stop();
  Start();
  auto poll = [&](int n) {
    return client_->Get(fmt::format("/api/jobs/scenes/status/00000000-0000-4000-8000-{:012}", n));
  };
  for (int i = 0; i < 3; ++i) EXPECT_EQ(poll(i).status, 404) << i;  // unknown, but answered
  HttpResult limited = poll(3);
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(limited.Header("X-RateLimit-Limit"), "3");
  clock_.Advance(20'000);  // one poll back
  EXPECT_EQ(poll(4).status, 404);
}

TEST_F(DialectGateTest, Seed001AnswersAuthorizationInItsTriggerBody) {
  const std::string shape = R"({"timestamp":"<string>","success":false,"error":"<string>"})";
  HttpResult anonymous = client_->Post("/v1/jobs/trigger/ExpireServers", "");
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
  ExpectMatchesSeed(anonymous.body, shape);
  EXPECT_EQ(anonymous.Json()["timestamp"].GetString(), std::string("2024-01-15T10:30:00.000Z"));
  HttpResult reader = client_->Post("/v1/jobs/trigger/ExpireServers", "", Bearer(alice_key_));
  EXPECT_EQ(reader.status, 403) << reader.body;
  ExpectMatchesSeed(reader.body, shape);
}

TEST_F(DialectGateTest, Seed003AnswersPollLimitsInItsDetailBody) {
  HttpResult r = client_->Post("/v1/jobs", R"({"type":"pdf_chapter","owner":"alice"})",
                               Bearer(admin_key_));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string path = std::string("/api/v1/books/jobs/") + r.Json()["job_id"].GetString();
  EXPECT_EQ(client_->Get(path, Bearer(Jwt("alice"))).status, 200);
  ExpectLimited(client_->Get(path, Bearer(Jwt("alice"))), R"({"detail":"<string>"})");
  clock_.Advance(1000);
  EXPECT_EQ(client_->Get(path, Bearer(Jwt("alice"))).status, 200);
}

TEST_F(DialectGateTest, Seed004BodyPollsAreLimitedPerJob) {
  auto enqueue = [&] {
    HttpResult r = client_->Post("/v1/jobs", R"({"type":"flickr.test.echo","queue":"flickr_rest","owner":"u1"})",
                                 Bearer(admin_key_));
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(r.Json()["job_id"].GetString());
  };
  const std::string a = enqueue(), b = enqueue();
  auto poll = [&](const std::string& id) {
    return client_->Post("/api/v1/flickr/jobs/status",
                         R"({"job_id":")" + id + R"(","user_id":"u1"})");
  };
  // More calls than the address budget (1), each job once a second.
  EXPECT_EQ(poll(a).status, 200);
  EXPECT_EQ(poll(b).status, 200);
  HttpResult again = poll(a);
  EXPECT_EQ(again.status, 429) << again.body;
  EXPECT_EQ(again.Json()["error"]["code"].GetString(), std::string("ERR_RATE_LIMITED"));
  clock_.Advance(1000);
  EXPECT_EQ(poll(a).status, 200);
}

TEST_F(DialectGateTest, Seed004AnswersPollLimitsInItsEnvelope) {
  HttpResult r = client_->Post("/v1/jobs", R"({"type":"flickr.test.echo","queue":"flickr_rest","owner":"alice"})",
                               Bearer(admin_key_));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string path = std::string("/api/v1/flickr/jobs/") + r.Json()["job_id"].GetString();
  EXPECT_EQ(client_->Get(path, Bearer(alice_key_)).status, 200);
  HttpResult limited = client_->Get(path, {"Authorization: Bearer " + alice_key_,
                                           "X-Request-Id: req-limited"});
  ExpectLimited(limited, R"({"request_id":"req-limited","data":null,
    "error":{"code":"ERR_RATE_LIMITED","message":"rate_limited"}})");
}

}  // namespace
}  // namespace jobtrail::testing
