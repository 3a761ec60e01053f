// The worker protocol over HTTP, on a manual clock: claim with a lease,
// heartbeat, an error on a leased attempt retried by the store's policy,
// a lease that expires in the maintenance pass.
#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

class WorkerTest : public ServerTest {
 protected:
  void SetUp() override {
    manual_clock_ = true;
    ServerTest::SetUp();
  }
  HttpResult Claim(const std::string& queue, const std::string& worker, int lease_ms = 30000) {
    return client_->Post("/v1/queues/" + queue + "/claim",
                         R"({"worker_id":")" + worker + R"(","lease_ms":)" +
                             std::to_string(lease_ms) + "}");
  }
  HttpResult Heartbeat(const std::string& id, const std::string& body) {
    return client_->Post("/v1/jobs/" + id + "/heartbeat", body);
  }
};

TEST_F(WorkerTest, ClaimHeartbeatErrorRetryByPolicyThenLeaseExpiry) {
  const std::string id = Enqueue(R"({"type":"scrape","queue":"bots","max_attempts":2,
      "retry_backoff":"fixed","retry_base_delay_ms":1000,"retry_max_delay_ms":1000})");

  HttpResult claimed = Claim("bots", "w1");
  ASSERT_EQ(claimed.status, 200) << claimed.body;
  auto c = claimed.Json();
  ASSERT_EQ(c["jobs"].Size(), 1u);
  EXPECT_EQ(c["jobs"][0]["job_id"].GetString(), id);
  EXPECT_EQ(c["jobs"][0]["attempt"].GetInt(), 1);
  EXPECT_STREQ(c["jobs"][0]["lease_deadline"].GetString(), "2024-01-15T10:30:30.000Z");
  EXPECT_STREQ(c["jobs"][0]["job"]["status"].GetString(), "running");
  EXPECT_EQ(Claim("bots", "w2").Json()["jobs"].Size(), 0u) << "a job was handed out twice";

  clock_.Advance(10000);
  HttpResult beat = Heartbeat(id, R"({"worker_id":"w1","lease_ms":60000,"percent":50})");
  ASSERT_EQ(beat.status, 200) << beat.body;
  auto b = beat.Json();
  EXPECT_TRUE(b["keep_working"].GetBool());
  EXPECT_STREQ(b["lease_deadline"].GetString(), "2024-01-15T10:31:10.000Z");
  EXPECT_EQ(beat.Header("ETag"), "\"" + std::to_string(b["version"].GetUint64()) + "\"");
  HttpResult thief = Heartbeat(id, R"({"worker_id":"w2"})");
  EXPECT_EQ(thief.status, 422);
  EXPECT_EQ(thief.ErrorCode(), "LEASE_LOST");

  // An error on a leased attempt: the store decides the retry.
  MustAppend(id, R"({"type":"errored","data":{"message":"captcha changed","artifacts":[{"kind":"screenshot","url":"https://s3.example/x.png"}]}})");
  auto retrying = client_->Get("/v1/jobs/" + id).Json();
  EXPECT_STREQ(retrying["status"].GetString(), "retrying");
  auto history = client_->Get("/v1/jobs/" + id + "/events").Json();
  const auto& last = history["events"][history["events"].Size() - 1];
  EXPECT_STREQ(last["type"].GetString(), "retried");
  EXPECT_STREQ(last["actor"].GetString(), "system");

  EXPECT_EQ(Claim("bots", "w2").Json()["jobs"].Size(), 0u) << "claimed before its retry time";
  clock_.Advance(2000);
  auto second = Claim("bots", "w2", 5000).Json();
  ASSERT_EQ(second["jobs"].Size(), 1u);
  EXPECT_EQ(second["jobs"][0]["attempt"].GetInt(), 2);

  // The worker vanishes; its lease runs out; no attempts are left.
  clock_.Advance(6000);
  HttpResult pass = client_->Post("/v1/maintenance", "");
  ASSERT_EQ(pass.status, 200) << pass.body;
  EXPECT_EQ(pass.Json()["leases_expired"].GetUint64(), 1u);
  EXPECT_EQ(pass.Json()["failed"].GetUint64(), 1u);
  auto failed = client_->Get("/v1/jobs/" + id).Json();
  EXPECT_STREQ(failed["status"].GetString(), "failed");
  HttpResult late = Heartbeat(id, R"({"worker_id":"w2"})");
  ASSERT_EQ(late.status, 200);
  EXPECT_FALSE(late.Json()["keep_working"].GetBool());
}

TEST_F(WorkerTest, QueueNamesArePercentDecodedPathParameters) {
  const std::string id = Enqueue(R"({"type":"t","queue":"team/a b"})");
  auto claimed = Claim("team%2Fa%20b", "w1").Json();
  ASSERT_EQ(claimed["jobs"].Size(), 1u);
  EXPECT_EQ(claimed["jobs"][0]["job_id"].GetString(), id);
  EXPECT_STREQ(claimed["queue"].GetString(), "team/a b");
}

