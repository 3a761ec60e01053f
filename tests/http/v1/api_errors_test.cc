// Every error the API answers: one body shape, the right status, a clear
// code naming what was wrong, CORS headers on errors too, and nothing
// appended. Also the transport behaviours: keep-alive, request ids,
// preflights, oversize bodies.
#include <string>
#include <vector>

#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

class ErrorsTest : public ServerTest {
 protected:
  // Asserts the one error body: {"error":{"code","message","details"}}.
  static void ExpectErrorBody(const HttpResult& r, long status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    auto doc = r.Json();
    ASSERT_FALSE(doc.HasParseError()) << r.body;
    ASSERT_TRUE(doc.IsObject() && doc.HasMember("error")) << r.body;
    EXPECT_STREQ(doc["error"]["code"].GetString(), code.c_str()) << r.body;
    EXPECT_TRUE(doc["error"]["message"].IsString());
    EXPECT_GT(doc["error"]["message"].GetStringLength(), 0u);
    EXPECT_TRUE(doc["error"].HasMember("details"));
    EXPECT_EQ(r.Header("Content-Type"), "application/json");
  }
};

struct BadBody {
  const char* name;
  std::string body;
  const char* code;
  const char* field;  // details.field, or "" when the error names none
};

TEST_F(ErrorsTest, BadEnqueueBodiesAre400AndCreateNothing) {
  const std::vector<BadBody> cases = {
      {"malformed", R"({"type": "email",)", "INVALID_JSON", ""},
      {"not json", "hello", "INVALID_JSON", ""},
      {"empty", "", "INVALID_JSON", ""},
      {"trailing garbage", R"({"type":"a"} x)", "INVALID_JSON", ""},
      {"invalid utf-8", "{\"type\":\"\xff\xfe\"}", "INVALID_JSON", ""},
      {"too deep", std::string(200, '[') + std::string(200, ']'), "INVALID_JSON", ""},
      {"array", R"([1,2])", "INVALID_INPUT", ""},
      {"missing type", R"({"queue":"q"})", "INVALID_INPUT", "type"},
      {"type not string", R"({"type":42})", "INVALID_INPUT", "type"},
      {"unknown field", R"({"type":"a","colour":"red"})", "INVALID_INPUT", "colour"},
      {"duplicate field", R"({"type":"a","type":"b"})", "INVALID_INPUT", "type"},
      {"priority fraction", R"({"type":"a","priority":1.5})", "INVALID_INPUT", "priority"},
      {"priority string", R"({"type":"a","priority":"high"})", "INVALID_INPUT", "priority"},
      {"max_attempts zero", R"({"type":"a","max_attempts":0})", "INVALID_INPUT", "max_attempts"},
      {"max_attempts huge", R"({"type":"a","max_attempts":99999999999})", "INVALID_INPUT", "max_attempts"},
      {"bad time", R"({"type":"a","run_at":"yesterday"})", "INVALID_INPUT", "run_at"},
      {"labels not strings", R"({"type":"a","labels":{"n":1}})", "INVALID_INPUT", "labels.n"},
      {"bad job id", R"({"type":"a","job_id":"not a job id"})", "INVALID_INPUT", "job_id"},
  };
  for (const BadBody& c : cases) {
    SCOPED_TRACE(c.name);
    HttpResult r = client_->Post("/v1/jobs", c.body);
    ExpectErrorBody(r, 400, c.code);
    if (*c.field) {
      EXPECT_STREQ(r.Json()["error"]["details"]["field"].GetString(), c.field);
    }
  }
  EXPECT_EQ(client_->Get("/v1/jobs").Json()["total"].GetUint64(), 0u);
  EXPECT_EQ(LogPosition(), 0u);
}

