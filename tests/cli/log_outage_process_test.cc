// A real `jobtrail serve --log postgresql://...` whose PostgreSQL goes away
// (stopped at once, as a crash would: every connection cut) and comes back
// on the same address: while it is gone, writes and the reads that need the
// log answer 503 STORAGE_UNAVAILABLE with Retry-After, reads of the local
// read models go on, and /readyz says why it is not ready; once it is back,
// the same process writes again (its writer, read pool and listener
// reconnect by themselves) and nothing acknowledged before is lost.
//
// The failover of a primary to its standby (Patroni) is
// patroni_failover_test.cc; this one needs only the single-server harness.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "tests/cli/server_process.h"
#include "tests/cli/subprocess.h"
#include "tests/eventstore/postgres/pg_server.h"
#include "tests/http/http_client.h"

namespace jobtrail::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Polls `done` until it holds or `limit` passed: a condition wait (the
// pause only spaces the polls; nothing depends on its length).
bool WaitUntil(std::chrono::seconds limit, const std::function<bool()>& done) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

TEST(LogOutageProcessTest, AnswersUnavailableWhileThePrimaryIsGoneAndWritesAgainAfter) {
  // A server of its own: this test stops it, which the shared fixture's
  // other tests must never see.
  std::string error;
  auto pg = testing_pg::PgServer::Start(&error);
  ASSERT_NE(pg, nullptr) << error;
  const std::string url = pg->Url("postgres");
  ASSERT_EQ(RunProcess({JOBTRAIL_BINARY, "migrate", "--log", url}).exit_code, 0);
  std::string dir = (std::filesystem::temp_directory_path() / "jobtrail-outage-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  std::filesystem::remove(dir);  // serve creates it (0700)
  auto node = std::make_unique<ServerProcess>(
      dir, std::vector<std::string>{"--insecure-no-auth", "--log", url});
  ASSERT_FALSE(node->base().empty());
  HttpClient c(node->base());

  HttpResult before = c.Post("/v1/jobs", R"({"type":"t","queue":"q"})");
  ASSERT_EQ(before.status, 201) << before.body;
  const std::string id = before.Json()["job_id"].GetString();
  ASSERT_EQ(c.Get("/readyz").status, 200);

  ASSERT_TRUE(pg->Halt(&error)) << error;

  // Writes: not acknowledged, a stable code, when to come back.
  HttpResult refused = c.Post("/v1/jobs", R"({"type":"t","queue":"q"})");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.ErrorCode(), "STORAGE_UNAVAILABLE") << refused.body;
  EXPECT_EQ(refused.Header("Retry-After"), "1");
  HttpResult claim = c.Post("/v1/queues/q/claim", R"({"worker_id":"w"})");
  EXPECT_EQ(claim.status, 503) << claim.body;
  EXPECT_EQ(claim.ErrorCode(), "STORAGE_UNAVAILABLE") << claim.body;
  // A read that needs the log: 503 too, never a partial history.
  HttpResult history = c.Get("/v1/jobs/" + id + "/events");
  EXPECT_EQ(history.status, 503) << history.body;
  EXPECT_EQ(history.ErrorCode(), "STORAGE_UNAVAILABLE") << history.body;
  // The read models are this node's own: they answer, as of what they hold.
  HttpResult status = c.Get("/v1/jobs/" + id);
  EXPECT_EQ(status.status, 200) << status.body;
  // Not ready, and why, in stable words.
  HttpResult ready = c.Get("/readyz");
  EXPECT_EQ(ready.status, 503) << ready.body;
  auto doc = ready.Json();
  ASSERT_TRUE(doc.IsObject()) << ready.body;
  const auto& details = doc["error"]["details"];
  ASSERT_TRUE(details.IsObject()) << ready.body;
  EXPECT_STREQ(details["reason"].GetString(), "storage_unavailable") << ready.body;
  EXPECT_STREQ(details["storage"]["log"].GetString(), "no_primary") << ready.body;
  EXPECT_FALSE(details["writable"].GetBool());

  ASSERT_TRUE(pg->Resume(&error)) << error;

  // The same process writes again; until then every answer is a 503.
  std::string after_id;
  uint64_t after_position = 0;
  ASSERT_TRUE(WaitUntil(std::chrono::seconds(60), [&] {
    HttpResult r = c.Post("/v1/jobs", R"({"type":"t","queue":"q"})");
    if (r.status == 201) {
      after_id = r.Json()["job_id"].GetString();
      after_position = std::stoull(r.Header("X-Log-Position"));
      return true;
    }
    EXPECT_EQ(r.status, 503) << r.body;
    return false;
  }));
  EXPECT_TRUE(WaitUntil(std::chrono::seconds(60), [&] { return c.Get("/readyz").status == 200; }));
  const std::string at = "?min_position=" + std::to_string(after_position);
  EXPECT_EQ(c.Get("/v1/jobs/" + after_id + at).status, 200);
  EXPECT_EQ(c.Get("/v1/jobs/" + id + "/events").status, 200);
  // Nothing acknowledged was lost, and what the client never got an answer
  // for (the refused write) is not there.
  HttpResult all = c.Get("/v1/jobs?queue=q&limit=10" +
                         std::string("&min_position=") + std::to_string(after_position));
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.Json()["total"].GetUint64(), 2u) << all.body;

  const int stopped = node->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(stopped) && WEXITSTATUS(stopped) == 0);
  node.reset();
  ProcessResult verified = RunProcess({JOBTRAIL_BINARY, "verify", "--data-dir", dir, "--log", url});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace jobtrail::testing
