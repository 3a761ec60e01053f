// The reference worker process against a real server on a manual clock:
// it claims, heartbeats, reports, errors with screenshots (the store
// retries), and a worker that dies holding a job loses it to lease expiry.
#include "tests/cli/subprocess.h"
#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

class ReferenceWorkerTest : public ServerTest {
 protected:
  void SetUp() override {
    manual_clock_ = true;
    ServerTest::SetUp();
  }
  ProcessResult Work(std::vector<std::string> args) {
    args.insert(args.begin(), {REFERENCE_WORKER, "--url", base_, "--queue", "forms"});
    return RunProcess(args);
  }
  std::string StatusOf(const std::string& id) {
    return client_->Get("/v1/jobs/" + id).Json()["status"].GetString();
  }
};

TEST_F(ReferenceWorkerTest, WorksTheQueueAndTheStoreRetriesItsErrors) {
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(Enqueue(R"({"type":"form-fill","queue":"forms"})"));

  ProcessResult first = Work({"--worker-id", "w1", "--error-every", "3"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.out.find("handled 6 job(s), 2 errored"), std::string::npos) << first.out;
  int retrying = 0;
  for (const auto& id : ids) retrying += StatusOf(id) == "retrying";
  EXPECT_EQ(retrying, 2);

  clock_.Advance(3600 * 1000);  // past every backoff
  ProcessResult second = Work({"--worker-id", "w2"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("handled 2 job(s), 0 errored"), std::string::npos) << second.out;
  for (const auto& id : ids) EXPECT_EQ(StatusOf(id), "completed") << id;

  // The audit story of a job that errored once (which ones did depends on
  // the claim order: same priority and time, so job-id order).
  int told = 0;
  for (const auto& id : ids) {
    auto doc = client_->Get("/v1/jobs/" + id + "/events").Json();
    std::vector<std::string> story, actors;
    for (const auto& e : doc["events"].GetArray()) {
      story.push_back(e["type"].GetString());
      actors.push_back(e["actor"].GetString());
    }
    if (story.size() == 5) continue;  // completed at the first attempt
    ++told;
    // The heartbeat carries the progress; the log line and the final event
    // rode on the next claim.
    ASSERT_EQ(story, (std::vector<std::string>{"enqueued", "started", "progressed", "logged",
                                               "errored", "retried", "started", "progressed",
                                               "logged", "completed"}));
    EXPECT_EQ(actors[5], "system");
    EXPECT_EQ(actors[6], "w2");
  }
  EXPECT_EQ(told, 2);
}

TEST_F(ReferenceWorkerTest, AKilledWorkersJobIsRetriedAfterItsLease) {
  const std::string id = Enqueue(R"({"type":"form-fill","queue":"forms"})");
  ProcessResult dead = Work({"--worker-id", "doomed", "--die-after", "1"});
  ASSERT_EQ(dead.exit_code, 0) << dead.err;
  EXPECT_EQ(StatusOf(id), "running");

  clock_.Advance(30001);
  auto pass = client_->Post("/v1/maintenance", "").Json();
  EXPECT_EQ(pass["leases_expired"].GetUint64(), 1u);
  EXPECT_EQ(StatusOf(id), "retrying");

  clock_.Advance(3600 * 1000);
  ProcessResult rescue = Work({"--worker-id", "rescuer"});
  ASSERT_EQ(rescue.exit_code, 0) << rescue.err;
  EXPECT_EQ(StatusOf(id), "completed");
  auto events = client_->Get("/v1/jobs/" + id + "/events").Json()["events"].GetArray();
  EXPECT_STREQ(events[2]["type"].GetString(), "errored");
  EXPECT_STREQ(events[2]["data"]["error_type"].GetString(), "LeaseExpired");
  EXPECT_NE(std::string(events[2]["data"]["message"].GetString()).find("doomed"), std::string::npos);
  EXPECT_STREQ(events[2]["actor"].GetString(), "system");
}

}  // namespace
}  // namespace jobtrail::testing
