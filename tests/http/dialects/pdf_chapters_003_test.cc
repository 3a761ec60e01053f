// Seed 003 (PDF chapter jobs): the polling route behind bearer tokens, in
// every state its document shows, with its 401/403/404 bodies and CORS
// headers on every answer, and the 7-day retention of the job type.
#include <gtest/gtest.h>

#include "http/dialects/pdf_chapters_003.h"
#include "projections/job_json.h"
#include "tests/http/dialects/test_util.h"
#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

constexpr const char* kUser = "17BeaeikPBQYk8OWeDUkqm0Ov8e2";
constexpr const char* kOrigin = "https://wordai.pro";

class PdfChapters003Test : public SecureServerTest {
 protected:
  void SetUp() override {
    SecureServerTest::SetUp();
    options_.cors_origins = {kOrigin};
    clock_.Set(*ParseTime("2026-02-08T00:10:28.325Z"));
    // What `jobtrail serve` configures by default.
    retention_by_type_[std::string(http::kPdfChapterJobType)] = http::kPdfChapterRetentionMs;
    Start();
    id_ = EnqueueChapter(kUser);
  }
  std::string EnqueueChapter(const std::string& owner) {
    HttpResult r = client_->Post("/v1/jobs", R"({"type":"pdf_chapter","owner":")" + owner + R"("})",
                                 Bearer(admin_key_));
    EXPECT_EQ(r.status, 201) << r.body;
    const std::string id = r.Json()["job_id"].GetString();
    Append(id, R"({"type":"logged","data":{"message":"PDF chapter creation job enqueued"}})");
    return id;
  }
  void Append(const std::string& id, const std::string& body) {
    HttpResult r = client_->Post("/v1/jobs/" + id + "/events", body, Bearer(worker_key_));
    ASSERT_EQ(r.status, 200) << body << " -> " << r.body;
  }
  void At(const char* time) { clock_.Set(*ParseTime(time)); }
  HttpResult Poll(const std::string& id, const std::string& token) {
    std::vector<std::string> headers = {std::string("Origin: ") + kOrigin};
    if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
    HttpResult r = client_->Get("/api/v1/books/jobs/" + id, headers);
    EXPECT_EQ(r.Header("Access-Control-Allow-Origin"), kOrigin) << r.status << " " << r.body;
    // The seed's client fetches with credentials: 'include'.
    EXPECT_EQ(r.Header("Access-Control-Allow-Credentials"), "true");
    return r;
  }
  std::string Head() {
    return R"({"job_id":")" + id_ + R"(","user_id":")" + kUser + R"(",)";
  }
  std::string id_;
};

// The seed's message is a string in every state, also for a job that
// never reported one (issue 11: it was null).
TEST_F(PdfChapters003Test, MessageIsAlwaysAString) {
  HttpResult created = client_->Post("/v1/jobs", R"({"type":"pdf_chapter","owner":")" + std::string(kUser) + R"("})",
                                     Bearer(admin_key_));
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string id = created.Json()["job_id"].GetString();
  const std::string token = Jwt(kUser);
  auto pending = Poll(id, token).Json();
  EXPECT_STREQ(pending["message"].GetString(), "PDF chapter creation job enqueued");
  Append(id, R"({"type":"started","data":{}})");
  EXPECT_STREQ(Poll(id, token).Json()["message"].GetString(), "Processing PDF");
  Append(id, R"({"type":"completed","data":{"result":{"chapter_id":"c1","total_pages":3}}})");
  EXPECT_STREQ(Poll(id, token).Json()["message"].GetString(), "Chapter created successfully");
}

