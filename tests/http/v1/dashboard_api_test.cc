// The dashboard's API against a real server with authentication on:
// search (GET /v1/jobs?q=), a manual retry, bulk actions, the per-minute
// history. (The page's files: tests/http/ui/.)
#include <gtest/gtest.h>

#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

class DashboardApiTest : public SecureServerTest {
 protected:
  void SetUp() override {
    SecureServerTest::SetUp();
    Start();
  }
  HttpResult Admin(const std::string& method, const std::string& path,
                   const std::string& body = "") {
    return method == "GET" ? client_->Get(path, Bearer(admin_key_))
                           : client_->Post(path, body, Bearer(admin_key_));
  }
  void MustPost(const std::string& path, const std::string& body) {
    HttpResult r = Admin("POST", path, body);
    ASSERT_EQ(r.status, 200) << path << " " << body << " -> " << r.body;
  }
  // A job of `owner` that failed with a message.
  std::string FailedJob(const std::string& owner, const std::string& payload,
                        const std::string& message) {
    const std::string id = EnqueueFor(owner, payload);
    MustPost("/v1/jobs/" + id + "/events",
             R"({"events":[{"type":"started","data":{"worker_id":"w"}},
                 {"type":"errored","data":{"error_type":"FormFillError","message":")" +
                 message + R"("}},{"type":"failed","data":{}}]})");
    return id;
  }
  std::vector<std::string> Ids(const HttpResult& r) {
    std::vector<std::string> out;
    auto doc = r.Json();
    if (doc.HasParseError() || !doc.HasMember("items")) return out;
    for (const auto& item : doc["items"].GetArray()) out.emplace_back(item["id"].GetString());
    return out;
  }
};

TEST_F(DashboardApiTest, SearchIsScopedLikeTheList) {
  const std::string a = FailedJob("alice", R"({"city":"Lyon"})", "Element not found");
  const std::string b = FailedJob("bob", R"({"city":"Lyon"})", "Timeout waiting");
  HttpResult all = Admin("GET", "/v1/jobs?q=lyon");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(Ids(all), (std::vector<std::string>{b, a}));
  EXPECT_TRUE(all.Json()["total_exact"].GetBool());
  // A reader finds only its own jobs, whatever it asks for.
  HttpResult mine = client_->Get("/v1/jobs?q=lyon", Bearer(alice_key_));
  ASSERT_EQ(mine.status, 200) << mine.body;
  EXPECT_EQ(Ids(mine), (std::vector<std::string>{a}));
  HttpResult theirs = client_->Get("/v1/jobs?q=timeout&owner=bob", Bearer(alice_key_));
  EXPECT_EQ(Ids(theirs), std::vector<std::string>{});
  // Filters and search together; refusals name the parameter.
  EXPECT_EQ(Ids(Admin("GET", "/v1/jobs?q=ELEMENT%20lyon&status=failed")),
            (std::vector<std::string>{a}));
  HttpResult empty = Admin("GET", "/v1/jobs?q=%21%21");
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.ErrorCode(), "INVALID_PARAMETER");
  EXPECT_EQ(Admin("GET", "/v1/jobs?q=lyon&sort=updated").status, 400);
}

TEST_F(DashboardApiTest, ARetryIsAnOperatorsEventAndKeepsTheHistory) {
  const std::string id = FailedJob("alice", "{}", "boom");
  EXPECT_EQ(client_->Post("/v1/jobs/" + id + "/retry", "", Bearer(worker_key_)).status, 403);
  HttpResult r = client_->Post("/v1/jobs/" + id + "/retry", "{}",
                               {"Authorization: Bearer " + admin_key_, "X-Actor: ops@example.com"});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["status"].GetString(), std::string("retrying"));
  HttpResult history = Admin("GET", "/v1/jobs/" + id + "/events");
  ASSERT_EQ(history.status, 200);
  auto doc = history.Json();
  const auto& events = doc["events"];
  ASSERT_EQ(events.Size(), 5u);
  EXPECT_EQ(events[3]["type"].GetString(), std::string("failed"));
  EXPECT_EQ(events[4]["type"].GetString(), std::string("retried"));
  EXPECT_EQ(events[4]["actor"].GetString(), std::string("ops@example.com"));
  EXPECT_TRUE(events[4]["data"]["manual"].GetBool());
  // Not again while it is retrying; a worker's retried event cannot reopen
  // a final job either.
  HttpResult again = Admin("POST", "/v1/jobs/" + id + "/retry");
  EXPECT_EQ(again.status, 422);
  EXPECT_EQ(again.ErrorCode(), "INVALID_TRANSITION");
  const std::string other = FailedJob("alice", "{}", "boom");
  HttpResult sneaky = client_->Post("/v1/jobs/" + other + "/events",
                                    R"({"type":"retried","data":{"next_run_at":0}})",
                                    Bearer(worker_key_));
  EXPECT_EQ(sneaky.status, 422) << sneaky.body;
  EXPECT_EQ(client_->Post("/v1/jobs/" + other + "/events",
                           R"({"type":"retried","data":{"next_run_at":0,"manual":true}})",
                           Bearer(worker_key_))
                .status,
            400);
  EXPECT_EQ(Admin("POST", "/v1/jobs/" + other + "/retry", R"({"why":"x"})").status, 400);
}

