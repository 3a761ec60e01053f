// The whole life of a job over HTTP (SPEC §3), and the per-job reads:
// status with ETag/304, result, history, time travel, logs by level,
// cancel, list, stats, health, feed, metrics.
#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

class LifecycleTest : public ServerTest {};

std::string ErroredWithScreenshot(int attempt, const std::string& message) {
  const std::string n = std::to_string(attempt);
  return R"J({"type":"errored","data":{"attempt":)J" + n +
         R"J(,"error_type":"FormFillError","message":")J" + message +
         R"J(","stage":"form-filling","stack":"at fill (bot.js:42)",)J"
         R"J("artifacts":[{"kind":"screenshot","url":"https://s3.example/shot)J" + n +
         R"J(.png","key":"screenshots/shot)J" + n +
         R"J(.png","content_type":"image/png"},)J"
         R"J({"kind":"page_source","content_base64":"PGh0bWw+PC9odG1sPg=="}]}})J";
}

TEST_F(LifecycleTest, TwoErrorsWithScreenshotsARetryAndCompletion) {
  HttpResult created = client_->Post(
      "/v1/jobs",
      R"({"type":"form-fill","queue":"bots","owner":"alice","external_ref":"captcha-123",
          "payload":{"url":"https://example.com/form","fields":{"name":"A"}},
          "priority":5,"max_attempts":3,"labels":{"region":"eu"}})");
  ASSERT_EQ(created.status, 201) << created.body;
  auto body = created.Json();
  const std::string id = body["job_id"].GetString();
  EXPECT_STREQ(body["status"].GetString(), "pending");
  EXPECT_EQ(body["version"].GetUint64(), 1u);
  EXPECT_EQ(body["status_url"].GetString(), "/v1/jobs/" + id);
  EXPECT_EQ(created.Header("Location"), "/v1/jobs/" + id);
  EXPECT_EQ(created.Header("ETag"), "\"1\"");

  // Not done yet: the result route says what the job is doing.
  HttpResult early = client_->Get("/v1/jobs/" + id + "/result");
  EXPECT_EQ(early.status, 404);
  EXPECT_EQ(early.ErrorCode(), "RESULT_NOT_AVAILABLE");
  EXPECT_STREQ(early.Json()["error"]["details"]["status"].GetString(), "pending");

  // No lease: this worker reports its own retries (a leased attempt is
  // retried by the store, see the claim tests).
  MustAppend(id, R"({"type":"started","data":{"attempt":1,"worker_id":"w1"}})");
  MustAppend(id, R"({"type":"progressed","data":{"percent":40,"message":"filling","step":"page 2","items":{"processed":4,"total":10,"failed":0}}})");
  MustAppend(id, R"({"type":"logged","data":{"level":"WARN","message":"slow page","details":{"ms":3200},"subjects":{"gameServer":"gs-1"}}})");
  MustAppend(id, ErroredWithScreenshot(1, "Element not found: #btnSubmit"));
  MustAppend(id, R"({"type":"retried","data":{"attempt":2,"next_run_at":"2030-01-01T00:01:00Z","backoff_ms":60000}})");

  HttpResult retrying = client_->Get("/v1/jobs/" + id);
  ASSERT_EQ(retrying.status, 200);
  auto r = retrying.Json();
  EXPECT_STREQ(r["status"].GetString(), "retrying");
  EXPECT_STREQ(r["next_retry_at"].GetString(), "2030-01-01T00:01:00.000Z");
  EXPECT_EQ(r["retries_left"].GetInt(), 2);

  MustAppend(id, R"({"type":"started","data":{"attempt":2,"worker_id":"w2"}})");
  MustAppend(id, ErroredWithScreenshot(2, "Timeout waiting for element"));
  MustAppend(id, R"({"type":"retried","data":{"attempt":3,"next_run_at":1893456180000,"backoff_ms":120000}})");
  MustAppend(id, R"({"type":"started","data":{"attempt":3,"worker_id":"w1"}})");
  MustAppend(id, R"({"type":"logged","data":{"level":"INFO","message":"submitted"}})");
  MustAppend(id, R"({"type":"completed","data":{"result":{"confirmation":"ABC123"},"items":{"processed":10,"total":10}}})");

  HttpResult done = client_->Get("/v1/jobs/" + id);
  ASSERT_EQ(done.status, 200);
  auto d = done.Json();
  EXPECT_STREQ(d["status"].GetString(), "completed");
  EXPECT_EQ(d["version"].GetUint64(), 12u);
  EXPECT_EQ(done.Header("ETag"), "\"12\"");
  EXPECT_EQ(d["attempts"].GetInt(), 3);
  EXPECT_EQ(d["max_attempts"].GetInt(), 3);
  ASSERT_EQ(d["errors"].Size(), 2u);
  EXPECT_STREQ(d["errors"][0]["message"].GetString(), "Element not found: #btnSubmit");
  EXPECT_STREQ(d["errors"][1]["artifacts"][0]["url"].GetString(), "https://s3.example/shot2.png");
  EXPECT_STREQ(d["errors"][1]["artifacts"][0]["kind"].GetString(), "screenshot");
  EXPECT_EQ(d["errors"][1]["artifacts"][1]["size"].GetUint64(), 13u);  // "<html></html>"
  EXPECT_STREQ(d["last_error"]["message"].GetString(), "Timeout waiting for element");
  EXPECT_STREQ(d["result"]["confirmation"].GetString(), "ABC123");
  EXPECT_STREQ(d["payload"]["fields"]["name"].GetString(), "A");
  EXPECT_STREQ(d["labels"]["region"].GetString(), "eu");
  EXPECT_STREQ(d["owner"].GetString(), "alice");
  EXPECT_STREQ(d["external_ref"].GetString(), "captcha-123");
  EXPECT_FALSE(d["completed_at"].IsNull());

  HttpResult result = client_->Get("/v1/jobs/" + id + "/result");
  ASSERT_EQ(result.status, 200) << result.body;
  EXPECT_EQ(result.body, R"({"confirmation":"ABC123"})");

  HttpResult history = client_->Get("/v1/jobs/" + id + "/events");
  ASSERT_EQ(history.status, 200);
  auto h = history.Json();
  ASSERT_EQ(h["events"].Size(), 12u);
  const char* expected_types[] = {"enqueued", "started", "progressed", "logged",
                                  "errored",  "retried", "started",    "errored",
                                  "retried",  "started", "logged",     "completed"};
  for (rapidjson::SizeType i = 0; i < 12; ++i) {
    EXPECT_STREQ(h["events"][i]["type"].GetString(), expected_types[i]);
    EXPECT_EQ(h["events"][i]["version"].GetUint64(), i + 1);
  }

  // The job as it was right after the first error.
  HttpResult past = client_->Get("/v1/jobs/" + id + "?at_version=5");
  ASSERT_EQ(past.status, 200) << past.body;
  auto p = past.Json();
  EXPECT_STREQ(p["status"].GetString(), "running");
  EXPECT_EQ(p["version"].GetUint64(), 5u);
  EXPECT_EQ(p["errors"].Size(), 1u);
  EXPECT_TRUE(p["result"].IsNull());

  HttpResult warn = client_->Get("/v1/jobs/" + id + "/logs?level=WARN");
  ASSERT_EQ(warn.status, 200) << warn.body;
  auto w = warn.Json();
  ASSERT_EQ(w["logs"].Size(), 1u);
  EXPECT_STREQ(w["logs"][0]["message"].GetString(), "slow page");
  EXPECT_EQ(w["logs"][0]["details"]["ms"].GetInt(), 3200);
  HttpResult all = client_->Get("/v1/jobs/" + id + "/logs");
  EXPECT_EQ(all.Json()["logs"].Size(), 2u);

  // Final: nothing more may happen to it.
  HttpResult late = Append(id, R"({"type":"started","data":{}})");
  EXPECT_EQ(late.status, 422);
  EXPECT_EQ(late.ErrorCode(), "INVALID_TRANSITION");
  EXPECT_STREQ(late.Json()["error"]["details"]["current_status"].GetString(), "completed");
  EXPECT_EQ(Version(id), 12u);
}

