// Seed 002 (background generation jobs): start every kind with its
// documented body, the kinds' validation rules, status polling through the
// job's life (driven by the canonical API on a manual clock), health, the
// processing routes and the cron webhook with its secret (with authentication
// on: dialect_generation_002_secure_test.cc).
#include <gtest/gtest.h>

#include "projections/job_json.h"
#include "tests/http/dialects/generation_002_bodies.h"
#include "tests/http/dialects/test_util.h"
#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

class Generation002Test : public ServerTest {
 protected:
  void SetUp() override {
    manual_clock_ = true;
    options_.security.webhook_secret = "cron-s3cret";
    ServerTest::SetUp();
  }
  std::string Start(const std::string& kind, const std::string& body) {
    HttpResult r = client_->Post("/api/jobs/" + kind + "/start", body);
    EXPECT_EQ(r.status, 200) << r.body;
    auto doc = r.Json();
    return doc.HasMember("jobId") ? doc["jobId"].GetString() : "";
  }
  HttpResult Status(const std::string& kind, const std::string& id) {
    return client_->Get("/api/jobs/" + kind + "/status/" + id);
  }
};

TEST_F(Generation002Test, StartAnswersEveryKindInItsShape) {
  const std::string common = R"("jobId":"<string>","status":"pending",
    "estimatedCompletion":"<string>","estimatedMinutes":"<number>","pollingUrl":"<string>",)";
  HttpResult r = client_->Post("/api/jobs/storybook/start", kStorybookBody);
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectMatchesSeed(r.body, "{" + common + R"("message":"Storybook generation job created"})");
  auto doc = r.Json();
  const std::string id = doc["jobId"].GetString();
  EXPECT_EQ(doc["pollingUrl"].GetString(), "/api/jobs/storybook/status/" + id);
  EXPECT_EQ(doc["estimatedMinutes"].GetInt(), 10);  // the documented default
  EXPECT_EQ(*ParseTime(doc["estimatedCompletion"].GetString()), clock_.Now() + 10 * 60000);

  r = client_->Post("/api/jobs/auto-story/start", R"({"genre":"fantasy",
    "characterDescription":"a fox","cartoonImageUrl":"https://x/fox.png","audience":"adults"})");
  ExpectMatchesSeed(r.body, "{" + common + R"("message":"Auto-story generation job created",
    "phases":["story_generation","scene_generation","storybook_creation"]})");

  r = client_->Post("/api/jobs/scenes/start",
                    std::string(R"({"story":")") + kStory + R"(","audience":"children"})");
  ExpectMatchesSeed(r.body, "{" + common + R"("message":"Scene generation job created",
    "storyInfo":{"wordCount":18,"audience":"children","estimatedScenes":"1-3"}})");

  r = client_->Post("/api/jobs/cartoonize/start",
                    R"({"prompt":"a smiling fox","style":"anime","imageUrl":"https://x/a.png"})");
  ExpectMatchesSeed(r.body, "{" + common + R"("message":"Cartoonize job created",
    "processingInfo":{"style":"anime","promptLength":13,"hasSourceImage":true}})");

  r = client_->Post("/api/jobs/image/start", R"({"image_prompt":"fox on a hill",
    "character_description":"red fox","emotion":"happy","audience":"young_adults"})");
  ExpectMatchesSeed(r.body, "{" + common + R"("message":"Image generation job created",
    "imageInfo":{"style":"storybook","audience":"young_adults","emotion":"happy",
    "isReusedImage":false,"promptLength":13}})");
}

