// Long-polls against a real server (127.0.0.1:0, a store in a temp dir):
// GET /v1/jobs/{id}?wait=N with If-None-Match, and the seed dialects'
// opt-in `wait`. Deadlines run on the live module's manual clock.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/http/live/live_fixture.h"

namespace jobtrail::testing {
namespace {

class LongPollTest : public LiveTest {};

TEST_F(LongPollTest, AnswersAsSoonAsTheJobChanges) {
  const std::string id = Enqueue();
  auto poll = AsyncGet("/v1/jobs/" + id + "?wait=30", {"If-None-Match: \"1\""});
  ASSERT_TRUE(WaitForWaiters(1));
  EXPECT_FALSE(Ready(poll)) << "answered before anything changed";
  MustAppend(id, R"({"type":"started","data":{"worker_id":"w1"}})");
  HttpResult r = poll.get();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["version"].GetUint64(), 2u);
  EXPECT_EQ(r.Json()["status"].GetString(), std::string("running"));
  EXPECT_EQ(r.Header("ETag"), "\"2\"");
  EXPECT_FALSE(r.Header("X-Request-Id").empty());
  // The hub counts the answer once it is handed to the socket, which may be
  // just after the client has read it.
  EXPECT_TRUE(WaitForHub([](const http::live::LiveStats& s) {
    return s.waiters == 0 && s.answered == 1;
  }));
}

TEST_F(LongPollTest, Answers304WhenTheWaitRunsOut) {
  const std::string id = Enqueue();
  auto poll = AsyncGet("/v1/jobs/" + id + "?wait=30", {"If-None-Match: \"1\""});
  ASSERT_TRUE(WaitForWaiters(1));
  Advance(29'999);
  EXPECT_FALSE(Ready(poll));
  EXPECT_EQ(hub().Stats().waiters, 1u);
  Advance(1);
  HttpResult r = poll.get();
  EXPECT_EQ(r.status, 304) << r.body;
  EXPECT_EQ(r.Header("ETag"), "\"1\"");
  EXPECT_TRUE(r.body.empty());
}

TEST_F(LongPollTest, WaitsAtMostSixtySeconds) {
  const std::string id = Enqueue();
  auto poll = AsyncGet("/v1/jobs/" + id + "?wait=3600", {"If-None-Match: \"1\""});
  ASSERT_TRUE(WaitForWaiters(1));
  Advance(59'999);
  EXPECT_FALSE(Ready(poll));
  Advance(1);
  EXPECT_EQ(poll.get().status, 304);
}

TEST_F(LongPollTest, AnswersAtOnceWhenThereIsNothingToWaitFor) {
  const std::string id = Enqueue();
  const std::string path = "/v1/jobs/" + id;
  // No If-None-Match, or one that names another version: the document now.
  EXPECT_EQ(client_->Get(path + "?wait=30").status, 200);
  EXPECT_EQ(client_->Get(path + "?wait=30", {"If-None-Match: \"7\""}).status, 200);
  // wait=0 and no wait at all: the plain conditional GET.
  EXPECT_EQ(client_->Get(path + "?wait=0", {"If-None-Match: \"1\""}).status, 304);
  EXPECT_EQ(client_->Get(path, {"If-None-Match: \"1\""}).status, 304);
  // A past version never changes.
  EXPECT_EQ(client_->Get(path + "?at_version=1&wait=30", {"If-None-Match: \"1\""}).status, 304);
  EXPECT_EQ(hub().Stats().waiters, 0u);
}

TEST_F(LongPollTest, RefusesABadWaitAndUnknownJobs) {
  const std::string id = Enqueue();
  HttpResult bad = client_->Get("/v1/jobs/" + id + "?wait=soon", {"If-None-Match: \"1\""});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.ErrorCode(), "INVALID_PARAMETER");
  HttpResult negative = client_->Get("/v1/jobs/" + id + "?wait=-1");
  EXPECT_EQ(negative.status, 400);
  HttpResult missing = client_->Get("/v1/jobs/00000000-0000-4000-8000-000000000000?wait=30",
                                    {"If-None-Match: \"1\""});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.ErrorCode(), "JOB_NOT_FOUND");
  EXPECT_EQ(hub().Stats().waiters, 0u);
}

TEST_F(LongPollTest, ManyWaitersOnOneJobAreAllAnswered) {
  const std::string id = Enqueue();
  std::vector<std::future<HttpResult>> polls;
  for (int i = 0; i < 20; ++i) {
    polls.push_back(AsyncGet("/v1/jobs/" + id + "?wait=30", {"If-None-Match: \"1\""}));
  }
  ASSERT_TRUE(WaitForWaiters(20));
  MustAppend(id, R"({"type":"started","data":{"worker_id":"w1"}})");
  for (auto& poll : polls) {
    HttpResult r = poll.get();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.Header("ETag"), "\"2\"");
  }
}

