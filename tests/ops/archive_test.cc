// Log compaction with the real binary: `serve --archive-dir` with a short
// retention archives expired jobs while the server runs; `replay` of an
// archived job tells its whole story from the archive, `export --job`
// prints it, `verify` proves the chain across the archived ranges - beside
// the running server and after a restart.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>

#include "tests/cli/server_process.h"
#include "tests/ops/ops_fixture.h"

namespace jobtrail::testing {
namespace {

using ArchiveTest = OpsTest;

// Polls (bounded: two minutes) until `done` holds.
template <typename Fn>
bool WaitUntil(Fn done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a poll interval
  }
  return false;
}

TEST_F(ArchiveTest, ArchivedJobsReplayWholeAndVerifyClean) {
  const std::string data = dir_ + "/data";
  const std::vector<std::string> flags = {"--insecure-no-auth", "--archive-dir", data + "/archive",
                                          "--retention", "short=1s", "--tick-ms", "50"};
  std::vector<std::string> ids;
  {
    ServerProcess server(data, flags);
    ASSERT_FALSE(server.base().empty());
    HttpClient client(server.base());
    ASSERT_TRUE(WaitReady(client));
    for (int i = 0; i < 5; ++i) {
      const std::string id = "short-" + std::to_string(i);
      ASSERT_EQ(client.Post("/v1/jobs", R"({"type":"short","job_id":")" + id + R"("})").status, 201);
      const std::string events = "/v1/jobs/" + id + "/events";
      ASSERT_EQ(client.Post(events, R"({"type":"started","data":{"worker_id":"w"}})").status, 200);
      ASSERT_EQ(client.Post(events, R"({"type":"logged","data":{"message":"step )" +
                                        std::to_string(i) + R"("}})").status, 200);
      ASSERT_EQ(client.Post(events, R"({"type":"completed","data":{"result":{"i":)" +
                                        std::to_string(i) + "}}}").status, 200);
      ids.push_back(id);
    }
    ASSERT_EQ(client.Post("/v1/jobs", R"({"type":"long","job_id":"stays"})").status, 201);
    // Past their retention the jobs expire, then leave the log.
    ASSERT_TRUE(WaitUntil([&] {
      ProcessResult r = Jobtrail({"verify", "--data-dir", data});
      return r.exit_code == 0 && r.out.find("(25 of them in the archive)") != std::string::npos;
    })) << Jobtrail({"verify", "--data-dir", data}).out;
    EXPECT_EQ(client.Get("/v1/jobs/short-0").status, 404);
    EXPECT_EQ(client.Get("/v1/jobs/stays").status, 200);
    // Beside the running server: the story, read from the archive.
    ProcessResult replay = Jobtrail({"replay", "--data-dir", data, "short-3"});
    ASSERT_EQ(replay.exit_code, 0) << replay.err;
    for (const char* step : {"enqueued", "started", "logged", "step 3", "completed", "expired"}) {
      EXPECT_NE(replay.out.find(step), std::string::npos) << step << " in\n" << replay.out;
    }
    ProcessResult exported = Jobtrail({"export", "--data-dir", data, "--job", "short-3"});
    ASSERT_EQ(exported.exit_code, 0) << exported.err;
    EXPECT_EQ(std::count(exported.out.begin(), exported.out.end(), '\n'), 5);
    // The id is never handed out again.
    EXPECT_EQ(client.Post("/v1/jobs", R"({"type":"short","job_id":"short-0"})").status, 409);
    ASSERT_EQ(server.Stop(SIGTERM), 0);
  }
  bool archived = false;
  for (const auto& entry : std::filesystem::directory_iterator(data + "/archive")) {
    archived = archived || entry.path().string().find(".ndjson.gz") != std::string::npos;
  }
  EXPECT_TRUE(archived);
  // After a restart: ready (the head may be archived), still whole.
  ServerProcess server(data, flags);
  HttpClient client(server.base());
  ASSERT_TRUE(WaitReady(client));
  EXPECT_EQ(client.Get("/v1/jobs/stays").status, 200);
  ProcessResult verify = Jobtrail({"verify", "--data-dir", data});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  ProcessResult replay = Jobtrail({"replay", "--json", "--data-dir", data, "short-0"});
  EXPECT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_EQ(std::count(replay.out.begin(), replay.out.end(), '\n'), 5);
}

}  // namespace
}  // namespace jobtrail::testing