TEST_F(Generation002Test, CartoonizeTakesTheSeedsFormData) {
  const std::string image("\x89PNG\r\n\x1a\n\0\x01\xff", 11);
  const std::string boundary = "----jtFormBoundary7MA4YWxk";
  auto part = [&](const std::string& headers, const std::string& content) {
    return "--" + boundary + "\r\n" + headers + "\r\n\r\n" + content + "\r\n";
  };
  const std::string body =
      part("Content-Disposition: form-data; name=\"image\"; filename=\"fox.png\"\r\n"
           "Content-Type: image/png",
           image) +
      part("Content-Disposition: form-data; name=\"prompt\"", "a smiling fox") +
      part("Content-Disposition: form-data; name=\"style\"", "anime") + "--" + boundary +
      "--\r\n";
  HttpResult r = client_->Post("/api/jobs/cartoonize/start", body,
                               {"Content-Type: multipart/form-data; boundary=" + boundary});
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectMatchesSeed(r.body, R"({"jobId":"<string>","status":"pending",
    "estimatedCompletion":"<string>","estimatedMinutes":"<number>","pollingUrl":"<string>",
    "message":"Cartoonize job created",
    "processingInfo":{"style":"anime","promptLength":13,"hasSourceImage":true}})");
  // The worker gets the file with the job: its name, type, size and bytes.
  auto job = client_->Get(std::string("/v1/jobs/") + r.Json()["jobId"].GetString()).Json();
  const auto& file = job["payload"]["image"];
  EXPECT_STREQ(file["filename"].GetString(), "fox.png");
  EXPECT_STREQ(file["contentType"].GetString(), "image/png");
  EXPECT_EQ(file["size"].GetUint64(), 11u);
  EXPECT_STREQ(file["base64"].GetString(), "iVBORw0KGgoAAf8=");
  EXPECT_STREQ(job["payload"]["prompt"].GetString(), "a smiling fox");
  // The form is validated like the JSON body: a style the seed does not list.
  const std::string bad = part("Content-Disposition: form-data; name=\"prompt\"", "p") +
                          part("Content-Disposition: form-data; name=\"style\"", "oil") +
                          "--" + boundary + "--\r\n";
  HttpResult refused = client_->Post("/api/jobs/cartoonize/start", bad,
                                     {"Content-Type: multipart/form-data; boundary=" + boundary});
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_STREQ(refused.Json()["code"].GetString(), "INVALID_INPUT");
}

TEST_F(Generation002Test, ATwoMegabyteUploadIsRefusedInTheSeedsShape) {
  // Issue 11: a 2 MB image got Pistache's bare text/plain 413, without
  // Content-Type or CORS headers, that a browser client cannot read.
  const std::string boundary = "----jtFormBoundaryBig";
  const std::string body = "--" + boundary +
                           "\r\nContent-Disposition: form-data; name=\"image\"; "
                           "filename=\"big.png\"\r\nContent-Type: image/png\r\n\r\n" +
                           std::string(2 << 20, 'p') + "\r\n--" + boundary + "--\r\n";
  HttpClient fresh(base_);
  HttpResult r = fresh.Post("/api/jobs/cartoonize/start", body,
                            {"Content-Type: multipart/form-data; boundary=" + boundary,
                             "Origin: https://app.example.com"});
  EXPECT_EQ(r.status, 413) << r.error;
  EXPECT_EQ(r.Header("Content-Type"), "application/json");
  EXPECT_EQ(r.Header("Access-Control-Allow-Origin"), "https://app.example.com");
  auto doc = r.Json();
  ASSERT_TRUE(doc.IsObject()) << r.body;
  EXPECT_EQ(std::string(doc["code"].GetString()), "INVALID_INPUT");
  EXPECT_TRUE(doc["error"].IsString());
  // Nothing was created, and the server serves the next client as usual.
  EXPECT_EQ(Start("cartoonize", R"({"prompt":"fox","style":"anime"})").empty(), false);
}