TEST_F(LifecycleTest, ClientChosenIdsFollowOneRuleOnEveryRoute) {
  // Not only UUIDs: the ids another system gave its jobs (kept by import,
  // or chosen on enqueue) are reachable on every route that names a job.
  HttpResult r = client_->Post("/v1/jobs", R"({"type":"invoice","job_id":"bull:invoice-2024.001"})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = "bull:invoice-2024.001";
  EXPECT_EQ(r.Json()["job_id"].GetString(), id);
  MustAppend(id, R"({"type":"started"})");
  EXPECT_EQ(client_->Get("/v1/jobs/" + id).Json()["status"].GetString(), std::string("running"));
  EXPECT_EQ(client_->Get("/v1/jobs/" + id + "/events").status, 200);
  HttpResult batch = client_->Post("/v1/batch", R"({"operations":[{"op":"append","job_id":")" +
                                                    id + R"(","events":[{"type":"logged",
                                                    "data":{"message":"slow"}}]}]})");
  EXPECT_EQ(batch.status, 200) << batch.body;
  EXPECT_EQ(Version(id), 3u);
  EXPECT_EQ(client_->Post("/v1/jobs/" + id + "/cancel", "").status, 200);
  // Outside the rule: 400, on enqueue and on reads.
  EXPECT_EQ(client_->Post("/v1/jobs", R"({"type":"a","job_id":"has space"})").status, 400);
  // Ids that are seed 001's routes under /v1/jobs/ would be unreachable.
  for (const char* reserved : {"status", "runs", "trigger"}) {
    HttpResult taken = client_->Post("/v1/jobs", std::string(R"({"type":"a","job_id":")") +
                                                     reserved + R"("})");
    EXPECT_EQ(taken.status, 400) << reserved;
    EXPECT_NE(taken.body.find("reserved"), std::string::npos) << taken.body;
  }
  EXPECT_EQ(client_->Post("/v1/jobs", R"({"type":"a","job_id":")" + std::string(129, 'x') +
                                          R"("})")
                .status,
            400);
}

