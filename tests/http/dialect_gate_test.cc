// The request gate's own refusals (401, 403, 429) on a seed dialect's routes
// are written in that seed's error body, as the seed's clients expect; the
// X-RateLimit-* and Retry-After headers stay. (Seed 002's are in
// dialect_generation_002_test.cc.)
#include <gtest/gtest.h>

#include "tests/http/dialect_test_util.h"
#include "tests/http/secure_fixture.h"

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
  EXPECT_EQ(client_->Get("/api/jobs").status, 200);
  HttpResult limited = client_->Get("/api/jobs");
  EXPECT_EQ(limited.status, 429) << limited.body;
  ExpectMatchesSeed(limited.body, R"({"success":false,"message":"<string>"})");
  EXPECT_EQ(limited.Header("Retry-After"), "60");
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

TEST_F(DialectGateTest, Seed004AnswersPollLimitsInItsEnvelope) {
  HttpResult r = client_->Post("/v1/jobs", R"({"type":"flickr.test.echo","owner":"alice"})",
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
