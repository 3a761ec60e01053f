// Seed 004 (API relay jobs): the documented POST status route with its
// 400/404 envelopes (another user's job is indistinguishable from an
// unknown one), and the two GET routes it proposes, owner from the token.
#include <gtest/gtest.h>

#include "tests/http/dialects/test_util.h"
#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

constexpr const char* kUser = "09b4e414-4f70-4226-9ee8-f9e815fc2539";

class ApiRelay004Test : public SecureServerTest {
 protected:
  void SetUp() override {
    SecureServerTest::SetUp();
    Start();
  }
  std::string EnqueueRelay(const std::string& owner) {
    HttpResult r = client_->Post(
        "/v1/jobs", R"({"type":"flickr.test.echo","queue":"flickr_rest","owner":")" + owner +
                        R"(","max_attempts":2})",
        Bearer(admin_key_));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json()["job_id"].GetString();
  }
  void Append(const std::string& id, const std::string& body) {
    HttpResult r = client_->Post("/v1/jobs/" + id + "/events", body, Bearer(worker_key_));
    ASSERT_EQ(r.status, 200) << body << " -> " << r.body;
  }
  // As the job's owner (kUser): the seed sends no credentials, jobtrail
  // needs them unless --public-dialect 004.
  HttpResult PostStatus(const std::string& body) {
    return client_->Post("/api/v1/flickr/jobs/status", body,
                         {"X-Request-Id: req-xxx", "Authorization: Bearer " + Jwt(kUser)});
  }
  std::string Body(const std::string& id, const std::string& user) {
    return R"({"job_id":")" + id + R"(","user_id":")" + user + R"("})";
  }
};

constexpr const char* kReturnValue = R"({"from_cache":false,"flickr":{"stat":"ok",
  "method":{"_content":"flickr.test.echo"},"name":{"_content":"callback-test"}},
  "observability":{"ok":true,"status":202}})";

TEST_F(ApiRelay004Test, CompletedAndFailedJobsInTheSeedsEnvelope) {
  const std::string done = EnqueueRelay(kUser);
  Append(done, std::string(R"({"events":[{"type":"started"},{"type":"completed","data":{"result":)") +
                   kReturnValue + "}}]}");
  HttpResult r = PostStatus(Body(done, kUser));
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectMatchesSeed(r.body, R"({"request_id":"req-xxx","data":{"id":")" + done +
                                R"(","state":"completed","returnvalue":)" + kReturnValue +
                                R"(,"failedReason":null,"stacktrace":[],"queue":"flickr_rest"},
    "error":null})");

  const std::string failed = EnqueueRelay(kUser);
  Append(failed, R"({"events":[{"type":"started"},{"type":"failed","data":{
    "reason":"Token not found for userId=...","stack":"Error: ...\n    at ..."}}]})");
  ExpectMatchesSeed(PostStatus(Body(failed, kUser)).body, R"({"request_id":"req-xxx","data":{
    "id":")" + failed + R"(","state":"failed","returnvalue":null,
    "failedReason":"Token not found for userId=...","stacktrace":["Error: ...","at ..."],
    "queue":"flickr_rest"},"error":null})");
}

TEST_F(ApiRelay004Test, QueuedAndRetryingStates) {
  const std::string id = EnqueueRelay(kUser);
  auto state = [&] { return std::string(PostStatus(Body(id, kUser)).Json()["data"]["state"].GetString()); };
  EXPECT_EQ(state(), "queued");
  Append(id, R"({"type":"started"})");
  EXPECT_EQ(state(), "queued");
  Append(id, R"({"events":[{"type":"errored","data":{"message":"429"}},{"type":"retried",
    "data":{"next_run_at":"2030-01-01T00:00:00Z"}}]})");
  EXPECT_EQ(state(), "retrying");
  Append(id, R"({"type":"started"})");
  EXPECT_EQ(state(), "retrying");
}

