// Seed 000 (form-filling job queue): every documented endpoint against a
// real server, compared with the seed's examples field by field. Jobs are
// driven through the canonical /v1 write API on a manual clock set to the
// seed's own timestamps.
#include <gtest/gtest.h>

#include "projections/job_json.h"
#include "tests/http/dialects/test_util.h"
#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

Millis At(const char* rfc3339) { return *ParseTime(rfc3339); }

class Forms000Test : public ServerTest {
 protected:
  void SetUp() override {
    manual_clock_ = true;
    ServerTest::SetUp();
  }
  void AppendAt(const std::string& id, const char* time, const std::string& events) {
    clock_.Set(At(time));
    MustAppend(id, R"({"events":[)" + events + "]}");
  }
  // The seed's John Doe: three attempts, three errors, failed.
  std::string FailedJohn() {
    clock_.Set(At("2024-01-15T10:30:00.000Z"));
    const std::string id = Enqueue(R"({"type":"reliance-form","queue":"forms","external_ref":"507f1f77bcf86cd799439011",
      "max_attempts":3,"payload":{"formData":{"firstName":"John","lastName":"Doe",
      "mobile":"9876543210","email":"john@example.com"}}})");
    AppendAt(id, "2024-01-15T10:30:05.000Z", R"({"type":"started"})");
    AppendAt(id, "2024-01-15T10:30:45.123Z", R"({"type":"errored","data":{
      "error_type":"FormFillError","message":"Element not found: #btnSubmit",
      "stack":"Error: Element not found...","artifacts":[{"kind":"screenshot",
      "url":"https://s3.amazonaws.com/bucket/screenshots/form-error/John_abc/attempt_1/2024-01-15.png",
      "key":"screenshots/form-error/John_abc/attempt_1/2024-01-15.png"}]}},
      {"type":"retried","data":{"next_run_at":"2024-01-15T10:35:00.000Z"}})");
    AppendAt(id, "2024-01-15T10:35:20.456Z", R"({"type":"started"},{"type":"errored","data":{
      "error_type":"PostSubmissionError","message":"Timeout waiting for element",
      "stage":"post-submission","artifacts":[{"kind":"screenshot",
      "url":"https://s3.amazonaws.com/.../attempt_2.png",
      "key":"screenshots/post-submission-error/.../attempt_2.png"}]}},
      {"type":"retried","data":{"next_run_at":"2024-01-15T10:40:00.000Z"}})");
    AppendAt(id, "2024-01-15T10:40:15.789Z", R"({"type":"started"},{"type":"errored","data":{
      "error_type":"ModalError","message":"Modal not found","stage":"modal-filling",
      "artifacts":[{"kind":"screenshot","url":"https://s3.amazonaws.com/.../attempt_3.png",
      "key":"screenshots/modal-error/.../attempt_3.png"},{"kind":"page_source",
      "url":"https://s3.amazonaws.com/.../attempt_3.html"}]}},
      {"type":"failed","data":{"reason":"Modal not found","error_type":"ModalError"}})");
    return id;
  }
  // The seed's Jane Smith: completed at the first attempt.
  std::string CompletedJane() {
    clock_.Set(At("2024-01-15T10:31:00.000Z"));
    const std::string id = Enqueue(R"({"type":"reliance-form","queue":"forms","external_ref":"507f1f77bcf86cd799439012",
      "payload":{"formData":{"firstName":"Jane","lastName":"Smith","mobile":"9876543211"}}})");
    AppendAt(id, "2024-01-15T10:31:05.000Z", R"({"type":"started"})");
    AppendAt(id, "2024-01-15T10:31:30.000Z", R"({"type":"completed"})");
    return id;
  }
};

constexpr const char* kScreenshot1 =
    "https://s3.amazonaws.com/bucket/screenshots/form-error/John_abc/attempt_1/2024-01-15.png";