TEST_F(PdfChapters003Test, EveryStateOfTheSeedWithItsFields) {
  const std::string token = Jwt(kUser);
  HttpResult r = Poll(id_, token);
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectMatchesSeed(r.body, Head() + R"("status":"pending","progress":0,
    "message":"PDF chapter creation job enqueued","created_at":"2026-02-08T00:10:28.325Z",
    "updated_at":"2026-02-08T00:10:28.325Z"})");

  At("2026-02-08T00:10:35.123Z");
  Append(id_, R"({"events":[{"type":"started"},{"type":"progressed","data":{"percent":10,
    "message":"Downloading PDF: document.pdf"}}]})");
  ExpectMatchesSeed(Poll(id_, token).body, Head() + R"("status":"processing","progress":10,
    "message":"Downloading PDF: document.pdf","created_at":"2026-02-08T00:10:28.325Z",
    "updated_at":"2026-02-08T00:10:35.123Z"})");

  At("2026-02-08T00:16:45.123Z");
  Append(id_, R"({"events":[{"type":"progressed","data":{"percent":100,
    "message":"Chapter created successfully with 283 pages"}},{"type":"completed","data":{
    "result":{"chapter_id":"3939f17c-a8ea-4000-be89-9e7e6f5ca4e9","total_pages":283}}}]})");
  ExpectMatchesSeed(Poll(id_, token).body, Head() + R"("status":"completed","progress":100,
    "message":"Chapter created successfully with 283 pages","result":{
    "chapter_id":"3939f17c-a8ea-4000-be89-9e7e6f5ca4e9","total_pages":283},
    "created_at":"2026-02-08T00:10:28.325Z","updated_at":"2026-02-08T00:16:45.123Z",
    "completed_at":"2026-02-08T00:16:45.123Z"})");
}

TEST_F(PdfChapters003Test, FailedJobIs200WithItsError) {
  At("2026-02-08T00:12:30.456Z");
  Append(id_, R"({"events":[{"type":"started"},{"type":"progressed","data":{"percent":35,
    "message":"PDF processing failed: Out of memory"}},{"type":"failed","data":
    {"reason":"Out of memory"}}]})");
  HttpResult r = Poll(id_, Jwt(kUser));
  ASSERT_EQ(r.status, 200) << r.body;
  ExpectMatchesSeed(r.body, Head() + R"("status":"failed","progress":35,
    "message":"PDF processing failed: Out of memory","error":"Out of memory",
    "created_at":"2026-02-08T00:10:28.325Z","updated_at":"2026-02-08T00:12:30.456Z",
    "failed_at":"2026-02-08T00:12:30.456Z"})");
}

TEST_F(PdfChapters003Test, ErrorsAreTheSeedsDetailBodies) {
  for (const std::string& token : {std::string(), std::string("not-a-token"),
                                   Jwt(kUser, "", "another-audience")}) {
    HttpResult r = Poll(id_, token);
    EXPECT_EQ(r.status, 401) << token;
    ExpectMatchesSeed(r.body, R"({"detail":"Could not validate credentials"})");
  }
  HttpResult other = Poll(id_, Jwt("someone-else"));
  EXPECT_EQ(other.status, 403);
  ExpectMatchesSeed(other.body, R"({"detail":"Access denied to this job"})");
  const std::string unknown = "db67a850-1efd-41f7-88ed-b434ef108bc5";
  HttpResult missing = Poll(unknown, Jwt(kUser));
  EXPECT_EQ(missing.status, 404);
  ExpectMatchesSeed(missing.body, R"({"detail":"Job )" + std::string(unknown) + R"( not found"})");
  // Workers and admins read any job; an API key is a bearer token too.
  EXPECT_EQ(Poll(id_, worker_key_).status, 200);
}