TEST_F(ErrorsTest, BadEventBodiesAre400AndAppendNothing) {
  const std::string id = Enqueue();
  MustAppend(id, R"({"type":"started","data":{}})");
  const std::vector<BadBody> cases = {
      {"unknown type", R"({"type":"exploded"})", "INVALID_INPUT", "type"},
      {"enqueued is not appendable", R"({"type":"enqueued","data":{}})", "INVALID_INPUT", "type"},
      {"percent too big", R"({"type":"progressed","data":{"percent":101}})", "INVALID_INPUT", "data.percent"},
      {"percent string", R"({"type":"progressed","data":{"percent":"50%"}})", "INVALID_INPUT", "data.percent"},
      {"negative items", R"({"type":"progressed","data":{"items":{"total":-1}}})", "INVALID_INPUT", "data.items.total"},
      {"unknown data field", R"({"type":"progressed","data":{"pct":5}})", "INVALID_INPUT", "data.pct"},
      {"unknown level", R"({"type":"logged","data":{"level":"LOUD","message":"x"}})", "INVALID_INPUT", "data.level"},
      {"log without message", R"({"type":"logged","data":{"level":"INFO"}})", "INVALID_INPUT", "data.message"},
      {"artifact without target", R"({"type":"errored","data":{"message":"m","artifacts":[{"kind":"screenshot"}]}})", "INVALID_INPUT", "data.artifacts[0]"},
      {"artifact bad base64", R"({"type":"errored","data":{"message":"m","artifacts":[{"kind":"x","content_base64":"!!"}]}})", "INVALID_INPUT", "data.artifacts[0].content_base64"},
      {"retry without time", R"({"type":"retried","data":{}})", "INVALID_INPUT", "data.next_run_at"},
      {"bad event id", R"({"type":"progressed","event_id":"123","data":{}})", "INVALID_INPUT", "event_id"},
      {"data not object", R"({"type":"progressed","data":[]})", "INVALID_INPUT", "data"},
      {"empty events", R"({"events":[]})", "INVALID_INPUT", "events"},
      {"bad second event", R"({"events":[{"type":"progressed","data":{}},{"type":"progressed","data":{"percent":-1}}]})", "INVALID_INPUT", "events[1].data.percent"},
      {"malformed", R"({"type":"progressed","data":{)", "INVALID_JSON", ""},
  };
  for (const BadBody& c : cases) {
    SCOPED_TRACE(c.name);
    HttpResult r = Append(id, c.body);
    ExpectErrorBody(r, 400, c.code);
    if (*c.field) {
      EXPECT_STREQ(r.Json()["error"]["details"]["field"].GetString(), c.field);
    }
  }
  HttpResult level = Append(id, R"({"type":"logged","data":{"level":"LOUD","message":"x"}})");
  EXPECT_TRUE(level.Json()["error"]["details"]["allowed"].IsArray());
  EXPECT_EQ(Version(id), 2u);
}