TEST_F(Generation002Test, StartValidatesEachKindsBody) {
  struct Case {
    const char* kind;
    std::string body;
  } cases[] = {
      {"storybook", R"({"title":"t","story":"s","characterImage":"c","audience":"children"})"},
      {"storybook", R"({"title":7,"story":"s","characterImage":"c","pages":[],"audience":"children"})"},
      {"storybook", R"({"title":"t","story":"s","characterImage":"c","pages":[{"pageNumber":1,
        "scenes":[{"description":"d"}]}],"audience":"children"})"},
      {"auto-story", R"({"genre":"horror","characterDescription":"a","cartoonImageUrl":"u",
        "audience":"children"})"},
      {"scenes", R"({"story":"too short","audience":"children"})"},
      {"scenes", std::string(R"({"story":")") + kStory + R"(","audience":"toddlers"})"},
      {"cartoonize", R"({"prompt":"p","style":"oil-painting"})"},
      {"image", R"({"image_prompt":"p","emotion":"e","audience":"adults"})"},
      {"image", "not json"},
  };
  for (const Case& c : cases) {
    HttpResult r = client_->Post(std::string("/api/jobs/") + c.kind + "/start", c.body);
    EXPECT_EQ(r.status, 400) << c.kind << " " << c.body << " -> " << r.body;
    auto doc = r.Json();
    ASSERT_TRUE(doc.IsObject()) << r.body;
    EXPECT_STREQ(doc["code"].GetString(), "INVALID_INPUT") << r.body;
    EXPECT_TRUE(doc["error"].IsString());
  }
  EXPECT_EQ(client_->Get("/v1/jobs").Json()["total"].GetUint64(), 0u);  // nothing enqueued
  HttpResult unknown = client_->Post("/api/jobs/video/start", "{}");
  EXPECT_EQ(unknown.status, 404);
}

TEST_F(Generation002Test, StatusFollowsTheJobThroughItsLife) {
  const Millis t0 = clock_.Now();
  const std::string id = Start("scenes", std::string(R"({"story":")") + kStory +
                                             R"(","audience":"children"})");
  ExpectMatchesSeed(Status("scenes", id).body, R"({"jobId":")" + id + R"(","status":"pending",
    "progress":0,"createdAt":")" + FormatTime(t0) + R"(","updatedAt":")" + FormatTime(t0) +
    R"(","retryCount":0,"maxRetries":3})");

  clock_.Advance(1000);
  MustAppend(id, R"({"type":"started"})");
  clock_.Advance(60000);
  MustAppend(id, R"({"type":"progressed","data":{"percent":40,"step":"generating_scenes"}})");
  HttpResult running = Status("scenes", id);
  auto doc = running.Json();
  EXPECT_STREQ(doc["status"].GetString(), "processing");
  EXPECT_EQ(doc["progress"].GetInt(), 40);
  EXPECT_STREQ(doc["currentStep"].GetString(), "generating_scenes");
  EXPECT_EQ(doc["startedAt"].GetString(), FormatTime(t0 + 1000));
  ASSERT_TRUE(doc.HasMember("estimatedTimeRemaining")) << running.body;
  EXPECT_STREQ(doc["estimatedTimeRemaining"].GetString(), "about 2 minutes");

  clock_.Advance(30000);
  MustAppend(id, R"({"type":"completed","data":{"result":{"pages":[{"pageNumber":1,"scenes":[
    {"description":"a","emotion":"b","imagePrompt":"c"},{"description":"d","emotion":"e",
    "imagePrompt":"f"}]},{"pageNumber":2,"scenes":[{"description":"g","emotion":"h",
    "imagePrompt":"i"}]}]}}})");
  const Millis done = t0 + 91000;
  ExpectMatchesSeed(Status("scenes", id).body, R"({"jobId":")" + id + R"(",
    "status":"completed","progress":100,"currentStep":"generating_scenes",
    "createdAt":")" + FormatTime(t0) + R"(","updatedAt":")" + FormatTime(done) + R"(",
    "startedAt":")" + FormatTime(t0 + 1000) + R"(","completedAt":")" + FormatTime(done) + R"(",
    "result":{"pages":[{"pageNumber":1,"scenes":[{"description":"a","emotion":"b",
      "imagePrompt":"c"},{"description":"d","emotion":"e","imagePrompt":"f"}]},
      {"pageNumber":2,"scenes":[{"description":"g","emotion":"h","imagePrompt":"i"}]}]},
    "retryCount":0,"maxRetries":3,
    "sceneInfo":{"totalPages":2,"totalScenes":3,"averageScenesPerPage":1.5}})");
}

