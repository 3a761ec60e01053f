// Seed 001 (scheduled worker jobs): the registered job types, their runs
// with logs, and manual triggers (with ?wait= answered when a worker thread
// finishes the run), against a real server on a manual clock.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "http/dialects/worker_runs_001.h"
#include "projections/job_json.h"
#include "tests/http/dialects/test_util.h"
#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

Millis At(const char* rfc3339) { return *ParseTime(rfc3339); }

class WorkerRuns001Test : public ServerTest {
 protected:
  void SetUp() override {
    manual_clock_ = true;
    clock_.Set(At("2026-01-20T15:30:00.000Z"));
    ServerTest::SetUp();
  }
  // A run of `type` started at `start`; `events` then happen at `end`.
  std::string Run(const std::string& type, const char* start, const char* end,
                  const std::string& events) {
    clock_.Set(At(start));
    const std::string id = Enqueue(R"({"type":")" + type + R"(","queue":"worker-jobs"})");
    MustAppend(id, R"({"type":"started"})");
    clock_.Set(At(end));
    MustAppend(id, R"({"events":[)" + events + "]}");
    clock_.Set(At("2026-01-20T15:30:00.000Z"));
    return id;
  }
  // Claims the next run of seed 001's queue from the store (a worker) and
  // appends `events` to it; gives up after a few seconds.
  std::thread Worker(std::vector<EventBody> events) {
    return std::thread([this, events = std::move(events)] {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      ClaimRequest claim;
      claim.queue = std::string(http::kWorkerRunsQueue);
      claim.worker_id = "test-worker";
      while (std::chrono::steady_clock::now() < deadline) {
        auto claimed = store_->Claim(claim);
        ASSERT_TRUE(claimed) << claimed.error().ToString();
        if (claimed.value().empty()) {
          std::this_thread::yield();
          continue;
        }
        AppendRequest append;
        append.job_id = claimed.value()[0].job_id;
        append.events = events;
        append.actor = "test-worker";
        auto done = store_->Append(std::move(append));
        ASSERT_TRUE(done) << done.error().ToString();
        return;
      }
      ADD_FAILURE() << "no run to claim";
    });
  }
};

TEST_F(WorkerRuns001Test, StatusListsEveryRegisteredTypeAndWhetherItRuns) {
  const std::string running = Enqueue(R"({"type":"SEND_EMAILS","queue":"worker-jobs"})");
  MustAppend(running, R"({"type":"started"})");
  HttpResult r = client_->Get("/v1/jobs/status");
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectMatchesSeed(r.body, R"({"timestamp":"2026-01-20T15:30:00.000Z","jobs":{
    "ExpireServers":{"isRunning":false},"DeleteServers":{"isRunning":false},
    "SendEmails":{"isRunning":true},"GenerateExpiryEmails":{"isRunning":false},
    "GenerateDeletionEmails":{"isRunning":false}}})");
}

