// The real `jobtrail serve` binary, killed with SIGKILL while a delivery is
// failing: after the restart the pending delivery resumes (same delivery
// id, a later attempt) and is delivered, and the history shows it.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <string>

#include "tests/http/http_client.h"
#include "tests/cli/server_process.h"
#include "tests/http/webhooks/webhook_listener.h"

namespace jobtrail::testing {
namespace {

class WebhookProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / "jobtrail-webhooks-XXXXXX").string();
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::vector<std::string> Flags() const {
    // 50 ms between attempts, so that attempts follow each other without
    // the test waiting on time: it waits for the listener's requests.
    return {"--insecure-no-auth", "--webhook-allow-private", "--webhook-retry-policy",
            "fixed:50:50:0", "--webhook-max-attempts", "100"};
  }
  // The outcome of the job's last webhook_attempted event ("" if none).
  static std::string LastOutcome(HttpClient& client, const std::string& job) {
    HttpResult r = client.Get("/v1/jobs/" + job + "/events?limit=1000");
    if (r.status != 200) return "";
    rapidjson::Document doc = r.Json();
    std::string outcome;
    for (const auto& e : doc["events"].GetArray()) {
      if (std::string(e["type"].GetString()) == "webhook_attempted") {
        outcome = e["data"]["outcome"].GetString();
      }
    }
    return outcome;
  }
  std::string dir_;
  WebhookListener listener_;
};

TEST_F(WebhookProcessTest, APendingDeliveryResumesAfterKill9) {
  listener_.Script({}, /*fallback=*/500);
  std::string job;
  {
    ServerProcess server(dir_ + "/data", Flags());
    ASSERT_FALSE(server.base().empty());
    HttpClient client(server.base());
    HttpResult sub = client.Post("/v1/webhooks", R"({"url":")" + listener_.url() + R"("})");
    ASSERT_EQ(sub.status, 201) << sub.body;
    HttpResult enq = client.Post("/v1/jobs", R"({"type":"report"})");
    ASSERT_EQ(enq.status, 201) << enq.body;
    job = enq.Json()["job_id"].GetString();
    ASSERT_EQ(client.Post("/v1/jobs/" + job + "/events",
                          R"({"events":[{"type":"started"},{"type":"completed"}]})")
                  .status,
              200);
    ASSERT_TRUE(listener_.WaitForPosts(3));
    server.Stop(SIGKILL);
  }
  const size_t before = listener_.posts().size();
  const std::string delivery = listener_.posts()[0].Header("X-Jobtrail-Delivery");
  listener_.Script({}, /*fallback=*/200);

  ServerProcess server(dir_ + "/data", Flags());
  ASSERT_FALSE(server.base().empty());
  ASSERT_TRUE(listener_.WaitForPosts(before + 1));
  const ReceivedPost resumed = listener_.posts()[before];
  EXPECT_EQ(resumed.Header("X-Jobtrail-Delivery"), delivery);
  EXPECT_GE(std::stoi(resumed.Header("X-Jobtrail-Attempt")), 2);
  EXPECT_EQ(resumed.answered, 200);
  // The history settles on it (the record follows the answer).
  HttpClient client(server.base());
  std::string outcome;
  for (int i = 0; i < 5000 && outcome != "delivered"; ++i) outcome = LastOutcome(client, job);
  EXPECT_EQ(outcome, "delivered");
  EXPECT_EQ(server.Stop(SIGTERM), 0);
  // Nothing more was sent after it was delivered.
  EXPECT_EQ(listener_.posts().size(), before + 1);
}

}  // namespace
}  // namespace jobtrail::testing
