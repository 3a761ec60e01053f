// Who may do what with webhooks, and the SSRF rules: a real server with
// authentication on (API keys for an admin, a worker and readers alice and
// bob), and a listener on loopback.
#include <gtest/gtest.h>

#include <string>

#include "http/webhooks/http_sender.h"
#include "tests/http/live_server.h"
#include "tests/http/webhooks/webhook_fixture.h"

namespace jobtrail::testing {
namespace {

class WebhookSecurityTest : public WithWebhooks<SecureServerTest> {
 protected:
  HttpResult PostAs(const std::string& key, const std::string& path, const std::string& body) {
    return client_->Post(path, body, Bearer(key));
  }
  HttpResult GetAs(const std::string& key, const std::string& path) {
    return client_->Get(path, Bearer(key));
  }
  void CompleteAsAdmin(const std::string& job) {
    for (const char* e : {R"({"type":"started","data":{"worker_id":"w1"}})",
                          R"({"type":"completed","data":{}})"}) {
      HttpResult r = PostAs(admin_key_, "/v1/jobs/" + job + "/events", e);
      ASSERT_EQ(r.status, 200) << r.body;
    }
  }
};

TEST_F(WebhookSecurityTest, AReadersSubscriptionIsItsOwnAndHearsOfItsOwnJobsOnly) {
  StartAll();
  HttpResult created = PostAs(alice_key_, "/v1/webhooks", R"({"url":")" + listener_.url() + R"("})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.Json()["id"].GetString();
  EXPECT_EQ(std::string(created.Json()["owner"].GetString()), "alice");

  // Another reader cannot see, list or delete it; an admin can see it.
  EXPECT_EQ(GetAs(bob_key_, "/v1/webhooks/" + id).ErrorCode(), "WEBHOOK_NOT_FOUND");
  EXPECT_EQ(GetAs(bob_key_, "/v1/webhooks/" + id + "/deliveries").ErrorCode(), "WEBHOOK_NOT_FOUND");
  EXPECT_EQ(client_->Request("DELETE", "/v1/webhooks/" + id, "", Bearer(bob_key_)).status, 404);
  EXPECT_EQ(GetAs(bob_key_, "/v1/webhooks").Json()["webhooks"].Size(), 0u);
  EXPECT_EQ(GetAs(admin_key_, "/v1/webhooks/" + id).status, 200);
  // Nor subscribe to someone else's jobs.
  HttpResult other = PostAs(bob_key_, "/v1/webhooks",
                            R"({"url":")" + listener_.url() + R"(","owner":"alice"})");
  EXPECT_EQ(other.status, 403) << other.body;

  CompleteAsAdmin(EnqueueFor("bob"));
  const std::string alices = EnqueueFor("alice");
  CompleteAsAdmin(alices);
  ASSERT_TRUE(WaitForAttempts(1));
  ASSERT_TRUE(dispatcher().WaitFor(
      [](const auto& s) { return s.caught_up && s.pending == 0; }, std::chrono::seconds(20)));
  ASSERT_EQ(listener_.posts().size(), 1u);
  rapidjson::Document body;
  body.Parse(listener_.posts()[0].body.c_str());
  EXPECT_EQ(std::string(body["job"]["id"].GetString()), alices);
  EXPECT_EQ(std::string(body["job"]["owner"].GetString()), "alice");
}

TEST_F(WebhookSecurityTest, CallbackSecretsAreEachOwnersOwn) {
  StartAll();
  HttpResult alice = GetAs(alice_key_, "/v1/webhooks/callback-secret");
  ASSERT_EQ(alice.status, 200) << alice.body;
  EXPECT_EQ(std::string(alice.Json()["owner"].GetString()), "alice");
  const std::string secret = alice.Json()["secret"].GetString();
  EXPECT_EQ(GetAs(bob_key_, "/v1/webhooks/callback-secret?owner=alice").status, 403);
  HttpResult bob = GetAs(bob_key_, "/v1/webhooks/callback-secret");
  EXPECT_NE(std::string(bob.Json()["secret"].GetString()), secret);
  HttpResult admin = GetAs(admin_key_, "/v1/webhooks/callback-secret?owner=alice");
  EXPECT_EQ(std::string(admin.Json()["secret"].GetString()), secret);
}

TEST_F(WebhookSecurityTest, ShareLinksAndAnonymousCallersGetNoWebhooks) {
  StartAll();
  const std::string job = EnqueueFor("alice");
  const std::string token = ShareToken(job);
  EXPECT_EQ(client_->Get("/v1/webhooks?token=" + token).status, 403);
  EXPECT_EQ(client_->Get("/v1/webhooks").status, 401);
  EXPECT_EQ(client_->Post("/v1/webhooks", R"({"url":"https://example.com/"})").status, 401);
}

TEST_F(WebhookSecurityTest, ClientsCannotWriteWebhookAttempts) {
  StartAll();
  const std::string job = EnqueueFor("alice");
  HttpResult r = PostAs(admin_key_, "/v1/jobs/" + job + "/events",
                        R"({"type":"webhook_attempted","data":{}})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.ErrorCode(), "INVALID_INPUT");
}

// Without --webhook-allow-private.
class WebhookSsrfTest : public WebhookSecurityTest {
 protected:
  void SetUp() override {
    WebhookSecurityTest::SetUp();
    hook_options_.allow_private = false;
  }
};

TEST_F(WebhookSsrfTest, PrivateAndMalformedUrlsAreRefusedAtRegistration) {
  StartAll();
  for (const std::string& url :
       {listener_.url(), std::string("http://localhost:8080/x"), std::string("http://[::1]/x"),
        std::string("http://10.1.2.3/"), std::string("http://169.254.169.254/latest/meta-data"),
        std::string("http://[::ffff:127.0.0.1]/"), std::string("http://0.0.0.0/"),
        std::string("ftp://example.com/x"), std::string("file:///etc/passwd"),
        std::string("http://user:pw@example.com/"), std::string("not a url"),
        std::string("/relative")}) {
    HttpResult r = PostAs(admin_key_, "/v1/webhooks", R"({"url":")" + url + R"("})");
    EXPECT_EQ(r.status, 400) << url << " -> " << r.body;
    EXPECT_EQ(r.ErrorCode(), "INVALID_INPUT") << url;
    HttpResult e = PostAs(admin_key_, "/v1/jobs",
                          R"({"type":"report","callback_url":")" + url + R"("})");
    EXPECT_EQ(e.status, 400) << url << " -> " << e.body;
  }
  HttpResult batch = PostAs(
      admin_key_, "/v1/batch",
      R"({"operations":[{"op":"enqueue","job":{"type":"a","callback_url":"http://127.0.0.1/"}},)"
      R"({"op":"enqueue","job":{"type":"b"}}]})");
  ASSERT_EQ(batch.status, 200) << batch.body;
  EXPECT_EQ(batch.Json()["results"][0]["status"].GetInt(), 400);
  EXPECT_EQ(batch.Json()["results"][1]["status"].GetInt(), 201);
  EXPECT_EQ(GetAs(admin_key_, "/v1/jobs").Json()["total"].GetUint64(), 1u);  // b only
  EXPECT_EQ(GetAs(admin_key_, "/v1/webhooks").Json()["webhooks"].Size(), 0u);
}

// What protects is the check at connect time, after DNS: a URL that passed
// registration still never reaches a private address.
TEST_F(WebhookSsrfTest, TheSenderRefusesAPrivateAddressWhenConnecting) {
  webhooks::SenderOptions options;
  options.allow_private = false;
  options.timeout_ms = 5000;
  auto sender = webhooks::HttpSender::Create(options);
  ASSERT_TRUE(sender);
  const webhooks::SendResult sent = sender.value()->Post({listener_.url(), {}, "{}"});
  EXPECT_FALSE(sent.delivered());
  EXPECT_EQ(sent.status_code, 0);
  EXPECT_EQ(sent.refused_address, "127.0.0.1");
  EXPECT_NE(sent.error.find("loopback or private"), std::string::npos) << sent.error;
  EXPECT_EQ(listener_.posts().size(), 0u);

  options.allow_private = true;
  auto allowed = webhooks::HttpSender::Create(options);
  ASSERT_TRUE(allowed);
  EXPECT_TRUE(allowed.value()->Post({listener_.url(), {}, "{}"}).delivered());
  EXPECT_EQ(listener_.posts().size(), 1u);
}

}  // namespace
}  // namespace jobtrail::testing
