// Schedules over HTTP, on a manual clock: define, list with the next run,
// trigger a run, isRunning follows it, delete; bad definitions are 400s.
#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

class ScheduleApiTest : public ServerTest {
 protected:
  void SetUp() override {
    manual_clock_ = true;
    ServerTest::SetUp();
  }
};

TEST_F(ScheduleApiTest, DefineListTriggerRunAndDelete) {
  HttpResult put = client_->Request(
      "PUT", "/v1/schedules/expire-servers",
      R"({"cron":"0 * * * *","display_name":"ExpireServers","job_type":"EXPIRE_SERVERS"})", {});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_STREQ(put.Json()["next_run_at"].GetString(), "2024-01-15T11:00:00.000Z");
  EXPECT_FALSE(put.Json()["running"].GetBool());

  // Listed beside any others the server registered (e.g. seed 001's).
  auto listed = client_->Get("/v1/schedules").Json();
  bool found = false;
  for (const auto& s : listed["schedules"].GetArray()) {
    if (std::string(s["name"].GetString()) != "expire-servers") continue;
    found = true;
    EXPECT_STREQ(s["display_name"].GetString(), "ExpireServers");
    EXPECT_STREQ(s["catch_up"].GetString(), "once");
  }
  EXPECT_TRUE(found);

  HttpResult run = client_->Post("/v1/schedules/expire-servers/trigger", "");
  ASSERT_EQ(run.status, 201) << run.body;
  const std::string id = run.Json()["job_id"].GetString();
  EXPECT_EQ(run.Header("Location"), "/v1/jobs/" + id);
  auto job = client_->Get("/v1/jobs/" + id).Json();
  EXPECT_STREQ(job["type"].GetString(), "EXPIRE_SERVERS");
  EXPECT_STREQ(job["labels"]["trigger"].GetString(), "manual");

  MustAppend(id, R"({"type":"started","data":{"worker_id":"w1"}})");
  EXPECT_TRUE(client_->Get("/v1/schedules/expire-servers").Json()["running"].GetBool());
  MustAppend(id, R"({"type":"completed","data":{}})");
  EXPECT_FALSE(client_->Get("/v1/schedules/expire-servers").Json()["running"].GetBool());

  EXPECT_EQ(client_->Request("DELETE", "/v1/schedules/expire-servers", "", {}).status, 204);
  HttpResult gone = client_->Get("/v1/schedules/expire-servers");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.ErrorCode(), "SCHEDULE_NOT_FOUND");
}

TEST_F(ScheduleApiTest, BadDefinitionsAreRejected) {
  for (const char* body : {R"({"cron":"61 * * * *"})", R"({"cron":"* * * *"})",
                           R"({"cron":"@daily","time_zone":"Mars/Olympus"})",
                           R"({"cron":"@daily","catch_up":"sometimes"})",
                           R"({"cron":"@daily","colour":"blue"})", R"({"time_zone":"UTC"})"}) {
    HttpResult r = client_->Request("PUT", "/v1/schedules/x", body, {});
    EXPECT_EQ(r.status, 400) << body << " -> " << r.body;
  }
  EXPECT_EQ(client_->Post("/v1/schedules/nope/trigger", "").status, 404);
  EXPECT_EQ(client_->Get("/v1/schedules/x").status, 404);  // nothing was stored
}

}  // namespace
}  // namespace jobtrail::testing
