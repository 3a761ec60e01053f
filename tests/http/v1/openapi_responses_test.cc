// Every answer of a real `jobtrail serve` is one that schemas/openapi.yaml
// describes: the test drives the server through every documented operation
// (successes and the 400/401/403/404/409/414/422 errors), records each
// answer, and has tests/openapi/validate-responses.mjs (Ajv, JSON Schema
// 2020-12, the schemas of openapi.yaml) check status, media type and body.
// The second test shows that the validator does refuse what the description
// does not say, so a pass means something.
#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/cli/server_process.h"
#include "tests/cli/subprocess.h"
#include "tests/http/http_client.h"

namespace jobtrail::testing {
namespace {

const std::string kOpenApi = JOBTRAIL_SOURCE_DIR "/schemas/openapi.yaml";
const std::string kValidator = JOBTRAIL_SOURCE_DIR "/tests/openapi/validate-responses.mjs";

// One recorded answer, with its request's body, as a line of the validator's
// input.
std::string ExchangeLine(const std::string& method, const std::string& path,
                         const std::string& request_body, const HttpResult& r) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("method");
  w.String(method.c_str());
  w.Key("path");
  w.String(path.c_str());
  w.Key("request_body");
  w.String(request_body.data(), rapidjson::SizeType(request_body.size()));
  w.Key("status");
  w.Int(int(r.status));
  w.Key("content_type");
  w.String(r.Header("content-type").c_str());
  w.Key("body");
  w.String(r.body.data(), rapidjson::SizeType(r.body.size()));
  w.EndObject();
  return buf.GetString();
}

// Runs the validator on `lines`; the exit code and what it printed.
ProcessResult Validate(const std::string& dir, const std::vector<std::string>& lines,
                       bool all_operations) {
  const std::string file = dir + "/exchanges.ndjson";
  std::ofstream out(file, std::ios::trunc);
  for (const std::string& l : lines) out << l << '\n';
  out.close();
  std::vector<std::string> argv = {JOBTRAIL_NODE, kValidator, kOpenApi, file};
  if (all_operations) argv.push_back("--all-operations");
  return RunProcess(argv);
}

// An HttpClient that records every answer, and sends a credential unless
// told otherwise.
class RecordingClient {
 public:
  RecordingClient(const std::string& base, std::string key) : client_(base), key_(std::move(key)) {}