TEST_F(ErrorsTest, IdsHeadersAndStatesAnswerTheirOwnCodes) {
  const std::string id = Enqueue();
  ExpectErrorBody(client_->Get("/v1/jobs/not%20an%20id"), 400, "INVALID_JOB_ID");
  ExpectErrorBody(client_->Get("/v1/jobs/" + std::string(129, 'a')), 400, "INVALID_JOB_ID");
  ExpectErrorBody(client_->Get("/v1/jobs/not-a-uuid"), 404, "JOB_NOT_FOUND");
  ExpectErrorBody(client_->Get("/v1/jobs/00000000-0000-4000-8000-000000000000"), 404,
                  "JOB_NOT_FOUND");
  ExpectErrorBody(Append("00000000-0000-4000-8000-000000000000", R"({"type":"started"})"), 404,
                  "JOB_NOT_FOUND");
  ExpectErrorBody(Append(id, R"({"type":"started"})", {"If-Match: soon"}), 400, "INVALID_HEADER");
  ExpectErrorBody(Append(id, R"({"type":"completed"})"), 422, "INVALID_TRANSITION");
  ExpectErrorBody(Append(id, R"({"type":"started"})", {"If-Match: 7"}), 409, "VERSION_CONFLICT");
  ExpectErrorBody(client_->Get("/v1/jobs/" + id + "?at_version=99"), 404, "VERSION_NOT_FOUND");
  ExpectErrorBody(client_->Get("/v1/jobs/" + id + "?at_version=0"), 400, "INVALID_PARAMETER");
  ExpectErrorBody(client_->Get("/v1/jobs/" + id + "?colour=red"), 400, "INVALID_PARAMETER");
  ExpectErrorBody(client_->Get("/v1/jobs/" + id + "/logs?level=LOUD"), 400, "INVALID_PARAMETER");
  ExpectErrorBody(client_->Get("/v1/jobs/" + id + "/result"), 404, "RESULT_NOT_AVAILABLE");
  ExpectErrorBody(client_->Post("/v1/jobs/" + id + "/cancel", "{\"why\":1}"), 400, "INVALID_INPUT");
  EXPECT_EQ(Version(id), 1u);

  // A job id that is taken: 409.
  const std::string fixed = R"({"type":"a","job_id":"11111111-1111-4111-8111-111111111111"})";
  Enqueue(fixed);
  ExpectErrorBody(client_->Post("/v1/jobs", fixed), 409, "JOB_EXISTS");
  ExpectErrorBody(client_->Post("/v1/jobs", R"({"type":"a"})", {"Idempotency-Key: a b"}), 400,
                  "INVALID_HEADER");
}

TEST_F(ErrorsTest, ListFiltersNameTheBadParameterAndTheAllowedValues) {
  struct Case {
    std::string query;
    std::string parameter;
    bool has_allowed;
  };
  const std::vector<Case> cases = {
      {"status=running,sleeping", "status", true}, {"sort=name", "sort", true},
      {"order=up", "order", true},                 {"limit=0", "limit", false},
      {"limit=1001", "limit", false},              {"limit=ten", "limit", false},
      {"skip=-1", "skip", false},                  {"created_after=monday", "created_after", false},
      {"skip=10001", "skip", false},               {"skip=999999999", "skip", false},
      {"stauts=failed", "stauts", true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.query);
    HttpResult r = client_->Get("/v1/jobs?" + c.query);
    ExpectErrorBody(r, 400, "INVALID_PARAMETER");
    auto doc = r.Json();
    EXPECT_EQ(doc["error"]["details"]["parameter"].GetString(), c.parameter);
    EXPECT_EQ(doc["error"]["details"].HasMember("allowed"), c.has_allowed);
    EXPECT_NE(std::string(doc["error"]["message"].GetString()).find(c.parameter), std::string::npos);
  }
  // Past the skip ceiling the message points at cursors; up to it, skip works.
  EXPECT_NE(client_->Get("/v1/jobs?skip=10001").body.find("cursor"), std::string::npos);
  EXPECT_EQ(client_->Get("/v1/jobs?skip=10000").status, 200);
  HttpResult status = client_->Get("/v1/jobs?status=sleeping");
  const auto& allowed = status.Json()["error"]["details"]["allowed"];
  ASSERT_TRUE(allowed.IsArray());
  EXPECT_EQ(allowed.Size(), 6u);
  ExpectErrorBody(client_->Get("/v1/jobs?cursor=garbage"), 400, "INVALID_CURSOR");
  ExpectErrorBody(client_->Get("/v1/events?after=x"), 400, "INVALID_PARAMETER");
  ExpectErrorBody(client_->Get("/v1/events?limit=5000"), 400, "INVALID_PARAMETER");
}

TEST_F(ErrorsTest, RoutingErrors) {
  ExpectErrorBody(client_->Get("/v2/jobs"), 404, "ROUTE_NOT_FOUND");
  HttpResult wrong = client_->Request("DELETE", "/v1/jobs", "", {});
  ExpectErrorBody(wrong, 405, "METHOD_NOT_ALLOWED");
  EXPECT_EQ(wrong.Header("Allow"), "GET, POST");
  HttpResult put = client_->Request("PUT", "/v1/stats", "{}", {});
  ExpectErrorBody(put, 405, "METHOD_NOT_ALLOWED");
}