TEST_F(LifecycleTest, StatusETagAnswers304UntilTheJobChanges) {
  const std::string id = Enqueue();
  HttpResult first = client_->Get("/v1/jobs/" + id);
  ASSERT_EQ(first.status, 200);
  const std::string etag = first.Header("ETag");
  EXPECT_EQ(etag, "\"1\"");

  HttpResult same = client_->Get("/v1/jobs/" + id, {"If-None-Match: " + etag});
  EXPECT_EQ(same.status, 304);
  EXPECT_TRUE(same.body.empty());
  EXPECT_EQ(same.Header("ETag"), etag);

  MustAppend(id, R"({"type":"started","data":{}})");
  HttpResult changed = client_->Get("/v1/jobs/" + id, {"If-None-Match: " + etag});
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(changed.Header("ETag"), "\"2\"");
  EXPECT_EQ(client_->Get("/v1/jobs/" + id, {"If-None-Match: W/\"2\""}).status, 304);
  EXPECT_EQ(client_->Get("/v1/jobs/" + id, {"If-None-Match: \"9\", \"2\""}).status, 304);
  EXPECT_EQ(client_->Get("/v1/jobs/" + id + "/events", {"If-None-Match: \"2\""}).status, 304);
}

TEST_F(LifecycleTest, IfMatchAppendsOnlyOnTheExpectedVersion) {
  const std::string id = Enqueue();
  HttpResult ok = Append(id, R"({"type":"started","data":{"worker_id":"w1"}})", {"If-Match: \"1\""});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Header("ETag"), "\"2\"");
  EXPECT_EQ(ok.Json()["version"].GetUint64(), 2u);

  HttpResult stale = Append(id, R"({"type":"progressed","data":{"percent":10}})", {"If-Match: \"1\""});
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.ErrorCode(), "VERSION_CONFLICT");
  auto details = stale.Json();
  EXPECT_EQ(details["error"]["details"]["current_version"].GetUint64(), 2u);
  EXPECT_EQ(details["error"]["details"]["expected_version"].GetUint64(), 1u);
  EXPECT_EQ(Version(id), 2u);
}

TEST_F(LifecycleTest, SeveralEventsAppendAtomically) {
  const std::string id = Enqueue();
  HttpResult ok = Append(id, R"({"events":[{"type":"started","data":{}},
      {"type":"progressed","data":{"percent":50}},{"type":"logged","data":{"message":"half"}}]})");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Json()["version"].GetUint64(), 4u);
  EXPECT_EQ(ok.Json()["events_appended"].GetUint64(), 3u);

  // The second event is illegal (completed twice): none of them lands.
  const uint64_t before = LogPosition();
  HttpResult bad = Append(id, R"({"events":[{"type":"completed","data":{}},
      {"type":"completed","data":{}}]})");
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_EQ(Version(id), 4u);
  EXPECT_EQ(LogPosition(), before);
}

TEST_F(LifecycleTest, RetriedAppendWithTheSameEventIdAppliesOnce) {
  const std::string id = Enqueue();
  const std::string body =
      R"({"type":"started","event_id":"6f1c1f0e-58b5-4c1e-9f4e-0b8a3f2d9c11","data":{}})";
  ASSERT_EQ(Append(id, body).status, 200);
  HttpResult again = Append(id, body);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Version(id), 2u);
}