  HttpResult Call(const std::string& method, const std::string& path, const std::string& body = "",
                  std::vector<std::string> headers = {}, bool authenticate = true) {
    if (authenticate) headers.push_back("Authorization: Bearer " + key_);
    if (!body.empty()) headers.push_back("Content-Type: application/json");
    HttpResult r = client_.Request(method, path, body, std::move(headers));
    lines_.push_back(ExchangeLine(method, path, body, r));
    return r;
  }
  HttpResult Get(const std::string& path, std::vector<std::string> headers = {}) {
    return Call("GET", path, "", std::move(headers));
  }
  HttpResult Post(const std::string& path, const std::string& body,
                  std::vector<std::string> headers = {}) {
    return Call("POST", path, body, std::move(headers));
  }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  HttpClient client_;
  std::string key_;
  std::vector<std::string> lines_;
};

class OpenApiResponsesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / "jobtrail-openapi-XXXXXX").string();
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // A key made by `jobtrail keys create`, as an operator would.
  std::string CreateKey(const std::string& role, const std::string& owner) {
    const ProcessResult r = RunProcess({JOBTRAIL_BINARY, "keys", "create", "--role", role,
                                        "--owner", owner, "--data-dir", dir_ + "/data"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string key = r.out;
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
    return key;
  }
  std::string dir_;
};

std::string Field(const HttpResult& r, const char* name) {
  rapidjson::Document d = r.Json();
  return !d.HasParseError() && d.IsObject() && d.HasMember(name) && d[name].IsString()
             ? d[name].GetString()
             : "";
}

TEST_F(OpenApiResponsesTest, EveryAnswerOfARealServerIsDescribed) {
  const std::string admin = CreateKey("admin", "ops");
  const std::string reader = CreateKey("reader", "bob");
  // Webhooks may reach loopback: the subscription below names 127.0.0.1.
  ServerProcess server(dir_ + "/data", {"--no-seed-001-schedules", "--backup-dir",
                                        dir_ + "/backups", "--webhook-allow-private"});
  ASSERT_FALSE(server.base().empty());
  RecordingClient c(server.base(), admin);

  // Probes and metrics. /readyz is polled (bounded) until the read models
  // have caught up; every poll's answer is recorded and checked too.
  ASSERT_EQ(c.Get("/healthz").status, 200);
  long ready = 0;
  for (int i = 0; i < 5000 && ready != 200; ++i) ready = c.Get("/readyz").status;
  ASSERT_EQ(ready, 200);
  ASSERT_EQ(c.Get("/metrics").status, 200);

  // Backups over HTTP: start, poll its status until done, list; refusals.
  ASSERT_EQ(c.Post("/v1/admin/backup", R"({"name":"openapi-1"})").status, 202);
  std::string backup_status = "running";
  for (int i = 0; i < 100000 && backup_status == "running"; ++i) {
    backup_status = Field(c.Get("/v1/admin/backups/openapi-1"), "status");
  }
  EXPECT_EQ(backup_status, "completed");
  EXPECT_EQ(c.Get("/v1/admin/backups").status, 200);
  EXPECT_EQ(c.Post("/v1/admin/backup", R"({"name":"openapi-1"})").status, 409);
  EXPECT_EQ(c.Post("/v1/admin/backup", R"({"name":"../x"})").status, 400);
  EXPECT_EQ(c.Get("/v1/admin/backups/none").status, 404);
  EXPECT_EQ(c.Get("/healthz?pad=" + std::string(9000, 'a')).status, 414);

  // Credentials: none, and a role that may not call the route.
  EXPECT_EQ(c.Call("GET", "/v1/jobs", "", {}, false).status, 401);
  EXPECT_EQ(
      c.Call("POST", "/v1/jobs", R"({"type":"t"})", {"Authorization: Bearer " + reader}, false)
          .status,
      403);

  // Enqueue, its idempotent repeat, and refusals.
  const std::string enqueue =
      R"({"type":"form-fill","queue":"forms","owner":"alice","external_ref":"captcha-1",
          "payload":{"formData":{"firstName":"John"}},"priority":5,"max_attempts":3,
          "labels":{"region":"eu"}})";
  HttpResult a = c.Post("/v1/jobs", enqueue, {"Idempotency-Key: order-1"});
  ASSERT_EQ(a.status, 201) << a.body;
  const std::string job_a = Field(a, "job_id");
  EXPECT_EQ(c.Post("/v1/jobs", enqueue, {"Idempotency-Key: order-1"}).status, 201);
  EXPECT_EQ(c.Post("/v1/jobs", R"({"type":"t","max_attempts":"three"})").status, 400);
  EXPECT_EQ(c.Post("/v1/jobs", R"({"type":)").status, 400);
  EXPECT_EQ(
      c.Post("/v1/jobs", R"({"type":"t","payload":")" + std::string(1100000, 'x') + R"("})").status,
      413);
  EXPECT_EQ(c.Post("/v1/jobs", R"({"type":"t","job_id":")" + job_a + R"("})").status, 409);

  // A worker's life: claim with a lease, heartbeat, progress, a log line,
  // completion with a result.
  HttpResult claim = c.Post("/v1/queues/forms/claim", R"({"worker_id":"bot-7","lease_ms":60000})");
  ASSERT_EQ(claim.status, 200) << claim.body;
  ASSERT_EQ(claim.Json()["jobs"].Size(), 1u) << claim.body;
  EXPECT_EQ(c.Post("/v1/queues/forms/claim", R"({"worker_id":"bot-8"})").status, 200);
  EXPECT_EQ(c.Post("/v1/queues/forms/claim", R"({"lease_ms":5})").status, 400);
  EXPECT_EQ(c.Post("/v1/jobs/" + job_a + "/heartbeat",
                   R"({"worker_id":"bot-7","lease_ms":60000,"percent":10,"message":"page 1"})")
                .status,
            200);
  const std::string events_a = "/v1/jobs/" + job_a + "/events";
  EXPECT_EQ(c.Post(events_a,
                   R"({"type":"progressed","data":{"percent":40,"step":"filling",
              "message":"page 2","items":{"processed":2,"total":5}}})")
                .status,
            200);
  EXPECT_EQ(c.Post(events_a,
                   R"({"type":"logged","data":{"level":"WARN","message":"slow page",
              "details":{"ms":900},"subjects":{"page":"2"}}})")
                .status,
            200);
  EXPECT_EQ(c.Get("/v1/jobs/" + job_a + "/result").status, 404);
  EXPECT_EQ(c.Post(events_a, R"({"type":"completed","data":{"result":{"confirmation":"ABC123"}}})")
                .status,
            200);
  EXPECT_EQ(c.Post(events_a, R"({"type":"progressed","data":{"percent":50}})").status, 422);
  // The worker's round trip: a finish riding on a claim (one refused), and
  // a finish-only claim.
  EXPECT_EQ(c.Post("/v1/queues/forms/claim", R"({"worker_id":"bot-7","max_jobs":1,
      "append":[{"job_id":")" + job_a + R"(","events":[{"type":"logged","data":{"message":"done"}}]},
                {"job_id":")" + job_a + R"(","events":[{"type":"completed"}]}]})").status,
            200);
  EXPECT_EQ(c.Post("/v1/queues/forms/claim", R"({"worker_id":"bot-7","max_jobs":0,
      "append":[{"job_id":")" + job_a + R"(","events":[{"type":"logged","data":{"message":"x"}}]}]})")
                .status,
            200);
  EXPECT_EQ(c.Post(events_a, R"({"type":"exploded"})").status, 400);

  // Reads of that job, conditional and historical ones included.
  EXPECT_EQ(c.Get("/v1/jobs/" + job_a).status, 200);
  EXPECT_EQ(c.Get("/v1/jobs/" + job_a + "?at_version=2").status, 200);
  EXPECT_EQ(c.Get("/v1/jobs/" + job_a + "?at_version=99").status, 404);
  HttpResult current = c.Get("/v1/jobs/" + job_a);
  EXPECT_EQ(c.Get("/v1/jobs/" + job_a, {"If-None-Match: " + current.Header("etag")}).status, 304);
  HttpResult history = c.Get(events_a);
  EXPECT_EQ(history.status, 200);
  EXPECT_EQ(c.Get(events_a + "?limit=2&after_version=1").status, 200);
  EXPECT_EQ(c.Get(events_a + "?limit=0").status, 400);
  EXPECT_EQ(c.Get(events_a, {"If-None-Match: " + history.Header("etag")}).status, 304);
  EXPECT_EQ(c.Get("/v1/jobs/" + job_a + "/result").status, 200);
  EXPECT_EQ(c.Get("/v1/jobs/" + job_a + "/logs?level=info").status, 200);
  EXPECT_EQ(c.Get("/v1/jobs/" + job_a + "/logs?level=loud").status, 400);
  EXPECT_EQ(c.Get("/v1/jobs/00000000-0000-4000-8000-000000000000").status, 404);
  EXPECT_EQ(c.Get("/v1/jobs/not%20an%20id").status, 400);

  // Live (http/live/): long-polls that answer at once (the version
  // differs) and at the end of their wait (304), a job's stream replayed to
  // its final event, the end that follows (204), the feed up to a limit.
  EXPECT_EQ(c.Get("/v1/jobs/" + job_a + "?wait=5", {"If-None-Match: \"1\""}).status, 200);
  EXPECT_EQ(c.Get("/v1/jobs/" + job_a + "?wait=1", {"If-None-Match: " + current.Header("etag")})
                .status,
            304);
  EXPECT_EQ(c.Get("/v1/jobs/" + job_a + "?wait=soon").status, 400);
  EXPECT_EQ(c.Get("/v1/jobs/" + job_a + "/stream?after_version=0").status, 200);
  EXPECT_EQ(c.Get("/v1/jobs/" + job_a + "/stream").status, 204);
  EXPECT_EQ(c.Get("/v1/jobs/" + job_a + "/stream?after_version=x").status, 400);
  EXPECT_EQ(c.Get("/v1/jobs/00000000-0000-4000-8000-000000000000/stream").status, 404);
  EXPECT_EQ(c.Get("/v1/events/stream?after=0&limit=3").status, 200);
  EXPECT_EQ(c.Get("/v1/events/stream?after=0&status=completed&type=form-fill&limit=1").status,
            200);
  EXPECT_EQ(c.Get("/v1/events/stream?status=done").status, 400);

  // A job that fails without a lease: its own attempt, an error with a
  // screenshot uploaded inline, the final failure.
  HttpResult b = c.Post("/v1/jobs", R"({"type":"report","max_attempts":1})");
  ASSERT_EQ(b.status, 201) << b.body;
  const std::string job_b = Field(b, "job_id");
  EXPECT_EQ(c.Post("/v1/jobs/" + job_b + "/events",
                   R"j({"events":[{"type":"started","data":{"worker_id":"w2"}},
                       {"type":"errored","data":{"error_type":"Timeout","message":"too slow",
                        "stage":"render","stack":"at render()","artifacts":[{"kind":"screenshot",
                        "content_type":"image/png","content_base64":"iVBORw0KGgo="}]}},
                       {"type":"failed","data":{"reason":"gave up","error_type":"Timeout"}}]})j")
                .status,
            200);
  EXPECT_EQ(c.Get("/v1/jobs/" + job_b).status, 200);

  // Cancellation: a stale If-Match, the cancel, a second cancel.
  HttpResult d = c.Post("/v1/jobs", R"({"type":"report","run_at":"2030-01-01T00:00:00Z"})");
  ASSERT_EQ(d.status, 201) << d.body;
  const std::string job_d = Field(d, "job_id");
  EXPECT_EQ(c.Post("/v1/jobs/" + job_d + "/cancel", R"({"reason":"no"})", {"If-Match: 7"}).status,
            409);
  EXPECT_EQ(
      c.Post("/v1/jobs/" + job_d + "/cancel", R"({"reason":"user asked","by":"alice"})").status,
      200);
  EXPECT_EQ(c.Post("/v1/jobs/" + job_d + "/cancel", "").status, 422);
  EXPECT_EQ(c.Get("/v1/jobs/" + job_d).status, 200);

  // A share link, read without a key.
  HttpResult share = c.Post("/v1/jobs/" + job_a + "/share", R"({"ttl_seconds":3600})");
  ASSERT_EQ(share.status, 201) << share.body;
  EXPECT_EQ(
      c.Call("GET", "/v1/jobs/" + job_a + "?token=" + Field(share, "token"), "", {}, false).status,
      200);

  // A batch whose operations succeed and fail on their own.
  EXPECT_EQ(c.Post("/v1/batch", R"({"operations":[
                {"op":"enqueue","idempotency_key":"b-1","job":{"type":"batch","queue":"b"}},
                {"op":"append","job_id":")" +
                                    job_d + R"(","events":[{"type":"started"}]},
                {"op":"cancel","job_id":")" +
                                    job_b + R"(","reason":"late"}]})")
                .status,
            200);
  EXPECT_EQ(c.Post("/v1/batch", R"({"operations":"all"})").status, 400);

  // Collections.
  EXPECT_EQ(c.Get("/v1/jobs?status=completed,failed&type=form-fill&limit=10").status, 200);
  EXPECT_EQ(c.Get("/v1/jobs?sort=updated&order=asc&skip=1&limit=1").status, 200);
  EXPECT_EQ(c.Get("/v1/jobs?colour=red").status, 400);
  EXPECT_EQ(c.Get("/v1/events?after=0&limit=5").status, 200);
  EXPECT_EQ(c.Get("/v1/events?limit=0").status, 400);
  EXPECT_EQ(c.Get("/v1/stats").status, 200);
  EXPECT_EQ(c.Get("/v1/health").status, 200);
  EXPECT_EQ(c.Post("/v1/maintenance", R"({"cleanup_older_than_ms":86400000})").status, 200);

  // Schedules: create, read, fire, delete.
  EXPECT_EQ(c.Call("PUT", "/v1/schedules/nightly",
                   R"({"cron":"0 3 * * *","time_zone":"Europe/Berlin","queue":"reports",
                       "payload":{"kind":"daily"},"catch_up":"skip"})")
                .status,
            200);
  EXPECT_EQ(c.Call("PUT", "/v1/schedules/broken", R"({"cron":"61 * * * *"})").status, 400);
  EXPECT_EQ(c.Get("/v1/schedules").status, 200);
  EXPECT_EQ(c.Get("/v1/schedules/nightly").status, 200);
  EXPECT_EQ(c.Post("/v1/schedules/nightly/trigger", "").status, 201);
  EXPECT_EQ(c.Get("/v1/schedules/nightly").status, 200);
  EXPECT_EQ(c.Call("DELETE", "/v1/schedules/nightly").status, 204);
  EXPECT_EQ(c.Get("/v1/schedules/nightly").status, 404);

  // Webhooks: a subscription to a port nothing listens on (its deliveries
  // fail and are retried, each attempt recorded), its reads and attempts,
  // a job's own callback_url, the callback secret, refusals, the delete.
  HttpResult hook = c.Post("/v1/webhooks", R"({"url":"http://127.0.0.1:9/hook","types":["hooked"],
      "statuses":["failed"],"description":"pager"})");
  ASSERT_EQ(hook.status, 201) << hook.body;
  const std::string hook_id = Field(hook, "id");
  EXPECT_EQ(c.Post("/v1/webhooks", R"({"url":"ftp://example.com/"})").status, 400);
  EXPECT_EQ(c.Call("POST", "/v1/webhooks", R"({"url":"http://127.0.0.1:9/","owner":"alice"})",
                   {"Authorization: Bearer " + reader}, false)
                .status,
            403);
  HttpResult hooked = c.Post("/v1/jobs", R"({"type":"hooked","max_attempts":1,
      "callback_url":"http://127.0.0.1:9/callback"})");
  ASSERT_EQ(hooked.status, 201) << hooked.body;
  const std::string job_h = Field(hooked, "job_id");
  EXPECT_EQ(c.Post("/v1/jobs/" + job_h + "/events",
                   R"({"events":[{"type":"started"},{"type":"failed","data":{"reason":"no"}}]})")
                .status,
            200);
  const std::string deliveries = "/v1/webhooks/" + hook_id + "/deliveries";
  size_t attempts = 0;
  for (int i = 0; i < 5000 && attempts == 0; ++i) {
    HttpResult page = c.Get(deliveries + "?limit=10");
    ASSERT_EQ(page.status, 200) << page.body;
    attempts = page.Json()["attempts"].Size();
  }
  EXPECT_GT(attempts, 0u);
  EXPECT_EQ(c.Get(deliveries + "?limit=0").status, 400);
  EXPECT_EQ(c.Get("/v1/jobs/" + job_h + "/events").status, 200);  // webhook_attempted events
  EXPECT_EQ(c.Get("/v1/webhooks").status, 200);
  EXPECT_EQ(c.Get("/v1/webhooks/" + hook_id).status, 200);
  EXPECT_EQ(c.Get("/v1/webhooks/wh_0000000000000000").status, 404);
  EXPECT_EQ(c.Get("/v1/webhooks/callback-secret?owner=alice").status, 200);
  EXPECT_EQ(c.Call("GET", "/v1/webhooks/callback-secret?owner=alice", "",
                   {"Authorization: Bearer " + reader}, false)
                .status,
            403);
  EXPECT_EQ(c.Call("DELETE", "/v1/webhooks/" + hook_id).status, 204);
  EXPECT_EQ(c.Call("DELETE", "/v1/webhooks/" + hook_id).status, 404);

  const ProcessResult v = Validate(dir_, c.lines(), /*all_operations=*/true);
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

// The validator is not a rubber stamp: each of these answers differs from
// openapi.yaml in one way, and each is reported.
TEST_F(OpenApiResponsesTest, ValidatorRefusesWhatTheDescriptionDoesNotSay) {
  auto line = [](const std::string& method, const std::string& path, long status,
                 const std::string& content_type, const std::string& body,
                 const std::string& request_body = "") {
    HttpResult r;
    r.status = status;
    r.headers["content-type"] = content_type;
    r.body = body;
    return ExchangeLine(method, path, request_body, r);
  };
  const std::string enqueued =
      R"({"job_id":"j1","status":"pending","version":1,"status_url":"/v1/jobs/j1"})";
  const std::string json = "application/json";
  const std::string ok = line("GET", "/healthz", 200, json, R"({"status":"ok"})");
  const ProcessResult good =
      Validate(dir_, {ok, line("POST", "/v1/jobs", 201, json, enqueued, R"({"type":"t"})")}, false);
  EXPECT_EQ(good.exit_code, 0) << good.out << good.err;

  const std::vector<std::pair<std::string, std::string>> bad = {
      {line("GET", "/healthz", 200, json, R"({"status":"ok","uptime":3})"), "uptime"},
      {line("GET", "/v1/jobs/j1", 200, json, R"({"id":"j1","status":"paused"})"), "/status"},
      {line("GET", "/v1/jobs/j1", 200, json, R"({"id":7})"), "/id"},
      {line("GET", "/v1/nowhere", 200, json, "{}"), "no such operation"},
      {line("GET", "/v1/jobs/j1", 304, json, R"({"id":"j1"})"), "documents no body"},
      {line("GET", "/v1/jobs/j1", 200, "text/html", "<p>"), "content type"},
      {line("DELETE", "/v1/schedules/s", 204, json, "{}"), "documents no body"},
      {line("GET", "/v1/jobs/j1", 404, json, R"({"error":{"code":"NOPE","message":"m"}})"),
       "/error"},
      // The server accepting what the description refuses.
      {line("POST", "/v1/jobs", 201, json, enqueued, R"({"type":"t","colour":"red"})"),
       "accepted a request body the description refuses"},
      {line("POST", "/v1/jobs", 201, json, enqueued, ""), "without its required body"},
  };
  for (const auto& [exchange, why] : bad) {
    const ProcessResult r = Validate(dir_, {ok, exchange}, false);
    EXPECT_EQ(r.exit_code, 1) << exchange << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find("MISMATCH"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(why), std::string::npos) << "expected '" << why << "' in:\n" << r.out;
  }
  // Operations the answers never reached are named with --all-operations.
  const ProcessResult partial = Validate(dir_, {ok}, true);
  EXPECT_EQ(partial.exit_code, 1);
  EXPECT_NE(partial.out.find("never exercised: "), std::string::npos) << partial.out;
}

}  // namespace
}  // namespace jobtrail::testing
