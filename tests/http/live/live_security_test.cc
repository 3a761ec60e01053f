// Live routes follow the read rules: a job's long-poll and stream are reads
// of that job (another owner's is 404, as a missing one), the feed shows a
// non-admin only its own jobs' events, a share link reads its one job.
#include "tests/http/live/live_fixture.h"

namespace jobtrail::testing {
namespace {

class LiveSecurityTest : public SecureServerTest, public LiveModule {
 protected:
  void SetUp() override {
    SecureServerTest::SetUp();
    Enable(options_);
    Start();
  }
  std::string Url(const std::string& path) const { return base_ + path; }
  static std::vector<std::string> Header(const std::string& key) {
    return {"Authorization: Bearer " + key};
  }
  void AppendAsAdmin(const std::string& id, const std::string& body) {
    HttpResult r = client_->Post("/v1/jobs/" + id + "/events", body, Bearer(admin_key_));
    ASSERT_EQ(r.status, 200) << r.body;
  }
};

TEST_F(LiveSecurityTest, AnotherOwnersJobIsNotFoundForPollsAndStreams) {
  const std::string alices = EnqueueFor("alice");
  const HttpResult missing = client_->Get("/v1/jobs/00000000-0000-4000-8000-000000000000",
                                          Bearer(bob_key_));
  HttpResult poll = client_->Get("/v1/jobs/" + alices + "?wait=30",
                                 {"Authorization: Bearer " + bob_key_, "If-None-Match: \"1\""});
  EXPECT_EQ(poll.status, 404);
  HttpResult stream = client_->Get("/v1/jobs/" + alices + "/stream", Bearer(bob_key_));
  EXPECT_EQ(stream.status, 404);
  EXPECT_EQ(stream.ErrorCode(), "JOB_NOT_FOUND");
  EXPECT_EQ(client_->Get("/v1/jobs/" + alices + "/stream").status, 401);
  EXPECT_EQ(hub().Stats().waiters, 0u);
  EXPECT_EQ(hub().Stats().streams, 0u);
  (void)missing;
}

TEST_F(LiveSecurityTest, AReadersFeedNeverCarriesAnotherOwnersEvent) {
  const std::string alices = EnqueueFor("alice");
  const std::string bobs = EnqueueFor("bob");
  // Bob's stream from the start of the log, and live.
  StreamReader reader(Url("/v1/events/stream?after=0"), Header(bob_key_));
  ASSERT_TRUE(reader.WaitUntil([](const auto& e) { return EventIds(e).size() >= 1; }));
  // Alice's events come first, bob's last: in position order, an event of
  // alice's would have arrived before bob's.
  for (int i = 0; i < 5; ++i) {
    AppendAsAdmin(alices, R"({"type":"logged","data":{"level":"INFO","message":"alice's"}})");
  }
  const std::string alices_second = EnqueueFor("alice");
  AppendAsAdmin(bobs, R"({"type":"logged","data":{"level":"INFO","message":"bob's"}})");
  ASSERT_TRUE(reader.WaitUntil([](const auto& e) { return EventIds(e).size() >= 2; }));
  // And bob naming alice gets nothing of hers either.
  StreamReader asks(Url("/v1/events/stream?after=0&owner=alice&limit=1"), Header(bob_key_));
  AppendAsAdmin(bobs, R"({"type":"logged","data":{"level":"INFO","message":"bob's again"}})");
  ASSERT_TRUE(reader.WaitUntil([](const auto& e) { return EventIds(e).size() >= 3; }));
  for (const SseEvent& e : reader.events()) {
    if (e.id.empty()) continue;
    EXPECT_NE(e.data.find(bobs), std::string::npos) << e.data;
    EXPECT_EQ(e.data.find(alices), std::string::npos) << e.data;
    EXPECT_EQ(e.data.find(alices_second), std::string::npos) << e.data;
  }
  EXPECT_EQ(EventIds(reader.events()).size(), 3u);
  EXPECT_TRUE(EventIds(asks.events()).empty());
  // The admin's feed has everything.
  StreamReader admin(Url("/v1/events/stream?after=0&limit=10"), Header(admin_key_));
  ASSERT_TRUE(admin.WaitFinished());
  EXPECT_EQ(EventIds(admin.events()).size(), 10u);
}

TEST_F(LiveSecurityTest, WorkersSeeTheirOwnJobsInTheFeedAndAnyJobById) {
  const std::string alices = EnqueueFor("alice");
  HttpResult own = client_->Post("/v1/jobs", R"({"type":"report"})", Bearer(worker_key_));
  ASSERT_EQ(own.status, 201);
  const std::string svc_job = own.Json()["job_id"].GetString();
  StreamReader feed(Url("/v1/events/stream?after=0&limit=1"), Header(worker_key_));
  ASSERT_TRUE(feed.WaitFinished());
  ASSERT_EQ(EventIds(feed.events()).size(), 1u);
  for (const SseEvent& e : feed.events()) {
    if (!e.id.empty()) EXPECT_NE(e.data.find(svc_job), std::string::npos) << e.data;
  }
  // By id, a worker reads any job, its stream too.
  AppendAsAdmin(alices, R"({"type":"cancelled","data":{"reason":"r"}})");
  StreamReader job(Url("/v1/jobs/" + alices + "/stream?after_version=0"), Header(worker_key_));
  ASSERT_TRUE(job.WaitFinished());
  EXPECT_EQ(EventIds(job.events()).size(), 2u);
}

TEST_F(LiveSecurityTest, AShareLinkStreamsItsJobOnly) {
  const std::string alices = EnqueueFor("alice");
  const std::string other = EnqueueFor("alice");
  const std::string token = ShareToken(alices);
  AppendAsAdmin(alices, R"({"type":"cancelled","data":{"reason":"r"}})");
  StreamReader mine(Url("/v1/jobs/" + alices + "/stream?after_version=0&token=" + token), {});
  ASSERT_TRUE(mine.WaitFinished());
  EXPECT_EQ(mine.result().status, 200);
  EXPECT_EQ(EventIds(mine.events()).size(), 2u);
  EXPECT_EQ(client_->Get("/v1/jobs/" + other + "/stream?token=" + token).status, 404);
  EXPECT_EQ(client_->Get("/v1/events/stream?token=" + token).status, 403);
}

TEST_F(LiveSecurityTest, AReaderLongPollsItsOwnJob) {
  const std::string alices = EnqueueFor("alice");
  auto poll = std::async(std::launch::async, [&] {
    HttpClient c(base_);
    return c.Get("/v1/jobs/" + alices + "?wait=30",
                 {"Authorization: Bearer " + alice_key_, "If-None-Match: \"1\""});
  });
  ASSERT_TRUE(WaitForWaiters(1));
  AppendAsAdmin(alices, R"({"type":"started","data":{"worker_id":"w"}})");
  HttpResult r = poll.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("ETag"), "\"2\"");
}

}  // namespace
}  // namespace jobtrail::testing