// A job that errored, was retried and then completed shows the seed's
// completed shape: no stack (issue 11: the retried error's stack showed).
TEST_F(ApiRelay004Test, ACompletedJobHasNoStackEvenAfterARetriedError) {
  const std::string id = EnqueueRelay(kUser);
  Append(id, R"({"events":[{"type":"started"},{"type":"errored","data":{"message":"429",
    "stack":"Error: 429\n    at fetch"}},{"type":"retried","data":{"next_run_at":"2030-01-01T00:00:00Z"}}]})");
  EXPECT_EQ(PostStatus(Body(id, kUser)).Json()["data"]["stacktrace"].Size(), 2u);  // while retrying
  Append(id, R"({"events":[{"type":"started"},{"type":"completed","data":{"result":{"ok":true}}}]})");
  auto data = PostStatus(Body(id, kUser)).Json();
  EXPECT_STREQ(data["data"]["state"].GetString(), "completed");
  EXPECT_EQ(data["data"]["stacktrace"].Size(), 0u);
}

TEST_F(ApiRelay004Test, MissingFieldsAre400AndOwnershipNeverLeaks) {
  const std::string id = EnqueueRelay(kUser);
  const std::string invalid = R"({"request_id":"req-xxx","data":null,"error":{
    "code":"ERR_INVALID_REQUEST","message":"job_id and user_id are required"}})";
  for (const std::string& body : {std::string(R"({"job_id":")") + id + "\"}",
                                  std::string(R"({"user_id":"u"})"), std::string("{}"),
                                  std::string(""), std::string("[1]")}) {
    HttpResult r = PostStatus(body);
    EXPECT_EQ(r.status, 400) << body;
    ExpectMatchesSeed(r.body, invalid);
  }
  const std::string not_found = R"({"request_id":"req-xxx","data":null,"error":{
    "code":"ERR_JOB_NOT_FOUND","message":"job_not_found"}})";
  HttpResult other = PostStatus(Body(id, "someone-else"));
  HttpResult unknown = PostStatus(Body("e6b6634c-e07c-43f0-88b3-9516590aad77", kUser));
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(unknown.status, 404);
  ExpectMatchesSeed(other.body, not_found);
  EXPECT_EQ(other.body, unknown.body);
}

TEST_F(ApiRelay004Test, ProposedGetRoutesTakeTheOwnerFromTheToken) {
  const std::string id = EnqueueRelay(kUser);
  Append(id, std::string(R"({"events":[{"type":"started"},{"type":"completed","data":{"result":)") +
                 kReturnValue + "}}]}");
  const auto mine = Bearer(Jwt(kUser));
  HttpResult r = client_->Get("/api/v1/flickr/jobs/" + id, mine);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_STREQ(r.Json()["data"]["state"].GetString(), "completed");
  HttpResult result = client_->Get("/api/v1/flickr/jobs/" + id + "/result", mine);
  ASSERT_EQ(result.status, 200) << result.body;
  ExpectJsonMatches(result.Json()["data"], rapidjson::Document().Parse(kReturnValue), "$.data");
  EXPECT_TRUE(result.Json()["error"].IsNull());

  HttpResult other = client_->Get("/api/v1/flickr/jobs/" + id, Bearer(Jwt("someone-else")));
  HttpResult unknown = client_->Get("/api/v1/flickr/jobs/e6b6634c-e07c-43f0-88b3-9516590aad77", mine);
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(other.Json()["error"], unknown.Json()["error"]);
  HttpResult anonymous = client_->Get("/api/v1/flickr/jobs/" + id);
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_STREQ(anonymous.Json()["error"]["code"].GetString(), "ERR_UNAUTHORIZED");

  const std::string pending = EnqueueRelay(kUser);
  HttpResult not_ready = client_->Get("/api/v1/flickr/jobs/" + pending + "/result", mine);
  EXPECT_EQ(not_ready.status, 404);
  EXPECT_STREQ(not_ready.Json()["error"]["code"].GetString(), "ERR_RESULT_NOT_AVAILABLE");
}

}  // namespace
}  // namespace jobtrail::testing
