// Rate limits over HTTP: token buckets per principal, per client address and
// per polled job, X-RateLimit-* headers, 429 with Retry-After; time moves
// with the store's manual clock.
#include <gtest/gtest.h>

#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

class RateLimitTest : public SecureServerTest {
 protected:
  void SetUp() override {
    SecureServerTest::SetUp();
    auto& rates = options_.security.rates;
    rates.enabled = true;
    rates.reader = {3, 60'000};
    rates.address = {2, 60'000};
    rates.poll = {1, 1000};
    rates.worker = {1000, 60'000};
    Start();
  }
};

TEST_F(RateLimitTest, ReaderBucketRunsOutAndRefillsWithTheClock) {
  for (int i = 0; i < 3; ++i) {
    HttpResult r = client_->Get("/v1/jobs", Bearer(alice_key_));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("X-RateLimit-Limit"), "3");
    EXPECT_EQ(r.Header("X-RateLimit-Remaining"), std::to_string(2 - i));
    EXPECT_FALSE(r.Header("X-RateLimit-Reset").empty());
  }
  HttpResult limited = client_->Get("/v1/jobs", Bearer(alice_key_));
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(limited.ErrorCode(), "RATE_LIMITED");
  EXPECT_EQ(limited.Header("Retry-After"), "20");
  EXPECT_EQ(limited.Header("X-RateLimit-Remaining"), "0");
  // Bob has his own bucket.
  EXPECT_EQ(client_->Get("/v1/jobs", Bearer(bob_key_)).status, 200);
  clock_.Advance(20'000);
  EXPECT_EQ(client_->Get("/v1/jobs", Bearer(alice_key_)).status, 200);
}

TEST_F(RateLimitTest, UnauthenticatedCallsAreLimitedPerAddress) {
  EXPECT_EQ(client_->Get("/v1/jobs").status, 401);
  EXPECT_EQ(client_->Get("/v1/jobs", Bearer("jt_wrong")).status, 401);
  HttpResult limited = client_->Get("/v1/jobs");
  EXPECT_EQ(limited.status, 429);
  EXPECT_FALSE(limited.Header("Retry-After").empty());
  // Authenticated callers do not share it, and probes are never limited.
  EXPECT_EQ(client_->Get("/v1/jobs", Bearer(alice_key_)).status, 200);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(client_->Get("/healthz").status, 200);
}

TEST_F(RateLimitTest, StatusPollsAreLimitedPerJob) {
  const std::string a1 = EnqueueFor("alice");
  const std::string a2 = EnqueueFor("alice");
  EXPECT_EQ(client_->Get("/v1/jobs/" + a1, Bearer(alice_key_)).status, 200);
  HttpResult again = client_->Get("/v1/jobs/" + a1, Bearer(alice_key_));
  EXPECT_EQ(again.status, 429);
  EXPECT_EQ(again.Header("Retry-After"), "1");
  EXPECT_EQ(client_->Get("/v1/jobs/" + a2, Bearer(alice_key_)).status, 200);
  // Polls do not use up the general budget of 3.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(client_->Get("/v1/jobs", Bearer(alice_key_)).status, 200);
  clock_.Advance(1000);
  EXPECT_EQ(client_->Get("/v1/jobs/" + a1, Bearer(alice_key_)).status, 200);
}

TEST_F(RateLimitTest, WorkersAndAdminsHaveTheirOwnGenerousBuckets) {
  for (int i = 0; i < 20; ++i) {
    HttpResult w = client_->Get("/v1/jobs", Bearer(worker_key_));
    ASSERT_EQ(w.status, 200);
    EXPECT_EQ(w.Header("X-RateLimit-Limit"), "1000");
    ASSERT_EQ(client_->Get("/v1/stats", Bearer(admin_key_)).status, 200);
  }
}

// Issue 11, item 4: the ways around the budgets.
class RateLimitBypassTest : public SecureServerTest {
 protected:
  void SetUp() override {
    SecureServerTest::SetUp();
    auto& rates = options_.security.rates;
    rates.enabled = true;
    rates.address = {100, 60'000};
    rates.reader_create = {1, 3'600'000};
    rates.public_reads = {3, 60'000};
    Start();
  }
};

TEST_F(RateLimitBypassTest, AMadeUpTokenIsChargedTheAnonymousCreationBudget) {
  // Without valid credentials a start costs the address's creation budget
  // whatever the answer: a bogus token buys no more attempts than none.
  EXPECT_EQ(client_->Post("/v1/jobs", R"({"type":"t"})", Bearer("jt_made_up")).status, 401);
  HttpResult again = client_->Post("/v1/jobs", R"({"type":"t"})", Bearer("jt_other"));
  EXPECT_EQ(again.status, 429) << again.body;
  EXPECT_EQ(again.Header("X-RateLimit-Limit"), "1");
  // The budget is the address's: a valid worker is not charged it.
  EXPECT_EQ(client_->Get("/v1/jobs", Bearer(worker_key_)).status, 200);
}

TEST_F(RateLimitBypassTest, AReaderPollingEverNewJobIdsHitsACeiling) {
  // Each id has its own poll bucket; the reader's ceiling covers them all.
  for (int i = 0; i < 3; ++i) {
    HttpResult miss = client_->Get("/v1/jobs/job_missing" + std::to_string(i), Bearer(alice_key_));
    EXPECT_EQ(miss.status, 404) << miss.body;
  }
  HttpResult limited = client_->Get("/v1/jobs/job_missing3", Bearer(alice_key_));
  EXPECT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(limited.Header("X-RateLimit-Limit"), "3");
  // Bob's ceiling is his own.
  EXPECT_EQ(client_->Get("/v1/jobs/job_missing3", Bearer(bob_key_)).status, 404);
}

// Behind a trusted reverse proxy, each client has its own address bucket.
class ProxiedRateLimitTest : public SecureServerTest {
 protected:
  void SetUp() override {
    SecureServerTest::SetUp();
    options_.security.rates.enabled = true;
    options_.security.rates.address = {1, 60'000};
    options_.security.trusted_proxies = {"127.0.0.0/8"};
    Start();
  }
};

TEST_F(ProxiedRateLimitTest, ForwardedClientsHaveTheirOwnBuckets) {
  auto from = [&](const std::string& forwarded) {
    return client_->Get("/v1/jobs", {"X-Forwarded-For: " + forwarded});
  };
  EXPECT_EQ(from("198.51.100.7").status, 401);
  EXPECT_EQ(from("198.51.100.7").status, 429);  // that client's one call is spent
  EXPECT_EQ(from("203.0.113.9").status, 401);   // another client is not
  // A client naming another address in its own header does not escape:
  // the proxy appended its real one.
  EXPECT_EQ(from("203.0.113.50, 198.51.100.7").status, 429);
}

TEST_F(ProxiedRateLimitTest, EveryForwardedForLineOfTheRequestCounts) {
  // RFC 9110 5.3: two X-Forwarded-For lines are one list. A client that sends
  // its own line first and lets the proxy add a second must be charged as the
  // address the proxy appended last, not as the one it chose.
  auto lines = [&](const std::string& first, const std::string& second) {
    return client_->Get("/v1/jobs", {"X-Forwarded-For: " + first, "X-Forwarded-For: " + second});
  };
  EXPECT_EQ(lines("203.0.113.77", "198.51.100.8").status, 401);
  EXPECT_EQ(lines("203.0.113.78", "198.51.100.8").status, 429);  // 198.51.100.8 is spent
  EXPECT_EQ(client_->Get("/v1/jobs", {"X-Forwarded-For: 203.0.113.79"}).status, 401);
}

TEST(ProxiedServerOptions, ABadProxySpecStopsTheServerFromStarting) {
  JobStoreOptions store_options;
  store_options.data_dir = MakeHttpTempDir("jobtrail-proxy");
  std::shared_ptr<void> log_resource;  // on another event log (TestLog): its database
  if (TestLog()) TestLog()(store_options, log_resource);
  auto store = JobStore::Open(store_options);
  ASSERT_TRUE(store);
  http::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.security.auth.insecure_no_auth = true;
  options.security.trusted_proxies = {"10.0.0.0/99"};
  auto server = http::HttpServer::Start(*store.value(), options);
  ASSERT_FALSE(server);
  EXPECT_EQ(server.error().code, Code::kInvalidArgument);
  store.value().reset();
  std::filesystem::remove_all(store_options.data_dir);
}

}  // namespace
}  // namespace jobtrail::testing