TEST_F(ErrorsTest, OversizeBodiesAre413AndAppendNothing) {
  std::string big = R"({"type":"a","payload":")" + std::string(options_.max_body_bytes, 'x') + R"("})";
  HttpResult r = client_->Post("/v1/jobs", big);
  ExpectErrorBody(r, 413, "PAYLOAD_TOO_LARGE");
  EXPECT_EQ(r.Json()["error"]["details"]["limit_bytes"].GetUint64(), options_.max_body_bytes);
  // A body just under the limit is fine.
  std::string fits = R"({"type":"a","payload":")" + std::string(options_.max_body_bytes - 100, 'x') + R"("})";
  EXPECT_EQ(client_->Post("/v1/jobs", fits).status, 201);
  EXPECT_EQ(client_->Get("/v1/jobs").Json()["total"].GetUint64(), 1u);

  std::string ops = R"({"operations":[)";
  for (int i = 0; i < 1001; ++i) ops += std::string(i ? "," : "") + R"({"op":"enqueue","job":{"type":"a"}})";
  ops += "]}";
  ExpectErrorBody(client_->Post("/v1/batch", ops), 413, "BATCH_TOO_LARGE");
  EXPECT_EQ(client_->Get("/v1/jobs").Json()["total"].GetUint64(), 1u);
}