TEST_F(WorkerRuns001Test, RecentRunsNewestFirstInTheSeedsShape) {
  const std::string failed = Run("DELETE_SERVERS", "2026-01-20T03:00:00.000Z",
      "2026-01-20T03:00:30.000Z", R"({"type":"progressed","data":{"items":
      {"processed":2,"total":5,"failed":3}}},{"type":"failed","data":
      {"reason":"Pterodactyl API error: 503 Service Unavailable","stack":"Error: 503"}})");
  const std::string expire = Run("EXPIRE_SERVERS", "2026-01-20T15:00:00.000Z",
      "2026-01-20T15:00:45.000Z",
      R"({"type":"completed","data":{"items":{"processed":3,"total":3,"failed":0}}})");
  const std::string send = Run("SEND_EMAILS", "2026-01-20T15:25:00.000Z",
      "2026-01-20T15:25:12.000Z",
      R"({"type":"completed","data":{"items":{"processed":15,"total":15,"failed":0}}})");
  Enqueue(R"({"type":"email"})");  // not a worker job type: not a run
  HttpResult r = client_->Get("/v1/jobs/runs");
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectMatchesSeed(r.body, R"({"timestamp":"2026-01-20T15:30:00.000Z","runs":[
    {"id":")" + send + R"(","jobType":"SEND_EMAILS","status":"COMPLETED",
     "startedAt":"2026-01-20T15:25:00.000Z","endedAt":"2026-01-20T15:25:12.000Z",
     "itemsProcessed":15,"itemsTotal":15,"itemsFailed":0,"errorMessage":null},
    {"id":")" + expire + R"(","jobType":"EXPIRE_SERVERS","status":"COMPLETED",
     "startedAt":"2026-01-20T15:00:00.000Z","endedAt":"2026-01-20T15:00:45.000Z",
     "itemsProcessed":3,"itemsTotal":3,"itemsFailed":0,"errorMessage":null},
    {"id":")" + failed + R"(","jobType":"DELETE_SERVERS","status":"FAILED",
     "startedAt":"2026-01-20T03:00:00.000Z","endedAt":"2026-01-20T03:00:30.000Z",
     "itemsProcessed":2,"itemsTotal":5,"itemsFailed":3,
     "errorMessage":"Pterodactyl API error: 503 Service Unavailable"}]})");
}

TEST_F(WorkerRuns001Test, CancelledAndFailedRunsWithTheirStack) {
  const std::string failed = Run("DELETE_SERVERS", "2026-01-20T03:00:00.000Z",
      "2026-01-20T03:00:30.000Z", R"({"type":"failed","data":{"reason":"Database connection failed",
      "stack":"Error: connect ECONNREFUSED\n    at TCPConnectWrap.afterConnect"}})");
  auto f = client_->Get("/v1/jobs/runs/" + failed).Json();
  EXPECT_STREQ(f["status"].GetString(), "FAILED");
  EXPECT_STREQ(f["errorMessage"].GetString(), "Database connection failed");
  ASSERT_TRUE(f["errorStack"].IsString());
  EXPECT_STREQ(f["errorStack"].GetString(),
               "Error: connect ECONNREFUSED\n    at TCPConnectWrap.afterConnect");
  const std::string cancelled = Run("SEND_EMAILS", "2026-01-20T15:00:00.000Z",
      "2026-01-20T15:00:05.000Z", R"({"type":"cancelled","data":{"reason":"manual intervention"}})");
  auto c = client_->Get("/v1/jobs/runs/" + cancelled).Json();
  EXPECT_STREQ(c["status"].GetString(), "CANCELLED");
  EXPECT_STREQ(c["endedAt"].GetString(), "2026-01-20T15:00:05.000Z");
  EXPECT_TRUE(c["errorStack"].IsNull());
}