TEST_F(LifecycleTest, CancelIsAShorthandAndFinal) {
  const std::string id = Enqueue();
  HttpResult cancelled =
      client_->Post("/v1/jobs/" + id + "/cancel", R"({"reason":"user asked"})", {"X-Actor: alice"});
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_STREQ(cancelled.Json()["status"].GetString(), "cancelled");
  auto doc = client_->Get("/v1/jobs/" + id).Json();
  EXPECT_STREQ(doc["cancellation"]["reason"].GetString(), "user asked");
  EXPECT_STREQ(doc["cancellation"]["by"].GetString(), "alice");
  // An empty body works too, and a second cancel is refused.
  HttpResult twice = client_->Post("/v1/jobs/" + id + "/cancel", "");
  EXPECT_EQ(twice.status, 422);
  EXPECT_EQ(twice.ErrorCode(), "INVALID_TRANSITION");
  HttpResult result = client_->Get("/v1/jobs/" + id + "/result");
  EXPECT_EQ(result.status, 404);
  EXPECT_STREQ(result.Json()["error"]["details"]["status"].GetString(), "cancelled");
}

TEST_F(LifecycleTest, ListFiltersSortsAndCounts) {
  const std::string a = Enqueue(R"({"type":"pdf","owner":"alice","external_ref":"r-1"})");
  const std::string b = Enqueue(R"({"type":"pdf","owner":"bob"})");
  const std::string c = Enqueue(R"({"type":"email","owner":"alice"})");
  MustAppend(b, R"({"type":"started","data":{}})");

  auto running = client_->Get("/v1/jobs?status=running").Json();
  ASSERT_EQ(running["items"].Size(), 1u);
  EXPECT_EQ(running["items"][0]["id"].GetString(), b);
  EXPECT_EQ(running["total"].GetUint64(), 1u);

  auto several = client_->Get("/v1/jobs?status=pending,running&type=pdf").Json();
  EXPECT_EQ(several["total"].GetUint64(), 2u);
  auto by_owner = client_->Get("/v1/jobs?owner=alice&order=asc").Json();
  ASSERT_EQ(by_owner["items"].Size(), 2u);
  EXPECT_EQ(by_owner["items"][0]["id"].GetString(), a);
  EXPECT_EQ(by_owner["items"][1]["id"].GetString(), c);
  auto by_ref = client_->Get("/v1/jobs?external_ref=r-1").Json();
  ASSERT_EQ(by_ref["items"].Size(), 1u);
  EXPECT_EQ(by_ref["items"][0]["id"].GetString(), a);
  auto updated = client_->Get("/v1/jobs?sort=updated&order=desc&limit=1").Json();
  ASSERT_EQ(updated["items"].Size(), 1u);
  EXPECT_EQ(updated["items"][0]["id"].GetString(), b);
  EXPECT_TRUE(updated["has_more"].GetBool());
  EXPECT_TRUE(updated["next_cursor"].IsString());
  auto skipped = client_->Get("/v1/jobs?skip=2&limit=5&order=asc").Json();
  ASSERT_EQ(skipped["items"].Size(), 1u);
  EXPECT_EQ(skipped["items"][0]["id"].GetString(), c);
  auto range = client_->Get("/v1/jobs?created_after=2000-01-01T00:00:00Z&created_before=2999-01-01T00:00:00Z").Json();
  EXPECT_EQ(range["total"].GetUint64(), 3u);
}