TEST_F(ErrorsTest, FarOversizeBodiesAreRefusedUnreadWithTheSame413) {
  // A body declared far beyond the limit (past Pistache's own buffer) is
  // refused by its Content-Length before a byte of it is read or reserved:
  // the same JSON 413, with CORS headers, and the connection closes.
  HttpClient other(base_);
  HttpResult huge = other.Post("/v1/jobs", std::string(2 * options_.max_body_bytes + 4096, 'x'),
                               {"Origin: https://app.example.com"});
  EXPECT_EQ(huge.status, 413) << huge.error;
  EXPECT_EQ(huge.ErrorCode(), "PAYLOAD_TOO_LARGE");
  EXPECT_EQ(huge.Header("Content-Type"), "application/json");
  EXPECT_EQ(huge.Header("Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(huge.Header("Connection"), "Close");
  Stop();
  options_.max_body_bytes = 4096;
  Start();
  HttpResult json = client_->Post("/v1/jobs", std::string(5000, ' ') + R"({"type":"a"})");
  EXPECT_EQ(json.status, 413);
  EXPECT_EQ(json.ErrorCode(), "PAYLOAD_TOO_LARGE");
  EXPECT_EQ(client_->Post("/v1/jobs", R"({"type":"a"})").status, 201);
}

TEST_F(ErrorsTest, CorsHeadersOnAnswersErrorsAndPreflights) {
  const std::string origin = "Origin: https://app.example.com";
  HttpResult error = client_->Get("/v1/jobs/00000000-0000-4000-8000-000000000000", {origin});
  EXPECT_EQ(error.status, 404);
  EXPECT_EQ(error.Header("Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_NE(error.Header("Access-Control-Expose-Headers").find("ETag"), std::string::npos);
  // A browser client reads the limits the seeds document (issue 11).
  for (const char* h : {"Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining",
                        "X-RateLimit-Reset"}) {
    EXPECT_NE(error.Header("Access-Control-Expose-Headers").find(h), std::string::npos) << h;
  }
  HttpResult bad_json = client_->Post("/v1/jobs", "{", {origin});
  EXPECT_EQ(bad_json.status, 400);
  EXPECT_EQ(bad_json.Header("Access-Control-Allow-Origin"), "https://app.example.com");
  HttpResult missing_route = client_->Get("/nowhere", {origin});
  EXPECT_EQ(missing_route.Header("Access-Control-Allow-Origin"), "https://app.example.com");

  HttpResult stranger = client_->Get("/healthz", {"Origin: https://evil.example"});
  EXPECT_EQ(stranger.status, 200);
  EXPECT_FALSE(stranger.HasHeader("Access-Control-Allow-Origin"));
  EXPECT_EQ(stranger.Header("Vary"), "Origin");

  HttpResult preflight = client_->Request(
      "OPTIONS", "/v1/jobs/00000000-0000-4000-8000-000000000000/events", "",
      {origin, "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: if-match"});
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.Header("Access-Control-Allow-Origin"), "https://app.example.com");
  EXPECT_EQ(preflight.Header("Access-Control-Allow-Methods"), "GET, POST, OPTIONS");
  EXPECT_NE(preflight.Header("Access-Control-Allow-Headers").find("If-Match"), std::string::npos);
  EXPECT_EQ(client_->Request("OPTIONS", "/nowhere", "", {origin}).status, 404);
}

TEST_F(ErrorsTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  // curl sends no Connection header; Pistache 0.0.5 would answer
  // "Connection: Close" and force a reconnect per request (STACK.md).
  HttpClient client(base_);
  HttpResult first = client.Get("/healthz");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.new_connections, 1);
  EXPECT_EQ(first.Header("Connection"), "Keep-Alive");
  HttpResult second = client.Get("/v1/stats");
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(second.new_connections, 0) << "the second request opened a new connection";
  HttpResult error = client.Get("/v1/jobs/x!");
  EXPECT_EQ(error.status, 400);
  HttpResult third = client.Post("/v1/jobs", R"({"type":"a"})");
  EXPECT_EQ(third.status, 201);
  EXPECT_EQ(third.new_connections, 0);
  // A client that asks to close gets its wish.
  HttpResult closing = client.Get("/healthz", {"Connection: close"});
  EXPECT_EQ(closing.Header("Connection"), "Close");
  EXPECT_EQ(client.Get("/healthz").new_connections, 1);
}

TEST_F(ErrorsTest, RequestIdsAreEchoedOrGenerated) {
  HttpResult given = client_->Get("/healthz", {"X-Request-Id: trace-abc-123"});
  EXPECT_EQ(given.Header("X-Request-Id"), "trace-abc-123");
  HttpResult generated = client_->Get("/healthz");
  EXPECT_EQ(generated.Header("X-Request-Id").size(), 36u);
  HttpResult hostile = client_->Get("/healthz", {"X-Request-Id: has spaces \"and quotes\""});
  EXPECT_EQ(hostile.Header("X-Request-Id").size(), 36u);
  HttpResult on_error = client_->Get("/v1/jobs/x", {"X-Request-Id: err-1"});
  EXPECT_EQ(on_error.Header("X-Request-Id"), "err-1");
}

TEST_F(ErrorsTest, IdempotentEnqueueAnswersTheOriginalAndAppendsNothing) {
  const std::string body = R"({"type":"pdf","owner":"alice"})";
  HttpResult first = client_->Post("/v1/jobs", body, {"Idempotency-Key: order-42"});
  ASSERT_EQ(first.status, 201);
  const std::string id = first.Json()["job_id"].GetString();
  MustAppend(id, R"({"type":"started","data":{}})");
  const uint64_t position = LogPosition();

  HttpResult again = client_->Post("/v1/jobs", body, {"Idempotency-Key: order-42"});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.Header("Location"), first.Header("Location"));
  EXPECT_EQ(again.Header("Idempotent-Replayed"), "true");
  EXPECT_FALSE(first.HasHeader("Idempotent-Replayed"));
  EXPECT_EQ(LogPosition(), position);
  EXPECT_EQ(client_->Get("/v1/jobs").Json()["total"].GetUint64(), 1u);

  HttpResult other = client_->Post("/v1/jobs", body, {"Idempotency-Key: order-43"});
  EXPECT_EQ(other.status, 201);
  EXPECT_NE(other.Json()["job_id"].GetString(), id);
}

}  // namespace
}  // namespace jobtrail::testing