TEST_F(Forms000Test, JobStatusByCaptchaIdHasEveryFieldOfTheSeed) {
  const std::string id = FailedJohn();
  HttpResult r = client_->Get("/api/job-status/507f1f77bcf86cd799439011");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string error2 = R"({"timestamp":"2024-01-15T10:35:20.456Z","attemptNumber":2,
      "errorMessage":"Timeout waiting for element","errorType":"PostSubmissionError",
      "screenshotUrl":"https://s3.amazonaws.com/.../attempt_2.png",
      "screenshotKey":"screenshots/post-submission-error/.../attempt_2.png",
      "stage":"post-submission"})";
  const std::string error3 = R"({"timestamp":"2024-01-15T10:40:15.789Z","attemptNumber":3,
      "errorMessage":"Modal not found","errorType":"ModalError",
      "screenshotUrl":"https://s3.amazonaws.com/.../attempt_3.png",
      "screenshotKey":"screenshots/modal-error/.../attempt_3.png",
      "pageSourceUrl":"https://s3.amazonaws.com/.../attempt_3.html","stage":"modal-filling"})";
  ExpectMatchesSeed(r.body, R"({"success":true,"data":{
    "captchaId":"507f1f77bcf86cd799439011","jobId":")" + id + R"(","status":"failed",
    "attempts":3,"maxAttempts":3,"currentAttempt":3,"retriesLeft":0,
    "hasErrors":true,"errorCount":3,"errorLogs":[
      {"timestamp":"2024-01-15T10:30:45.123Z","attemptNumber":1,
       "errorMessage":"Element not found: #btnSubmit","errorType":"FormFillError",
       "errorStack":"Error: Element not found...","screenshotUrl":")" + kScreenshot1 + R"(",
       "screenshotKey":"screenshots/form-error/John_abc/attempt_1/2024-01-15.png"},)" +
    error2 + "," + error3 + R"(],
    "lastError":"Modal not found","lastErrorTimestamp":"2024-01-15T10:40:15.789Z",
    "finalError":{"timestamp":"2024-01-15T10:40:15.789Z","errorMessage":"Modal not found",
      "errorType":"ModalError","errorStack":null,"attemptNumber":3},
    "lastPostSubmissionError":)" + error2 + R"(,"lastModalError":)" + error3 + R"(,
    "screenshotUrls":[")" + kScreenshot1 + R"(","https://s3.amazonaws.com/.../attempt_2.png",
      "https://s3.amazonaws.com/.../attempt_3.png"],
    "createdAt":"2024-01-15T10:30:00.000Z","startedAt":"2024-01-15T10:30:05.000Z",
    "completedAt":null,"failedAt":"2024-01-15T10:40:15.789Z",
    "lastAttemptAt":"2024-01-15T10:40:15.789Z","nextRetryAt":null,
    "customerData":{"firstName":"John","lastName":"Doe","mobile":"9876543210",
      "email":"john@example.com"}}})");
}

TEST_F(Forms000Test, RetryingJobIsPendingWithItsNextRetry) {
  clock_.Set(At("2024-01-15T10:30:00.000Z"));
  const std::string id = Enqueue(
      R"({"type":"reliance-form","queue":"forms","external_ref":"507f1f77bcf86cd799439013","payload":{}})");
  AppendAt(id, "2024-01-15T10:30:05.000Z", R"({"type":"started"},{"type":"errored","data":
    {"message":"boom"}},{"type":"retried","data":{"next_run_at":"2024-01-15T10:35:00.000Z"}})");
  auto doc = client_->Get("/api/job-status/507f1f77bcf86cd799439013").Json();
  const auto& d = doc["data"];
  EXPECT_STREQ(d["status"].GetString(), "pending");
  EXPECT_EQ(d["retriesLeft"].GetInt(), 2);
  EXPECT_STREQ(d["nextRetryAt"].GetString(), "2024-01-15T10:35:00.000Z");
  EXPECT_TRUE(d["lastPostSubmissionError"].IsNull());
  EXPECT_TRUE(d["finalError"].IsNull());
  EXPECT_TRUE(d["customerData"]["firstName"].IsNull());
}

