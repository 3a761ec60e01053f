// Webhooks against a real server (127.0.0.1:0, temp data dir) and a real
// receiver on loopback: signed deliveries, retries with backoff on a manual
// clock (no sleeping), attempts in the job's history and in the
// subscription's deliveries, restarts that resume pending deliveries.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <set>
#include <string>
#include <vector>

#include "tests/http/webhooks/webhook_fixture.h"

namespace jobtrail::testing {
namespace {

// A server without authentication (every request is an admin's) on a
// manual clock; started by each test (StartAll) so that it can set options.
// How the dispatcher learns of events: the store's tap (as serve runs it),
// the log only, or a tap so small that it keeps falling behind (and the
// dispatcher back to the log).
enum class Source { kTap, kLogOnly, kTinyTap };

class PlainServer : public LiveServerTest, public ::testing::WithParamInterface<Source> {
 protected:
  void SetUp() override {
    dir_ = MakeHttpTempDir("jobtrail-webhooks");
    manual_clock_ = true;
    options_.host = "127.0.0.1";
    options_.port = 0;
    options_.threads = 2;
    options_.access_log = false;
    options_.security.auth.insecure_no_auth = true;
  }
};

class WebhookDeliveryTest : public WithWebhooks<PlainServer> {
 protected:
  void SetUp() override {
    WithWebhooks<PlainServer>::SetUp();
    use_tap_ = GetParam() != Source::kLogOnly;
    if (GetParam() == Source::kTinyTap) tap_capacity_ = 1;
  }
  std::string Enqueue(const std::string& body) {
    HttpResult r = client_->Post("/v1/jobs", body);
    EXPECT_EQ(r.status, 201) << r.body;
    auto doc = r.Json();
    return doc.HasParseError() || !doc.HasMember("job_id") ? "" : doc["job_id"].GetString();
  }
  void Post(const std::string& job, const std::string& event) {
    HttpResult r = client_->Post("/v1/jobs/" + job + "/events", event);
    ASSERT_EQ(r.status, 200) << event << " -> " << r.body;
  }
  void Complete(const std::string& job) {
    Post(job, R"({"type":"started","data":{"worker_id":"w1"}})");
    Post(job, R"({"type":"completed","data":{"result":{"ok":true}}})");
  }
  // POST /v1/webhooks; the created subscription's document (with secret).
  rapidjson::Document Subscribe(const std::string& body) {
    HttpResult r = client_->Post("/v1/webhooks", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json();
  }
  // The job's webhook_attempted events' data, in order.
  std::vector<rapidjson::Document> Attempts(const std::string& job) {
    HttpResult r = client_->Get("/v1/jobs/" + job + "/events?limit=1000");
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<rapidjson::Document> out;
    auto doc = r.Json();
    for (const auto& e : doc["events"].GetArray()) {
      if (std::string(e["type"].GetString()) != "webhook_attempted") continue;
      rapidjson::Document d;
      d.CopyFrom(e["data"], d.GetAllocator());
      out.push_back(std::move(d));
    }
    return out;
  }
  std::string CallbackSecret(const std::string& owner) {
    HttpResult r = client_->Get("/v1/webhooks/callback-secret?owner=" + owner);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json()["secret"].GetString();
  }
};

TEST_P(WebhookDeliveryTest, CallbackUrlGetsOneSignedDeliveryOfTheFinalState) {
  StartAll();
  const std::string job = Enqueue(R"({"type":"report","owner":"alice","callback_url":")" +
                                  listener_.url("/done?k=1") + R"("})");
  Complete(job);
  ASSERT_TRUE(WaitForAttempts(1));
  ASSERT_TRUE(listener_.WaitForPosts(1));
  const std::vector<ReceivedPost> posts = listener_.posts();
  ASSERT_EQ(posts.size(), 1u);  // started is no final state: one delivery
  const ReceivedPost& post = posts[0];
  EXPECT_EQ(post.method, "POST");
  EXPECT_EQ(post.path, "/done");
  EXPECT_TRUE(SignatureValid(post, CallbackSecret("alice"))) << post.Header("X-Jobtrail-Signature");
  EXPECT_FALSE(SignatureValid(post, CallbackSecret("bob")));
  // The timestamp is the store's clock, in seconds.
  EXPECT_EQ(post.Header("X-Jobtrail-Signature").rfind("t=" + std::to_string(clock_.Now() / 1000) + ",", 0), 0u);
  EXPECT_EQ(post.Header("X-Jobtrail-Event"), "completed");
  EXPECT_EQ(post.Header("X-Jobtrail-Attempt"), "1");
  EXPECT_EQ(post.Header("X-Jobtrail-Webhook"), "callback");
  const std::string delivery = post.Header("X-Jobtrail-Delivery");
  EXPECT_EQ(delivery.size(), 36u);