TEST_F(Generation002Test, EachKindsStatusBlockAndTheCancelledWord) {
  // auto-story: its phase while it runs.
  const std::string story = Start("auto-story", R"({"genre":"fantasy",
    "characterDescription":"a fox","cartoonImageUrl":"https://x/fox.png","audience":"adults"})");
  MustAppend(story, R"({"events":[{"type":"started"},{"type":"progressed","data":
    {"percent":30,"step":"scene_generation"}}]})");
  auto phase = Status("auto-story", story).Json();
  EXPECT_STREQ(phase["currentPhase"].GetString(), "scene_generation");
  // cartoonize: its result {url, cached} and processingInfo.
  const std::string cartoon = Start("cartoonize", R"({"prompt":"fox","style":"anime"})");
  MustAppend(cartoon, R"({"events":[{"type":"started"},{"type":"completed","data":{"result":
    {"url":"https://cdn.example.com/fox.png","cached":true}}}]})");
  HttpResult done = Status("cartoonize", cartoon);
  auto d = done.Json();
  ExpectJsonMatches(d["result"],
                    rapidjson::Document().Parse(R"({"url":"https://cdn.example.com/fox.png",
                      "cached":true})"),
                    "$.result");
  ExpectJsonMatches(d["processingInfo"],
                    rapidjson::Document().Parse(R"({"cached":true,
                      "message":"Served from cache"})"),
                    "$.processingInfo");
  // image: generationInfo from the result and the start body.
  const std::string image = Start("image", R"({"image_prompt":"fox on a hill",
    "character_description":"red fox","emotion":"happy","audience":"children","style":"comic"})");
  MustAppend(image, R"({"events":[{"type":"started"},{"type":"completed","data":{"result":
    {"url":"https://cdn.example.com/i.png","reused":false,"prompt_used":"a red fox, happy"}}}]})");
  ExpectJsonMatches(Status("image", image).Json()["generationInfo"],
                    rapidjson::Document().Parse(R"({"reused":false,
                      "promptUsed":"a red fox, happy","style":"comic"})"),
                    "$.generationInfo");
  // A cancelled job: the seed's status word, and why.
  const std::string cancelled = Start("scenes", std::string(R"({"story":")") + kStory +
                                                    R"(","audience":"children"})");
  ASSERT_EQ(client_->Post("/v1/jobs/" + cancelled + "/cancel", R"({"reason":"user left"})").status,
            200);
  auto c = Status("scenes", cancelled).Json();
  EXPECT_STREQ(c["status"].GetString(), "cancelled");
  EXPECT_STREQ(c["error"].GetString(), "user left");
}

TEST_F(Generation002Test, FailedJobAnswersItsErrorAndRetries) {
  const std::string id = Start("cartoonize", R"({"prompt":"fox","style":"anime"})");
  MustAppend(id, R"({"events":[{"type":"started"},{"type":"errored","data":{"message":"timeout"}},
    {"type":"retried","data":{"next_run_at":"2030-01-01T00:00:00Z"}}]})");
  auto retrying = Status("cartoonize", id).Json();
  EXPECT_STREQ(retrying["status"].GetString(), "pending");
  EXPECT_STREQ(retrying["error"].GetString(), "timeout");
  MustAppend(id, R"({"events":[{"type":"started"},{"type":"failed","data":
    {"reason":"OpenAI API error"}}]})");
  auto failed = Status("cartoonize", id).Json();
  EXPECT_STREQ(failed["status"].GetString(), "failed");
  EXPECT_STREQ(failed["error"].GetString(), "OpenAI API error");
  EXPECT_EQ(failed["retryCount"].GetInt(), 1);
  EXPECT_FALSE(failed.HasMember("result"));
}

TEST_F(Generation002Test, StatusOfAnotherKindOrUnknownJobIsJobNotFound) {
  const std::string id = Start("cartoonize", R"({"prompt":"fox","style":"anime"})");
  for (const std::string& path :
       {"/api/jobs/image/status/" + id, std::string("/api/jobs/image/status/nope"),
        std::string("/api/jobs/image/status/00000000-0000-4000-8000-000000000000")}) {
    HttpResult r = client_->Get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_STREQ(r.Json()["code"].GetString(), "JOB_NOT_FOUND") << r.body;
  }
}