TEST_F(PdfChapters003Test, BrowserPreflightAllowsTheSeedsCredentialedFetch) {
  HttpResult preflight = client_->Request(
      "OPTIONS", "/api/v1/books/jobs/" + id_, "",
      {std::string("Origin: ") + kOrigin, "Access-Control-Request-Method: GET",
       "Access-Control-Request-Headers: authorization"});
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.Header("Access-Control-Allow-Origin"), kOrigin);
  EXPECT_EQ(preflight.Header("Access-Control-Allow-Credentials"), "true");
  EXPECT_NE(preflight.Header("Access-Control-Allow-Headers").find("Authorization"),
            std::string::npos);
  EXPECT_NE(preflight.Header("Access-Control-Allow-Methods").find("GET"), std::string::npos);
  // Another site gets none of it.
  HttpResult other = client_->Request("OPTIONS", "/api/v1/books/jobs/" + id_, "",
                                      {"Origin: https://evil.example"});
  EXPECT_EQ(other.Header("Access-Control-Allow-Origin"), "");
  EXPECT_EQ(other.Header("Access-Control-Allow-Credentials"), "");
}

TEST_F(PdfChapters003Test, JobsExpireSevenDaysAfterCreation) {
  const std::string token = Jwt(kUser, "", kAudience, 30 * 24 * 3600);
  const std::string other = EnqueueFor("alice");  // a type without retention
  clock_.Advance(http::kPdfChapterRetentionMs - 1);
  EXPECT_EQ(Poll(id_, token).status, 200);
  clock_.Advance(1);
  HttpResult gone = Poll(id_, token);
  EXPECT_EQ(gone.status, 404);
  ExpectMatchesSeed(gone.body, R"({"detail":"Job )" + id_ + R"( not found"})");
  // Gone from the canonical API too, before any maintenance pass ...
  EXPECT_EQ(client_->Get("/v1/jobs/" + id_, Bearer(admin_key_)).status, 404);
  EXPECT_EQ(client_->Get("/v1/jobs/" + id_ + "/events", Bearer(admin_key_)).status, 404);
  // ... and takes no more events.
  HttpResult late = client_->Post("/v1/jobs/" + id_ + "/events",
                                  R"({"type":"logged","data":{"message":"late"}})",
                                  Bearer(worker_key_));
  EXPECT_EQ(late.status, 404) << late.body;
  // The pass records the expiry as an event; the views drop the job.
  HttpResult pass = client_->Post("/v1/maintenance", "{}", Bearer(admin_key_));
  ASSERT_EQ(pass.status, 200) << pass.body;
  EXPECT_EQ(pass.Json()["expired"].GetInt(), 1) << pass.body;
  auto list = client_->Get("/v1/jobs?type=pdf_chapter", Bearer(admin_key_)).Json();
  EXPECT_EQ(list["items"].Size(), 0u);
  EXPECT_EQ(client_->Get("/v1/jobs/" + other, Bearer(admin_key_)).status, 200);
  // A second pass finds nothing more to do.
  EXPECT_EQ(client_->Post("/v1/maintenance", "{}", Bearer(admin_key_)).Json()["expired"].GetInt(),
            0);
  EXPECT_EQ(Poll(id_, token).status, 404);
}

// Under a prefix the dialect's routes keep their access rules (the request
// gate learns the prefixed patterns), and the seed's own paths are gone.
class PdfChaptersPrefixTest : public SecureServerTest {
 protected:
  void SetUp() override {
    SecureServerTest::SetUp();
    options_.dialects.prefix = "/compat";
    Start();
  }
};

TEST_F(PdfChaptersPrefixTest, PrefixedRouteAuthenticatesItself) {
  HttpResult r = client_->Post("/v1/jobs", R"({"type":"pdf_chapter","owner":"alice"})",
                               Bearer(admin_key_));
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = r.Json()["job_id"].GetString();
  HttpResult mine = client_->Get("/compat/api/v1/books/jobs/" + id, Bearer(Jwt("alice")));
  EXPECT_EQ(mine.status, 200) << mine.body;
  HttpResult anonymous = client_->Get("/compat/api/v1/books/jobs/" + id);
  EXPECT_EQ(anonymous.status, 401);
  ExpectMatchesSeed(anonymous.body, R"({"detail":"Could not validate credentials"})");
  EXPECT_EQ(client_->Get("/api/v1/books/jobs/" + id, Bearer(Jwt("alice"))).status, 404);
}

}  // namespace
}  // namespace jobtrail::testing
