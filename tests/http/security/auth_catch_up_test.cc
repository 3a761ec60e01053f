// Authorization while the read models catch up: after a restart with
// rebuilt views the log already has jobs the status read model does not.
// The request gate used to allow a request when its ownership lookup missed
// (and /events, which reads the log, then showed another owner's history);
// now ownership comes from the log when the view lacks the job, and a miss
// never lets a request through. LaggingStore freezes that window.
#include <gtest/gtest.h>

#include "tests/http/lagging_store.h"
#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

constexpr const char* kMarker = "bob-private-marker";
constexpr const char* kGhost = "00000000-0000-4000-8000-000000000000";

class AuthCatchUpTest : public SecureServerTest {
 protected:
  void SetUp() override {
    SecureServerTest::SetUp();
    JobStoreOptions store_options;
    store_options.data_dir = dir_;
    store_options.clock = &clock_;
    if (TestLog()) TestLog()(store_options, log_resource_);  // the same log as Start()'s
    auto real = JobStore::Open(store_options);
    ASSERT_TRUE(real) << real.error().ToString();
    auto lagging = std::make_unique<LaggingStore>(std::move(real).value());
    lagging_ = lagging.get();
    store_ = std::move(lagging);
    auto server = http::HttpServer::Start(*store_, options_);
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(server).value();
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
    client_ = std::make_unique<HttpClient>(base_);
  }
  // A job of `owner` that the log has and the read models do not (yet).
  std::string LaggingJob(const std::string& owner, const std::string& spec) {
    HttpResult r = client_->Post(
        "/v1/jobs",
        "{" + spec + R"(,"owner":")" + owner + R"(","payload":{"note":")" + kMarker + "\"}}",
        Bearer(admin_key_));
    EXPECT_EQ(r.status, 201) << r.body;
    const std::string id = r.Json()["job_id"].GetString();
    HttpResult logged = client_->Post(
        "/v1/jobs/" + id + "/events",
        std::string(R"({"type":"logged","data":{"message":")") + kMarker + "\"}}",
        Bearer(admin_key_));
    EXPECT_EQ(logged.status, 200) << logged.body;
    lagging_->lagging.insert(id);
    return id;
  }
  static std::string Replace(std::string s, const std::string& from, const std::string& to) {
    for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) {
      s.replace(at, from.size(), to);
    }
    return s;
  }
  LaggingStore* lagging_ = nullptr;
};

TEST_F(AuthCatchUpTest, AnotherOwnersJobStaysHiddenWhileTheViewsLag) {
  const std::string bobs = LaggingJob("bob", R"("type":"report")");
  // A link to carol's job, issued before the restart (it names her job).
  const std::string carols = LaggingJob("carol", R"("type":"report")");
  lagging_->lagging.erase(carols);
  const std::string share_other = ShareToken(carols);
  lagging_->lagging.insert(carols);
  for (const char* suffix : {"", "/events", "/result", "/logs"}) {
    const std::string path = std::string("/v1/jobs/") + bobs + suffix;
    HttpResult missing = client_->Get(std::string("/v1/jobs/") + kGhost + suffix,
                                      Bearer(alice_key_));
    ASSERT_EQ(missing.status, 404) << missing.body;
    for (const auto& creds : {Bearer(alice_key_), Bearer(Jwt("alice"))}) {
      HttpResult r = client_->Get(path, creds);
      EXPECT_EQ(r.status, 404) << path << ": " << r.body;
      EXPECT_EQ(r.body, Replace(missing.body, kGhost, bobs)) << path;
      EXPECT_EQ(r.body.find(kMarker), std::string::npos) << path << ": " << r.body;
    }
    HttpResult shared = client_->Get(path + "?token=" + share_other);
    EXPECT_EQ(shared.status, 404) << path << ": " << shared.body;
    EXPECT_EQ(shared.body.find(kMarker), std::string::npos) << shared.body;
  }
  // Writes and shares too.
  EXPECT_EQ(client_->Post("/v1/jobs/" + bobs + "/share", "{}", Bearer(alice_key_)).status, 404);
  EXPECT_EQ(client_->Post("/v1/jobs/" + bobs + "/cancel", "{}", Bearer(alice_key_)).status, 404);
}

TEST_F(AuthCatchUpTest, TheOwnerStillReadsFromTheLog) {
  const std::string bobs = LaggingJob("bob", R"("type":"report")");
  HttpResult history = client_->Get("/v1/jobs/" + bobs + "/events", Bearer(bob_key_));
  EXPECT_EQ(history.status, 200) << history.body;
  EXPECT_NE(history.body.find(kMarker), std::string::npos);
  // The status document comes from the lagging view: not there yet, for
  // its owner as for anyone.
  EXPECT_EQ(client_->Get("/v1/jobs/" + bobs, Bearer(bob_key_)).status, 404);
  // The event feed: bob sees his job's events, alice none of them.
  HttpResult feed = client_->Get("/v1/events?after=0&limit=100", Bearer(bob_key_));
  ASSERT_EQ(feed.status, 200) << feed.body;
  EXPECT_NE(feed.body.find(bobs), std::string::npos) << feed.body;
  HttpResult others = client_->Get("/v1/events?after=0&limit=100", Bearer(alice_key_));
  ASSERT_EQ(others.status, 200) << others.body;
  EXPECT_EQ(others.body.find(bobs), std::string::npos) << others.body;
  EXPECT_EQ(others.body.find(kMarker), std::string::npos);
  // An id no job has is still a 404, whoever asks.
  EXPECT_EQ(client_->Get(std::string("/v1/jobs/") + kGhost + "/events", Bearer(bob_key_)).status,
            404);
}

TEST_F(AuthCatchUpTest, DialectsDecideOwnershipFromTheLogToo) {
  const std::string scenes = LaggingJob("bob", R"("type":"scenes")");
  const std::string relay = LaggingJob("bob", R"("type":"flickr.test.echo","queue":"flickr_rest")");
  const std::string run = LaggingJob("bob", R"("type":"EXPIRE_SERVERS","queue":"worker-jobs")");
  const std::string pdf = LaggingJob("bob", R"("type":"pdf_chapter")");
  const auto alice = Bearer(alice_key_);
  for (const std::string& path :
       {"/api/jobs/scenes/status/" + scenes, "/api/v1/flickr/jobs/" + relay,
        "/v1/jobs/runs/" + run}) {
    HttpResult r = client_->Get(path, alice);
    EXPECT_EQ(r.status, 404) << path << ": " << r.body;
    EXPECT_EQ(r.body.find(kMarker), std::string::npos) << r.body;
  }
  HttpResult pdf_other = client_->Get("/api/v1/books/jobs/" + pdf, alice);
  EXPECT_EQ(pdf_other.status, 403) << pdf_other.body;  // the seed's answer for another user's
  HttpResult posted = client_->Post("/api/v1/flickr/jobs/status",
                                    R"({"job_id":")" + relay + R"(","user_id":"bob"})", alice);
  EXPECT_EQ(posted.status, 404) << posted.body;
  EXPECT_EQ(client_->Get("/api/jobs/scenes/status/" + scenes, Bearer(Jwt("bob"))).status, 200);
}

}  // namespace
}  // namespace jobtrail::testing