TEST_F(WorkerTest, BadWorkerRequestsAre400) {
  HttpResult no_worker = client_->Post("/v1/queues/q/claim", "{}");
  EXPECT_EQ(no_worker.status, 400);
  EXPECT_STREQ(no_worker.Json()["error"]["details"]["field"].GetString(), "worker_id");
  EXPECT_EQ(client_->Post("/v1/queues/q/claim", R"({"worker_id":"w","max_jobs":101})").status, 400);
  EXPECT_EQ(client_->Post("/v1/queues/q/claim", R"({"worker_id":"w","lease_ms":0})").status, 400);
  EXPECT_EQ(Heartbeat("no!pe", R"({"worker_id":"w"})").ErrorCode(), "INVALID_JOB_ID");
  EXPECT_EQ(Heartbeat("00000000-0000-4000-8000-000000000000", R"({"worker_id":"w"})").status, 404);
  EXPECT_EQ(client_->Post("/v1/maintenance", R"({"vacuum":true})").status, 400);
  HttpResult backoff = client_->Post("/v1/jobs", R"({"type":"a","retry_backoff":"random"})");
  EXPECT_EQ(backoff.status, 400);
  EXPECT_TRUE(backoff.Json()["error"]["details"]["allowed"].IsArray());
}


// The worker protocol at two requests per job: progress rides on the
// heartbeat, and completing a job rides on the claim of the next one.
TEST_F(WorkerTest, CompletingAJobRidesOnTheNextClaim) {
  const std::string first = Enqueue(R"({"type":"scrape","queue":"bots"})");
  clock_.Advance(1);
  const std::string second = Enqueue(R"({"type":"scrape","queue":"bots"})");
  ASSERT_EQ(Claim("bots", "w1").Json()["jobs"][0]["job_id"].GetString(), first);
  HttpResult beat = Heartbeat(first, R"({"worker_id":"w1","percent":50})");
  ASSERT_EQ(beat.status, 200) << beat.body;

  HttpResult next = client_->Post("/v1/queues/bots/claim", R"({"worker_id":"w1","max_jobs":1,
      "append":[{"job_id":")" + first + R"(","events":[{"type":"completed","data":{"result":{"n":1}}}]},
                {"job_id":"no-such-job","events":[{"type":"completed"}]}]})");
  ASSERT_EQ(next.status, 200) << next.body;
  auto n = next.Json();
  ASSERT_EQ(n["appended"].Size(), 2u);
  EXPECT_STREQ(n["appended"][0]["status"].GetString(), "completed");
  EXPECT_EQ(n["appended"][0]["version"].GetUint64(), 4u);
  EXPECT_EQ(n["appended"][1]["http_status"].GetInt(), 404);
  EXPECT_STREQ(n["appended"][1]["error"]["code"].GetString(), "JOB_NOT_FOUND");
  ASSERT_EQ(n["jobs"].Size(), 1u);
  EXPECT_EQ(n["jobs"][0]["job_id"].GetString(), second);
  auto done = client_->Get("/v1/jobs/" + first).Json();
  EXPECT_STREQ(done["status"].GetString(), "completed");
  EXPECT_EQ(done["progress"].GetDouble(), 100.0);

  // max_jobs 0 finishes without taking more; without appends it is a 400.
  HttpResult last = client_->Post("/v1/queues/bots/claim", R"({"worker_id":"w1","max_jobs":0,
      "append":[{"job_id":")" + second + R"(","events":[{"type":"completed"}]}]})");
  ASSERT_EQ(last.status, 200) << last.body;
  EXPECT_EQ(last.Json()["jobs"].Size(), 0u);
  EXPECT_EQ(client_->Post("/v1/queues/bots/claim", R"({"worker_id":"w1","max_jobs":0})").status,
            400);
  EXPECT_EQ(client_->Post("/v1/queues/bots/claim",
                          R"({"worker_id":"w1","append":[{"job_id":"x"}]})").status,
            400);
}

// A long history is read page by page, each page linking to the next.
TEST_F(WorkerTest, HistoryIsPaged) {
  const std::string id = Enqueue(R"({"type":"scrape","queue":"bots"})");
  for (int i = 0; i < 5; ++i) {
    MustAppend(id, R"({"type":"logged","data":{"message":"line )" + std::to_string(i) + R"("}})");
  }
  HttpResult page = client_->Get("/v1/jobs/" + id + "/events?limit=3");
  ASSERT_EQ(page.status, 200) << page.body;
  auto p = page.Json();
  ASSERT_EQ(p["events"].Size(), 3u);
  EXPECT_EQ(p["version"].GetUint64(), 6u);
  EXPECT_TRUE(p["has_more"].GetBool());
  const std::string next = p["next"].GetString();
  EXPECT_EQ(next, "/v1/jobs/" + id + "/events?after_version=3&limit=3");
  EXPECT_EQ(page.Header("Link"), "<" + next + ">; rel=\"next\"");
  auto q = client_->Get(next).Json();
  ASSERT_EQ(q["events"].Size(), 3u);
  EXPECT_EQ(q["events"][0]["version"].GetUint64(), 4u);
  EXPECT_FALSE(q["has_more"].GetBool());
  EXPECT_TRUE(q["next"].IsNull());
  EXPECT_EQ(client_->Get("/v1/jobs/" + id + "/events").Json()["events"].Size(), 6u);
  EXPECT_EQ(client_->Get("/v1/jobs/" + id + "/events?limit=0").status, 400);
}

}  // namespace
}  // namespace jobtrail::testing