TEST_F(WorkerRuns001Test, RunDetailsWithLogsAndRelatedSubjects) {
  clock_.Set(At("2026-01-20T15:00:00.000Z"));
  const std::string id = Enqueue(R"({"type":"EXPIRE_SERVERS","queue":"worker-jobs"})");
  MustAppend(id, R"({"type":"started"})");
  clock_.Set(At("2026-01-20T15:00:00.100Z"));
  MustAppend(id, R"({"type":"logged","data":{"level":"INFO",
    "message":"Job started, processing 2 servers","details":{"totalServers":2}}})");
  const std::string subjects = R"("subjects":{"gameServer":"clxyz123abc",
    "gameServer.name":"My Minecraft Server","gameServer.status":"EXPIRED",
    "user":"user_abc123","user.name":"John Doe","user.email":"john@example.com"})";
  clock_.Set(At("2026-01-20T15:00:01.000Z"));
  MustAppend(id, R"({"type":"logged","data":{"level":"INFO",
    "message":"Starting to handle expired server","details":{"serverId":"clxyz123abc",
    "expires":"2026-01-20T14:00:00.000Z","currentStatus":"ACTIVE"},)" + subjects + "}}");
  clock_.Set(At("2026-01-20T15:00:02.500Z"));
  MustAppend(id, R"({"type":"logged","data":{"level":"INFO",
    "message":"Successfully suspended server via Pterodactyl API","details":{
    "serverId":"clxyz123abc","ptAdminId":42,"responseStatus":204},)" + subjects + "}}");
  clock_.Set(At("2026-01-20T15:00:45.000Z"));
  MustAppend(id, R"({"events":[{"type":"logged","data":{"level":"INFO",
    "message":"Job completed successfully","details":{"totalProcessed":2,"totalServers":2}}},
    {"type":"completed","data":{"items":{"processed":2,"total":2,"failed":0}}}]})");

  HttpResult r = client_->Get("/v1/jobs/runs/" + id);
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string related = R"("gameServerId":"clxyz123abc","userId":"user_abc123",)";
  const std::string objects = R"("gameServer":{"id":"clxyz123abc","name":"My Minecraft Server",
    "status":"EXPIRED"},"user":{"id":"user_abc123","name":"John Doe","email":"john@example.com"})";
  const std::string head = R"({"id":"<number>","jobType":"EXPIRE_SERVERS","jobRun":")" + id +
                           R"(","level":"INFO",)";
  ExpectMatchesSeed(r.body, R"({"id":")" + id + R"(","jobType":"EXPIRE_SERVERS",
    "status":"COMPLETED","startedAt":"2026-01-20T15:00:00.000Z",
    "endedAt":"2026-01-20T15:00:45.000Z","itemsProcessed":2,"itemsTotal":2,"itemsFailed":0,
    "errorMessage":null,"errorStack":null,"metadata":null,"logs":[)" +
    head + R"("message":"Job started, processing 2 servers","details":{"totalServers":2},
      "gameServerId":null,"userId":null,"createdAt":"2026-01-20T15:00:00.100Z",
      "gameServer":null,"user":null},)" +
    head + R"("message":"Starting to handle expired server","details":{
      "serverId":"clxyz123abc","expires":"2026-01-20T14:00:00.000Z","currentStatus":"ACTIVE"},)" +
      related + R"("createdAt":"2026-01-20T15:00:01.000Z",)" + objects + "}," +
    head + R"("message":"Successfully suspended server via Pterodactyl API","details":{
      "serverId":"clxyz123abc","ptAdminId":42,"responseStatus":204},)" + related +
      R"("createdAt":"2026-01-20T15:00:02.500Z",)" + objects + "}," +
    head + R"("message":"Job completed successfully","details":{"totalProcessed":2,
      "totalServers":2},"gameServerId":null,"userId":null,
      "createdAt":"2026-01-20T15:00:45.000Z","gameServer":null,"user":null}]})");
  auto doc = r.Json();
  EXPECT_LT(doc["logs"][0]["id"].GetInt64(), doc["logs"][1]["id"].GetInt64());
}

TEST_F(WorkerRuns001Test, RelatedObjectsCarryStringsWhereOnlyTheIdIsKnown) {
  // The seed types gameServer.name/status and user.name/email as strings
  // (the object itself may be null): a line naming only the ids gets "".
  const std::string id = Enqueue(R"({"type":"EXPIRE_SERVERS","queue":"worker-jobs"})");
  MustAppend(id, R"({"type":"started"})");
  MustAppend(id, R"({"type":"logged","data":{"level":"INFO","message":"m",
    "subjects":{"gameServer":"gs-1","user":"u-1"}}})");
  HttpResult r = client_->Get("/v1/jobs/runs/" + id);
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = r.Json();
  const auto& line = doc["logs"][0];
  for (const char* f : {"id", "name", "status"}) {
    EXPECT_TRUE(line["gameServer"][f].IsString()) << f << " in " << r.body;
  }
  for (const char* f : {"id", "name", "email"}) {
    EXPECT_TRUE(line["user"][f].IsString()) << f << " in " << r.body;
  }
  EXPECT_EQ(std::string(line["gameServer"]["name"].GetString()), "");
}