TEST_F(LongPollTest, AClientThatLeavesLeavesNothingParked) {
  const std::string id = Enqueue();
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server_->port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string request = "GET /v1/jobs/" + id +
                              "?wait=30 HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"1\"\r\n\r\n";
  ASSERT_EQ(write(fd, request.data(), request.size()), ssize_t(request.size()));
  ASSERT_TRUE(WaitForWaiters(1));
  close(fd);
  EXPECT_TRUE(WaitForWaiters(0));
  // The job goes on; nothing is sent to a connection that is gone.
  MustAppend(id, R"({"type":"started","data":{"worker_id":"w1"}})");
  EXPECT_EQ(hub().Stats().answered, 0u);
}

TEST_F(LongPollTest, ShutdownAnswersParkedPolls) {
  const std::string id = Enqueue();
  auto poll = AsyncGet("/v1/jobs/" + id + "?wait=30", {"If-None-Match: \"1\""});
  ASSERT_TRUE(WaitForWaiters(1));
  server_->Shutdown();
  EXPECT_EQ(poll.get().status, 304);
}

// The seed dialects opt in with `wait`: the seed's own answer, once the job
// changed after the request came (their clients know no 304).
TEST_F(LongPollTest, SeedDialectsWaitForTheNextChange) {
  const std::string chapter = Enqueue(R"({"type":"pdf_chapter","owner":"u1"})");
  auto poll = AsyncGet("/api/v1/books/jobs/" + chapter + "?wait=30");
  ASSERT_TRUE(WaitForWaiters(1));
  EXPECT_FALSE(Ready(poll));
  MustAppend(chapter, R"({"type":"started","data":{"worker_id":"w1"}})");
  HttpResult r = poll.get();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["status"].GetString(), std::string("processing"));

  // Seed 000 finds the job by its captcha id, in either case.
  const std::string form = Enqueue(
      R"({"type":"form-fill","queue":"forms","external_ref":"507f1f77bcf86cd799439011"})");
  auto form_poll = AsyncGet("/api/job-status/507F1F77BCF86CD799439011?wait=30");
  ASSERT_TRUE(WaitForWaiters(1));
  MustAppend(form, R"({"type":"started","data":{"worker_id":"w1"}})");
  HttpResult f = form_poll.get();
  ASSERT_EQ(f.status, 200) << f.body;
  EXPECT_EQ(f.Json()["data"]["status"].GetString(), std::string("processing"));

  // At the deadline, the seed's answer as it stands.
  auto idle = AsyncGet("/api/v1/books/jobs/" + chapter + "?wait=5");
  ASSERT_TRUE(WaitForWaiters(1));
  Advance(5'000);
  EXPECT_EQ(idle.get().status, 200);
}

TEST_F(LongPollTest, SeedDialectsAnswerFinalJobsAndErrorsAtOnce) {
  const std::string chapter = Enqueue(R"({"type":"pdf_chapter","owner":"u1"})");
  MustAppend(chapter, R"({"type":"started","data":{"worker_id":"w1"}})");
  MustAppend(chapter, R"({"type":"completed","data":{"result":{"url":"x"}}})");
  EXPECT_EQ(client_->Get("/api/v1/books/jobs/" + chapter + "?wait=30").status, 200);
  // Not a job of seed 003's type: its 404, in its shape, without waiting.
  const std::string other = Enqueue(R"({"type":"email"})");
  HttpResult r = client_->Get("/api/v1/books/jobs/" + other + "?wait=30");
  EXPECT_EQ(r.status, 404);
  EXPECT_TRUE(r.Json().HasMember("detail")) << r.body;
  // A bad wait, in the seed's error shape.
  HttpResult bad = client_->Get("/api/v1/books/jobs/" + chapter + "?wait=x");
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(bad.Json().HasMember("detail")) << bad.body;
  EXPECT_EQ(hub().Stats().waiters, 0u);
}

}  // namespace
}  // namespace jobtrail::testing