TEST_F(Generation002Test, EstimateComesFromObservedDurationsOfTheKind) {
  const std::string id = Start("image", R"({"image_prompt":"p","character_description":"c",
    "emotion":"e","audience":"adults"})");
  MustAppend(id, R"({"type":"started"})");
  clock_.Advance(210000);  // 3.5 minutes
  MustAppend(id, R"({"type":"completed","data":{"result":{"url":"u","prompt_used":"p2",
    "reused":true}}})");
  HttpResult r = client_->Post("/api/jobs/image/start", R"({"image_prompt":"p",
    "character_description":"c","emotion":"e","audience":"adults","style":"anime"})");
  EXPECT_EQ(r.Json()["estimatedMinutes"].GetInt(), 4);
  auto status = Status("image", id).Json();
  ExpectJsonMatches(status["generationInfo"], rapidjson::Document().Parse(
      R"({"reused":true,"promptUsed":"p2","style":"storybook"})"), "$.generationInfo");
}

TEST_F(Generation002Test, HealthHasTheWholeObject) {
  Start("cartoonize", R"({"prompt":"fox","style":"anime"})");
  HttpResult r = client_->Get("/api/jobs/health");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string now = FormatTime(clock_.Now());
  ExpectMatchesSeed(r.body, R"({"status":"healthy","message":"All systems operational",
    "timestamp":")" + now + R"(","systemStatus":{"monitor":true,"manager":true,"config":true,
      "timestamp":")" + now + R"("},
    "configSummary":{"environment":"production","autoProcessing":true,
      "processingInterval":30000,"maxConcurrentJobs":10,"jobTimeout":1800000,"maxRetries":3,
      "features":{"priorityProcessing":true,"jobCancellation":true,"metricsCollection":true,
        "healthChecks":true}},
    "metrics":{"queueDepth":1,"processingCapacity":100,"successRate":0,
      "averageProcessingTime":0,"jobsPerHour":0,"errorRate":0},
    "statistics":{"jobs":{"totalJobs":1,"pendingJobs":1,"processingJobs":0,"completedJobs":0,
        "failedJobs":0,"averageProcessingTime":0,"successRate":0,"queueDepth":1,
        "oldestPendingJob":")" + now + R"("},
      "byType":{"cartoonize":{"total":1,"completed":0,"failed":0,"averageTime":0,
        "successRate":0}},
      "performance":{"jobsPerHour":0,"jobsPerDay":0,"peakProcessingTime":0,
        "resourceUtilization":0,"errorFrequency":0,"retryRate":0}},
    "health":{"status":"healthy","alerts":[],"recommendations":[],"stuckJobsCount":0},
    "operational":{"autoProcessingEnabled":true,"metricsCollectionEnabled":true,
      "processingInterval":30000,"maxConcurrentJobs":10}})");
}