  rapidjson::Document body;
  body.Parse(post.body.c_str());
  ASSERT_FALSE(body.HasParseError()) << post.body;
  EXPECT_EQ(std::string(body["delivery_id"].GetString()), delivery);
  EXPECT_TRUE(body["webhook_id"].IsNull());
  EXPECT_EQ(std::string(body["event"]["type"].GetString()), "completed");
  EXPECT_EQ(std::string(body["event"]["job_id"].GetString()), job);
  EXPECT_EQ(std::string(body["job"]["status"].GetString()), "completed");
  EXPECT_EQ(body["job"]["version"].GetUint64(), 3u);  // as of the event
  EXPECT_TRUE(body["job"]["result"]["ok"].GetBool());

  // The attempt is in the job's history, changing nothing but the version.
  const auto attempts = Attempts(job);
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_EQ(std::string(attempts[0]["delivery_id"].GetString()), delivery);
  EXPECT_TRUE(attempts[0]["webhook_id"].IsNull());
  EXPECT_EQ(attempts[0]["event_version"].GetUint64(), 3u);
  EXPECT_EQ(std::string(attempts[0]["event_type"].GetString()), "completed");
  EXPECT_EQ(attempts[0]["attempt"].GetInt(), 1);
  EXPECT_EQ(attempts[0]["status_code"].GetInt(), 200);
  EXPECT_TRUE(attempts[0]["error"].IsNull());
  EXPECT_EQ(std::string(attempts[0]["outcome"].GetString()), "delivered");
  HttpResult status = client_->Get("/v1/jobs/" + job);
  EXPECT_EQ(std::string(status.Json()["status"].GetString()), "completed");
  EXPECT_EQ(status.Json()["version"].GetUint64(), 4u);
}

TEST_P(WebhookDeliveryTest, AReceiverThatFailsTwiceGetsTheThirdAttempt) {
  StartAll();
  listener_.Script({500, 503});
  auto sub = Subscribe(R"({"url":")" + listener_.url() +
                       R"(","secret":"0123456789abcdef-secret","types":["report"]})");
  const std::string id = sub["id"].GetString();
  EXPECT_EQ(std::string(sub["secret"].GetString()), "0123456789abcdef-secret");
  const std::string job = Enqueue(R"({"type":"report"})");
  Complete(job);

  ASSERT_TRUE(WaitForAttempts(1));
  // Backoff: nothing more until the clock has moved by it.
  EXPECT_EQ(listener_.posts().size(), 1u);
  Advance(1000);
  ASSERT_TRUE(WaitForAttempts(2));
  Advance(1000);
  ASSERT_TRUE(WaitForAttempts(3));
  ASSERT_TRUE(listener_.WaitForPosts(3));

  const std::vector<ReceivedPost> posts = listener_.posts();
  ASSERT_EQ(posts.size(), 3u);
  for (size_t i = 0; i < posts.size(); ++i) {
    EXPECT_TRUE(SignatureValid(posts[i], "0123456789abcdef-secret")) << i;
    EXPECT_EQ(posts[i].Header("X-Jobtrail-Attempt"), std::to_string(i + 1));
    EXPECT_EQ(posts[i].Header("X-Jobtrail-Delivery"), posts[0].Header("X-Jobtrail-Delivery"));
    EXPECT_EQ(posts[i].Header("X-Jobtrail-Webhook"), id);
    EXPECT_EQ(posts[i].body, posts[0].body);  // the same bytes every time
  }
  EXPECT_EQ(posts[2].answered, 200);

  const auto attempts = Attempts(job);
  ASSERT_EQ(attempts.size(), 3u);
  const char* outcomes[] = {"retrying", "retrying", "delivered"};
  const int codes[] = {500, 503, 200};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(attempts[i]["attempt"].GetInt(), int(i + 1));
    EXPECT_EQ(std::string(attempts[i]["outcome"].GetString()), outcomes[i]);
    EXPECT_EQ(attempts[i]["status_code"].GetInt(), codes[i]);
    EXPECT_EQ(std::string(attempts[i]["webhook_id"].GetString()), id);
  }
  EXPECT_EQ(std::string(attempts[0]["error"].GetString()), "HTTP 500");
  EXPECT_FALSE(attempts[0]["next_attempt_at"].IsNull());

  // The subscription's deliveries: the same attempts, newest first, paged.
  HttpResult r = client_->Get("/v1/webhooks/" + id + "/deliveries?limit=2");
  ASSERT_EQ(r.status, 200) << r.body;
  auto page = r.Json();
  ASSERT_EQ(page["attempts"].Size(), 2u);
  EXPECT_EQ(page["attempts"][0]["attempt"].GetInt(), 3);
  EXPECT_EQ(page["attempts"][1]["attempt"].GetInt(), 2);
  EXPECT_EQ(std::string(page["attempts"][0]["job_id"].GetString()), job);
  EXPECT_TRUE(page["has_more"].GetBool());
  r = client_->Get("/v1/webhooks/" + id + "/deliveries?limit=2&before=" +
                   std::to_string(page["next_before"].GetUint64()));
  ASSERT_EQ(r.status, 200) << r.body;
  page = r.Json();
  ASSERT_EQ(page["attempts"].Size(), 1u);
  EXPECT_EQ(page["attempts"][0]["attempt"].GetInt(), 1);
  EXPECT_EQ(std::string(page["attempts"][0]["outcome"].GetString()), "retrying");
  EXPECT_FALSE(page["has_more"].GetBool());
}