TEST_F(Forms000Test, JobStatusErrorsAreTheSeedsBodies) {
  HttpResult bad = client_->Get("/api/job-status/not-an-object-id");
  EXPECT_EQ(bad.status, 400);
  ExpectMatchesSeed(bad.body, R"({"success":false,"message":"Invalid captcha ID format"})");
  HttpResult missing = client_->Get("/api/job-status/507f1f77bcf86cd799439011");
  EXPECT_EQ(missing.status, 404);
  // An ObjectId's hex digits in either case name the same captcha.
  FailedJohn();
  EXPECT_EQ(client_->Get("/api/job-status/507F1F77BCF86CD799439011").status, 200);
  // Stored in upper case, found by the lower-case spelling too (issue 11).
  Enqueue(R"({"type":"reliance-form","queue":"forms","external_ref":"65A1B2C3D4E5F60718293A4B"})");
  EXPECT_EQ(client_->Get("/api/job-status/65a1b2c3d4e5f60718293a4b").status, 200);
  EXPECT_EQ(client_->Get("/api/job-status/65A1B2C3D4E5F60718293A4B").status, 200);
  ExpectMatchesSeed(missing.body, R"({"success":false,
    "message":"Job not found for this captcha ID","captchaId":"507f1f77bcf86cd799439011"})");
}

TEST_F(Forms000Test, JobListRowsPaginationAndFilter) {
  const std::string john = FailedJohn();
  const std::string jane = CompletedJane();
  HttpResult r = client_->Get("/api/jobs?sortBy=createdAt&sortOrder=asc");
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectMatchesSeed(r.body, R"({"success":true,"data":[
    {"jobId":")" + john + R"(","captchaId":"507f1f77bcf86cd799439011","status":"failed",
     "attempts":3,"customerName":"John Doe","mobile":"9876543210","hasErrors":true,
     "errorCount":3,"lastError":"Modal not found","createdAt":"2024-01-15T10:30:00.000Z",
     "completedAt":null,"failedAt":"2024-01-15T10:40:15.789Z"},
    {"jobId":")" + jane + R"(","captchaId":"507f1f77bcf86cd799439012","status":"completed",
     "attempts":1,"customerName":"Jane Smith","mobile":"9876543211","hasErrors":false,
     "errorCount":0,"lastError":null,"createdAt":"2024-01-15T10:31:00.000Z",
     "completedAt":"2024-01-15T10:31:30.000Z","failedAt":null}],
    "pagination":{"total":2,"limit":50,"skip":0,"returned":2,"hasMore":false,"nextSkip":null},
    "filter":{}})");

  // Newest first by default; one per page.
  auto page = client_->Get("/api/jobs?limit=1").Json();
  EXPECT_EQ(std::string(page["data"][0]["jobId"].GetString()), jane);
  ExpectJsonMatches(page["pagination"], rapidjson::Document().Parse(
      R"({"total":2,"limit":1,"skip":0,"returned":1,"hasMore":true,"nextSkip":1})"), "$");
  // Skip has a ceiling (the seed documents none): beyond it, 400.
  EXPECT_EQ(client_->Get("/api/jobs?skip=10000").status, 200);
  HttpResult deep = client_->Get("/api/jobs?skip=999999999");
  EXPECT_EQ(deep.status, 400) << deep.body;
  EXPECT_NE(deep.body.find("Invalid skip: must be at most 10000"), std::string::npos) << deep.body;
  auto next = client_->Get("/api/jobs?limit=1&skip=1").Json();
  EXPECT_EQ(std::string(next["data"][0]["jobId"].GetString()), john);
  EXPECT_FALSE(next["pagination"]["hasMore"].GetBool());

  auto failed = client_->Get("/api/jobs?status=failed").Json();
  ASSERT_EQ(failed["data"].Size(), 1u);
  EXPECT_EQ(std::string(failed["data"][0]["jobId"].GetString()), john);
  EXPECT_STREQ(failed["filter"]["status"].GetString(), "failed");
  EXPECT_EQ(failed["pagination"]["total"].GetUint64(), 1u);

  // The seed's maximum is a cap, not an error.
  EXPECT_EQ(client_->Get("/api/jobs?limit=500").Json()["pagination"]["limit"].GetInt(), 100);
}