TEST_F(WorkerRuns001Test, UnknownRunIs404WithTheSeedsBody) {
  for (const std::string& id :
       {std::string("cm5abc123def456"), std::string("00000000-0000-4000-8000-000000000000"),
        Enqueue(R"({"type":"email"})")}) {
    HttpResult r = client_->Get("/v1/jobs/runs/" + id);
    EXPECT_EQ(r.status, 404) << id;
    ExpectMatchesSeed(r.body, R"({"error":"Job run not found"})");
  }
}

TEST_F(WorkerRuns001Test, LiteralSegmentsWinOverTheCanonicalJobId) {
  const std::string id = Enqueue(R"({"type":"email"})");
  EXPECT_EQ(client_->Get("/v1/jobs/" + id).status, 200);
  EXPECT_TRUE(client_->Get("/v1/jobs/status").Json().HasMember("jobs"));
  EXPECT_TRUE(client_->Get("/v1/jobs/runs").Json().HasMember("runs"));
}

TEST_F(WorkerRuns001Test, TriggerUnknownJobIs400) {
  HttpResult r = client_->Post("/v1/jobs/trigger/CheckNewVersions", "");
  EXPECT_EQ(r.status, 400);
  ExpectMatchesSeed(r.body, R"({"timestamp":"2026-01-20T15:30:00.000Z","success":false,
    "error":"Unknown job: CheckNewVersions"})");
}

TEST_F(WorkerRuns001Test, TriggerWithWaitZeroAnswersAtOnceThatTheRunIsRunning) {
  HttpResult r = client_->Post("/v1/jobs/trigger/SendEmails?wait=0", "");
  ASSERT_EQ(r.status, 202) << r.body;
  // No result to report yet, and no success claimed.
  ExpectMatchesSeed(r.body, R"({"timestamp":"2026-01-20T15:30:00.000Z","success":false,
    "error":"Job is still running after 0 s","runId":"<string>","status":"RUNNING"})");
  const std::string run = r.Json()["runId"].GetString();
  auto runs = client_->Get("/v1/jobs/runs").Json();
  ASSERT_EQ(runs["runs"].Size(), 1u);
  EXPECT_EQ(std::string(runs["runs"][0]["id"].GetString()), run);
  EXPECT_STREQ(runs["runs"][0]["jobType"].GetString(), "SEND_EMAILS");
  EXPECT_STREQ(runs["runs"][0]["status"].GetString(), "RUNNING");
  // Queued for a worker: the status route agrees with the runs list.
  auto status = client_->Get("/v1/jobs/status").Json();
  EXPECT_TRUE(status["jobs"]["SendEmails"]["isRunning"].GetBool());
  EXPECT_FALSE(status["jobs"]["ExpireServers"]["isRunning"].GetBool());
}

TEST_F(WorkerRuns001Test, TriggerAsTheSeedCallsItAnswersTheRunsOutcome) {
  Completed done;
  done.items = {5, 5, 0};
  std::thread worker = Worker({Completed(done)});
  HttpResult r = client_->Post("/v1/jobs/trigger/ExpireServers", "");
  worker.join();
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectMatchesSeed(r.body, R"({"timestamp":"2026-01-20T15:30:00.000Z","success":true,
    "result":{"processed":5,"total":5,"failed":0},"runId":"<string>","status":"COMPLETED"})");
}

TEST_F(WorkerRuns001Test, TriggerWaitsForTheRunAWorkerFails) {
  Failed failed;
  failed.reason = "Database connection failed";
  std::thread worker = Worker({Failed(failed)});
  HttpResult r = client_->Post("/v1/jobs/trigger/DeleteServers?wait=30", "");
  worker.join();
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectMatchesSeed(r.body, R"({"timestamp":"2026-01-20T15:30:00.000Z","success":false,
    "error":"Database connection failed","runId":"<string>","status":"FAILED"})");
  EXPECT_EQ(client_->Post("/v1/jobs/trigger/DeleteServers?wait=soon", "").status, 400);
}

}  // namespace
}  // namespace jobtrail::testing