TEST_F(DashboardApiTest, BulkActsOnEveryMatchAndDryRunOnlyCounts) {
  std::vector<std::string> pending;
  for (int i = 0; i < 5; ++i) pending.push_back(EnqueueFor("alice", R"({"shop":"north"})"));
  const std::string failed = FailedJob("bob", R"({"shop":"north"})", "x");
  const std::string body = R"({"action":"cancel","filter":{"q":"north","status":["pending","failed"]},)";
  HttpResult dry = Admin("POST", "/v1/jobs/bulk", body + R"("dry_run":true})");
  ASSERT_EQ(dry.status, 200) << dry.body;
  auto d = dry.Json();
  EXPECT_EQ(d["matched"].GetUint64(), 6u);
  EXPECT_EQ(d["changed"].GetUint64(), 5u);
  EXPECT_EQ(d["skipped"].GetUint64(), 1u);
  EXPECT_EQ(d["skipped_reasons"][0]["reason"].GetString(), std::string("INVALID_TRANSITION"));
  EXPECT_EQ(d["skipped_reasons"][0]["status"].GetString(), std::string("failed"));
  EXPECT_EQ(Admin("GET", "/v1/jobs?status=cancelled").Json()["total"].GetUint64(), 0u);

  HttpResult done = Admin("POST", "/v1/jobs/bulk", body + R"("reason":"closed"})");
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(done.Json()["changed"].GetUint64(), 5u);
  EXPECT_EQ(Admin("GET", "/v1/jobs?status=cancelled").Json()["total"].GetUint64(), 5u);
  HttpResult retried = Admin("POST", "/v1/jobs/bulk",
                             R"({"action":"retry","filter":{"owner":"alice"}})");
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(retried.Json()["changed"].GetUint64(), 5u);

  EXPECT_EQ(client_->Post("/v1/jobs/bulk", body + "}", Bearer(alice_key_)).status, 403);
  EXPECT_EQ(Admin("POST", "/v1/jobs/bulk", R"({"action":"explode"})").status, 400);
  EXPECT_EQ(Admin("POST", "/v1/jobs/bulk", R"({"action":"cancel","filter":{"colour":"red"}})").status,
            400);
  EXPECT_EQ(Admin("POST", "/v1/jobs/bulk", R"({"action":"cancel","filter":{"status":"done"}})")
                .status,
            400);
}

TEST_F(DashboardApiTest, SeriesCountsPerMinute) {
  FailedJob("alice", "{}", "x");
  clock_.Advance(60'000);
  EnqueueFor("alice");
  HttpResult r = Admin("GET", "/v1/stats/series?from=2024-01-15T10:29:00Z&to=2024-01-15T10:33:00Z");
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = r.Json();
  EXPECT_EQ(doc["step_seconds"].GetInt(), 60);
  ASSERT_EQ(doc["points"].Size(), 4u);
  EXPECT_EQ(doc["points"][1]["time"].GetString(), std::string("2024-01-15T10:30:00.000Z"));
  EXPECT_EQ(doc["points"][1]["enqueued"].GetUint64(), 1u);
  EXPECT_EQ(doc["points"][1]["failed"].GetUint64(), 1u);
  EXPECT_EQ(doc["points"][2]["enqueued"].GetUint64(), 1u);
  HttpResult hourly = Admin("GET", "/v1/stats/series?step=1h&type=report");
  ASSERT_EQ(hourly.status, 200) << hourly.body;
  EXPECT_EQ(hourly.Json()["points"].Size(), 1u);
  EXPECT_EQ(Admin("GET", "/v1/stats/series?step=90s").status, 400);
  EXPECT_EQ(Admin("GET", "/v1/stats/series?from=2024-01-01T00:00:00Z&to=2024-03-01T00:00:00Z")
                .status,
            400);
  EXPECT_EQ(client_->Get("/v1/stats/series", Bearer(alice_key_)).status, 403);
}

}  // namespace
}  // namespace jobtrail::testing