TEST_F(Forms000Test, JobListRejectsUnknownStatusWithTheSeedsMessage) {
  HttpResult r = client_->Get("/api/jobs?status=running");
  EXPECT_EQ(r.status, 400);
  ExpectMatchesSeed(r.body, R"({"success":false,
    "message":"Invalid status. Must be one of: pending, processing, completed, failed"})");
  // Only the status is refused (issue 11): limit and skip read as the
  // seed's parseInt(x) || default, an empty status filters nothing, and
  // other sort fields and orders fall back to the defaults.
  for (const char* q : {"limit=abc", "limit=0", "limit=-3"}) {
    HttpResult d = client_->Get(std::string("/api/jobs?") + q);
    ASSERT_EQ(d.status, 200) << q << " " << d.body;
    EXPECT_EQ(d.Json()["pagination"]["limit"].GetInt(), 50) << q;
  }
  HttpResult negative = client_->Get("/api/jobs?skip=-5");
  ASSERT_EQ(negative.status, 200) << negative.body;
  EXPECT_EQ(negative.Json()["pagination"]["skip"].GetInt(), 0);
  EXPECT_EQ(client_->Get("/api/jobs?status=").status, 200);
  HttpResult lenient = client_->Get("/api/jobs?sortBy=attempts&sortOrder=up");
  EXPECT_EQ(lenient.status, 200) << lenient.body;
}

TEST_F(Forms000Test, StatsCountByTheSeedsStatuses) {
  FailedJohn();
  CompletedJane();
  clock_.Set(At("2024-01-15T10:32:00.000Z"));
  Enqueue(R"({"type":"reliance-form","queue":"forms"})");
  const std::string running = Enqueue(R"({"type":"reliance-form","queue":"forms"})");
  MustAppend(running, R"({"type":"started"})");
  HttpResult r = client_->Get("/api/jobs/stats");
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectMatchesSeed(r.body, R"({"success":true,"data":{"total":4,"byStatus":{
    "completed":{"count":1,"avgAttempts":1},"failed":{"count":1,"avgAttempts":3},
    "pending":{"count":1,"avgAttempts":0},"processing":{"count":1,"avgAttempts":1}},
    "successRate":"25%",
    "metrics":{"completed":1,"failed":1,"pending":1,"processing":1}}})");
}

TEST_F(Forms000Test, StatsAverageAttemptsAsTheSeedPrintsThem) {
  CompletedJane();  // one attempt
  const std::string second = Enqueue(R"({"type":"reliance-form","queue":"forms"})");
  MustAppend(second, R"({"events":[{"type":"started"},{"type":"completed"}]})");
  const std::string retried = Enqueue(R"({"type":"reliance-form","queue":"forms"})");
  MustAppend(retried, R"({"events":[{"type":"started"},{"type":"errored","data":
    {"message":"Element not found"}},{"type":"retried","data":{"next_run_at":"2024-01-15T10:40:00Z"}},
    {"type":"started"},{"type":"completed"}]})");
  HttpResult r = client_->Get("/api/jobs/stats");
  ASSERT_EQ(r.status, 200) << r.body;
  // (1 + 1 + 2) / 3, to two decimals, like the seed's 1.05.
  ExpectJsonMatches(r.Json()["data"]["byStatus"]["completed"],
                    rapidjson::Document().Parse(R"({"count":3,"avgAttempts":1.33})"),
                    "$.data.byStatus.completed");
  EXPECT_STREQ(r.Json()["data"]["successRate"].GetString(), "100%");
}

}  // namespace
}  // namespace jobtrail::testing