TEST_F(Generation002Test, ProcessRunsAMaintenancePassAndReportsIt) {
  HttpResult status = client_->Get("/api/jobs/process");
  ASSERT_EQ(status.status, 200) << status.body;
  auto s = status.Json();
  for (const char* key : {"timestamp", "healthy", "worker", "queue", "statistics",
                          "configuration", "features"}) {
    EXPECT_TRUE(s.HasMember(key)) << key;
  }
  EXPECT_TRUE(s["worker"]["isRunning"].IsBool());

  // A worker took a job and vanished: the pass expires its lease.
  const std::string id = Enqueue(R"({"type":"image","max_attempts":1})");
  HttpResult claim = client_->Post("/v1/queues/default/claim",
                                   R"({"worker_id":"w1","lease_ms":1000})");
  ASSERT_EQ(claim.status, 200) << claim.body;
  clock_.Advance(5000);
  HttpResult r = client_->Post("/api/jobs/process", R"({"cleanup":true,"cleanupDays":30,
    "specificJobId":")" + id + R"(","jobTypes":["image"]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = r.Json();
  EXPECT_EQ(doc["processed"].GetInt(), 1);
  EXPECT_EQ(doc["errors"].GetInt(), 1);  // out of attempts: failed
  EXPECT_EQ(doc["skipped"].GetInt(), 0);
  ExpectJsonMatches(doc["cleanup"], rapidjson::Document().Parse(
      R"({"cleaned":0,"olderThanDays":30})"), "$.cleanup");
  ExpectJsonMatches(doc["specificJob"], rapidjson::Document().Parse(
      (R"({"jobId":")" + id + R"(","success":true})").c_str()), "$.specificJob");
  EXPECT_STREQ(doc["filteredTypes"][0].GetString(), "image");
  for (const char* key : {"timestamp", "configuration", "queueStatus", "statistics",
                          "performance", "recommendations"}) {
    EXPECT_TRUE(doc.HasMember(key)) << key;
  }
  EXPECT_STREQ(client_->Get("/v1/jobs/" + id).Json()["status"].GetString(), "failed");
  EXPECT_EQ(client_->Post("/api/jobs/process", R"({"cleanupDays":"soon"})").status, 400);
}

TEST_F(Generation002Test, CleanupExpiresFinishedJobsOlderThanItsDays) {
  const std::string old_done = Start("cartoonize", R"({"prompt":"a fox","style":"anime"})");
  MustAppend(old_done, R"({"events":[{"type":"started"},{"type":"completed","data":{"result":{}}}]})");
  clock_.Advance(31LL * 86'400'000);
  const std::string recent_done = Start("cartoonize", R"({"prompt":"a cat","style":"anime"})");
  MustAppend(recent_done, R"({"events":[{"type":"started"},{"type":"completed"}]})");
  const std::string old_pending = Start("cartoonize", R"({"prompt":"an owl","style":"anime"})");
  clock_.Advance(1000);
  HttpResult r = client_->Post("/api/jobs/process", R"({"cleanup":true,"cleanupDays":30})");
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectJsonMatches(r.Json()["cleanup"],
                    rapidjson::Document().Parse(R"({"cleaned":1,"olderThanDays":30})"),
                    "$.cleanup");
  EXPECT_EQ(Status("cartoonize", old_done).status, 404);
  EXPECT_EQ(Status("cartoonize", recent_done).status, 200);
  EXPECT_EQ(Status("cartoonize", old_pending).status, 200);
  // The expiry is in the log, for audit: the store wrote it.
  auto history = client_->Get("/v1/events?limit=1000").Json();
  const auto& last = history["events"][history["events"].Size() - 1];
  EXPECT_STREQ(last["type"].GetString(), "expired");
  EXPECT_STREQ(last["actor"].GetString(), "system");
}

TEST_F(Generation002Test, CronNeedsTheWebhookSecret) {
  for (std::vector<std::string> headers :
       {std::vector<std::string>{}, std::vector<std::string>{"x-webhook-secret: wrong"},
        std::vector<std::string>{"x-webhook-secret: cron-s3cret-but-longer"}}) {
    HttpResult r = client_->Post("/api/cron/process-jobs", "{}", headers);
    EXPECT_EQ(r.status, 401) << r.body;
    ExpectMatchesSeed(r.body, R"({"error":"Invalid webhook secret","code":"UNAUTHORIZED"})");
  }
  HttpResult r = client_->Post("/api/cron/process-jobs", R"({"maxJobs":5,"healthCheck":true})",
                               {"x-webhook-secret: cron-s3cret"});
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectMatchesSeed(r.body, R"({"timestamp":")" + FormatTime(clock_.Now()) + R"(",
    "provider":"webhook","healthCheck":{"healthy":true,"message":"All systems operational"},
    "emergencyMode":false,"processed":0,"errors":0,"skipped":0,
    "queueStatus":{"queueDepth":0,"running":0,"stuck":0,"leasesExpired":0,"retried":0},
    "statistics":{"totalJobs":0,"pendingJobs":0,"processingJobs":0,"completedJobs":0,
      "failedJobs":0,"averageProcessingTime":0,"successRate":0,"queueDepth":0},
    "performance":{"processingTime":"<number>","processingRate":"<number>","errorRate":0,
      "efficiency":100},"recommendations":[]})");
}

// With authentication and rate limits on, as the seed documents them.
}  // namespace
}  // namespace jobtrail::testing