TEST_P(WebhookDeliveryTest, APendingDeliveryResumesAfterARestart) {
  StartAll();
  listener_.Script({500});
  auto sub = Subscribe(R"({"url":")" + listener_.url() + R"("})");
  const std::string secret = sub["secret"].GetString();
  EXPECT_EQ(secret.rfind("whsec_", 0), 0u);  // generated, shown once
  const std::string job = Enqueue(R"({"type":"report"})");
  Complete(job);
  ASSERT_TRUE(WaitForAttempts(1));  // failed; the next one is due in 1 s

  StopAll();
  StartAll();  // nothing in memory survives: the log says what is pending
  EXPECT_EQ(listener_.posts().size(), 1u);
  Advance(1000);
  ASSERT_TRUE(WaitForAttempts(1));
  ASSERT_TRUE(listener_.WaitForPosts(2));
  const std::vector<ReceivedPost> posts = listener_.posts();
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[1].Header("X-Jobtrail-Attempt"), "2");
  EXPECT_EQ(posts[1].Header("X-Jobtrail-Delivery"), posts[0].Header("X-Jobtrail-Delivery"));
  EXPECT_TRUE(SignatureValid(posts[1], secret));
  const auto attempts = Attempts(job);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(std::string(attempts[0]["outcome"].GetString()), "retrying");
  EXPECT_EQ(std::string(attempts[1]["outcome"].GetString()), "delivered");
  EXPECT_TRUE(dispatcher().WaitFor([](const auto& s) { return s.pending == 0; },
                                   std::chrono::seconds(20)));

  // Settled: a third start delivers nothing again.
  StopAll();
  StartAll();
  ASSERT_TRUE(dispatcher().WaitFor([](const auto& s) { return s.caught_up; },
                                   std::chrono::seconds(20)));
  Advance(60'000);
  EXPECT_EQ(dispatcher().Stats().pending, 0u);
  EXPECT_EQ(listener_.posts().size(), 2u);
}

TEST_P(WebhookDeliveryTest, ADeliveryNeverAttemptedBeforeAStopIsMadeAfterTheStart) {
  StartAll(/*start_dispatcher=*/false);
  Subscribe(R"({"url":")" + listener_.url() + R"("})");
  const std::string job = Enqueue(R"({"type":"report"})");
  Complete(job);
  StopAll();
  StartAll();
  ASSERT_TRUE(WaitForAttempts(1));
  ASSERT_TRUE(listener_.WaitForPosts(1));
  EXPECT_EQ(listener_.posts()[0].Header("X-Jobtrail-Attempt"), "1");
  EXPECT_EQ(Attempts(job).size(), 1u);
}