TEST_F(LifecycleTest, StatsHealthFeedAndMetrics) {
  const std::string a = Enqueue(R"({"type":"pdf"})");
  const std::string b = Enqueue(R"({"type":"email"})");
  MustAppend(a, R"({"type":"started","data":{}})");
  MustAppend(a, R"({"type":"completed","data":{}})");
  MustAppend(b, R"({"type":"started","data":{}})");
  MustAppend(b, R"({"type":"failed","data":{"reason":"bad input"}})");

  auto stats = client_->Get("/v1/stats").Json();
  EXPECT_EQ(stats["total"].GetUint64(), 2u);
  EXPECT_EQ(stats["by_status"]["completed"].GetUint64(), 1u);
  EXPECT_EQ(stats["by_status"]["failed"].GetUint64(), 1u);
  EXPECT_DOUBLE_EQ(stats["success_rate"].GetDouble(), 0.5);
  EXPECT_EQ(stats["by_type"]["pdf"]["total"].GetUint64(), 1u);

  HttpResult health = client_->Get("/v1/health");
  ASSERT_EQ(health.status, 200);
  EXPECT_TRUE(health.Json()["status"].IsString());

  auto feed = client_->Get("/v1/events?after=0&limit=3").Json();
  ASSERT_EQ(feed["events"].Size(), 3u);
  EXPECT_EQ(feed["events"][0]["position"].GetUint64(), 1u);
  EXPECT_TRUE(feed["has_more"].GetBool());
  EXPECT_EQ(feed["next_after"].GetUint64(), 3u);
  auto rest = client_->Get("/v1/events?after=3").Json();
  EXPECT_EQ(rest["events"].Size(), 3u);
  EXPECT_FALSE(rest["has_more"].GetBool());

  EXPECT_EQ(client_->Get("/healthz").status, 200);
  HttpResult ready = client_->Get("/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_TRUE(ready.Json()["ready"].GetBool());

  client_->Get("/v1/jobs/" + a);
  client_->Get("/v1/nope");
  HttpResult metrics = client_->Get("/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.Header("Content-Type").rfind("text/plain", 0), 0u);
  const std::string& m = metrics.body;
  EXPECT_NE(m.find(R"(jobtrail_http_requests_total{method="GET",route="/v1/jobs/{id}",status="200"} 1)"),
            std::string::npos) << m;
  EXPECT_NE(m.find(R"(jobtrail_http_requests_total{method="POST",route="/v1/jobs",status="201"} 2)"),
            std::string::npos);
  EXPECT_NE(m.find(R"(route="unmatched",status="404"} 1)"), std::string::npos);
  EXPECT_NE(m.find(R"(jobtrail_http_request_duration_seconds_bucket{method="GET",route="/v1/jobs/{id}",le="+Inf"} 1)"),
            std::string::npos);
  EXPECT_NE(m.find("jobtrail_jobs_enqueued_total 2"), std::string::npos);
  EXPECT_NE(m.find(R"(jobtrail_events_appended_total{type="started"} 2)"), std::string::npos);
  EXPECT_NE(m.find("jobtrail_projection_lag_events{model=\"views\"} 0"), std::string::npos);
  EXPECT_NE(m.find(R"(jobtrail_jobs{status="completed"} 1)"), std::string::npos);
}

TEST_F(LifecycleTest, BatchAnswersEachOperationOnItsOwn) {
  const std::string existing = Enqueue();
  const std::string body = R"({"operations":[
      {"op":"enqueue","job":{"type":"pdf"},"idempotency_key":"batch-1"},
      {"op":"append","job_id":")" + existing + R"(","expected_version":1,"events":[{"type":"started","data":{}}]},
      {"op":"append","job_id":")" + existing + R"(","expected_version":1,"events":[{"type":"started","data":{}}]},
      {"op":"cancel","job_id":"00000000-0000-4000-8000-000000000000"},
      {"op":"append","job_id":")" + existing + R"(","events":[{"type":"progressed","data":{"percent":"x"}}]},
      {"op":"bogus"}]})";
  HttpResult r = client_->Post("/v1/batch", body);
  ASSERT_EQ(r.status, 200) << r.body;
  auto doc = r.Json();
  const auto& results = doc["results"];
  ASSERT_EQ(results.Size(), 6u);
  EXPECT_EQ(results[0]["status"].GetInt(), 201);
  EXPECT_EQ(results[1]["status"].GetInt(), 200);
  EXPECT_EQ(results[2]["status"].GetInt(), 409);
  EXPECT_STREQ(results[2]["body"]["error"]["code"].GetString(), "VERSION_CONFLICT");
  EXPECT_EQ(results[3]["status"].GetInt(), 404);
  EXPECT_EQ(results[4]["status"].GetInt(), 400);
  EXPECT_STREQ(results[4]["body"]["error"]["details"]["field"].GetString(),
               "operations[4].events[0].data.percent");
  EXPECT_EQ(results[5]["status"].GetInt(), 400);
  EXPECT_EQ(doc["succeeded"].GetUint64(), 2u);
  EXPECT_EQ(doc["failed"].GetUint64(), 4u);
  EXPECT_EQ(Version(existing), 2u);
  const std::string new_id = results[0]["body"]["job_id"].GetString();
  EXPECT_EQ(Version(new_id), 1u);
}

}  // namespace
}  // namespace jobtrail::testing