TEST_P(WebhookDeliveryTest, FiltersChooseTheTransitions) {
  StartAll();
  // Every transition of "report" jobs on queue "q1"; final ones of "email".
  auto all = Subscribe(R"({"url":")" + listener_.url("/all") +
                       R"(","types":["report"],"queues":["q1"],)"
                       R"("statuses":["pending","running","retrying","completed","failed","cancelled"]})");
  Subscribe(R"({"url":")" + listener_.url("/email") + R"(","types":["email"]})");
  const std::string report = Enqueue(R"({"type":"report","queue":"q1"})");
  Enqueue(R"({"type":"report","queue":"q2"})");  // another queue: nothing
  const std::string email = Enqueue(R"({"type":"email"})");
  Complete(report);
  HttpResult cancelled = client_->Post("/v1/jobs/" + email + "/cancel", "{}");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  ASSERT_TRUE(WaitForAttempts(4));
  ASSERT_TRUE(listener_.WaitForPosts(4));
  std::multiset<std::string> seen;
  for (const ReceivedPost& p : listener_.posts()) {
    seen.insert(p.path + ":" + p.Header("X-Jobtrail-Event"));
  }
  EXPECT_EQ(seen, (std::multiset<std::string>{"/all:enqueued", "/all:started", "/all:completed",
                                               "/email:cancelled"}));
  // Attempt records never cause deliveries of their own.
  ASSERT_TRUE(dispatcher().WaitFor(
      [](const auto& s) { return s.pending == 0 && s.caught_up; }, std::chrono::seconds(20)));
  EXPECT_EQ(listener_.posts().size(), 4u);
  EXPECT_EQ(Attempts(report).size(), 3u);
}

TEST_P(WebhookDeliveryTest, ARedirectIsAFailedAttemptAndTheLastOneGivesUp) {
  hook_options_.dispatch.retry.max_attempts = 2;
  StartAll();
  listener_.Script({302}, /*fallback=*/500);
  auto sub = Subscribe(R"({"url":")" + listener_.url() + R"("})");
  const std::string job = Enqueue(R"({"type":"report"})");
  Complete(job);
  ASSERT_TRUE(WaitForAttempts(1));
  Advance(1000);
  ASSERT_TRUE(WaitForAttempts(2));
  Advance(10'000);
  ASSERT_TRUE(dispatcher().WaitFor([](const auto& s) { return s.gave_up == 1 && s.pending == 0; },
                                   std::chrono::seconds(20)));
  const auto posts = listener_.posts();
  ASSERT_EQ(posts.size(), 2u);  // the redirect was not followed to /elsewhere
  EXPECT_EQ(posts[0].path, "/hook");
  EXPECT_EQ(posts[1].path, "/hook");
  const auto attempts = Attempts(job);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(std::string(attempts[0]["error"].GetString()), "HTTP 302 (redirects are not followed)");
  EXPECT_EQ(std::string(attempts[1]["outcome"].GetString()), "gave_up");
  EXPECT_TRUE(attempts[1]["next_attempt_at"].IsNull());
}

TEST_P(WebhookDeliveryTest, ADeletedSubscriptionGetsNoMoreAttempts) {
  StartAll();
  listener_.Script({500});
  auto sub = Subscribe(R"({"url":")" + listener_.url() + R"("})");
  const std::string id = sub["id"].GetString();
  Complete(Enqueue(R"({"type":"report"})"));
  ASSERT_TRUE(WaitForAttempts(1));
  HttpResult r = client_->Request("DELETE", "/v1/webhooks/" + id, "", {});
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(client_->Get("/v1/webhooks/" + id).ErrorCode(), "WEBHOOK_NOT_FOUND");
  Advance(1000);
  ASSERT_TRUE(dispatcher().WaitFor([](const auto& s) { return s.dropped == 1; },
                                   std::chrono::seconds(20)));
  EXPECT_EQ(listener_.posts().size(), 1u);
}

TEST_P(WebhookDeliveryTest, ListsAndReadsSubscriptionsWithoutSecrets) {
  StartAll();
  auto sub = Subscribe(R"({"url":")" + listener_.url() +
                       R"(","description":"ops pager","statuses":["failed"]})");
  const std::string id = sub["id"].GetString();
  HttpResult one = client_->Get("/v1/webhooks/" + id);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_FALSE(one.Json().HasMember("secret"));
  EXPECT_EQ(std::string(one.Json()["statuses"][0].GetString()), "failed");
  HttpResult list = client_->Get("/v1/webhooks");
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.Json()["webhooks"].Size(), 1u);
  EXPECT_FALSE(list.Json()["webhooks"][0].HasMember("secret"));
  EXPECT_EQ(client_->Get("/v1/webhooks/wh_0000000000000000").ErrorCode(), "WEBHOOK_NOT_FOUND");
}

INSTANTIATE_TEST_SUITE_P(Sources, WebhookDeliveryTest,
                         ::testing::Values(Source::kTap, Source::kLogOnly, Source::kTinyTap),
                         [](const ::testing::TestParamInfo<Source>& info) {
                           switch (info.param) {
                             case Source::kTap: return "Tap";
                             case Source::kLogOnly: return "LogOnly";
                             case Source::kTinyTap: return "TinyTap";
                           }
                           return "";
                         });

}  // namespace
}  // namespace jobtrail::testing
