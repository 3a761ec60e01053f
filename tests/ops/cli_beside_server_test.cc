// The CLI reads a data directory that a running `jobtrail serve` holds
// (RocksDB secondaries, no lock taken): replay, export and verify succeed
// while the server takes writes, and see every write it acknowledged
// before they started; commands that write refuse clearly.
#include <gtest/gtest.h>

#include "tests/cli/server_process.h"
#include "tests/ops/ops_fixture.h"
#include "tests/ops/write_load.h"

namespace jobtrail::testing {
namespace {

using CliBesideServerTest = OpsTest;

TEST_F(CliBesideServerTest, ReplayExportAndVerifyWhileTheServerWrites) {
  const std::string data = dir_ + "/data";
  ServerProcess server(data);
  ASSERT_FALSE(server.base().empty());
  HttpClient client(server.base());
  ASSERT_TRUE(WaitReady(client));
  WriteLoad load(server.base(), 3, "beside");
  ASSERT_TRUE(load.WaitForMore(120)) << load.failure();

  const auto before = load.Acknowledged();
  ExpectAllIn(data, before);  // export

  std::string finished;  // a job whose completion was acknowledged
  for (const auto& [job, version] : before) {
    if (version == 4) finished = job;
  }
  ASSERT_FALSE(finished.empty());
  ProcessResult replay = Jobtrail({"replay", "--data-dir", data, finished});
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  for (const char* step : {"enqueued", "started", "progressed", "completed", "-> completed"}) {
    EXPECT_NE(replay.out.find(step), std::string::npos) << step << " in\n" << replay.out;
  }

  const auto before_verify = load.Acknowledged();
  ProcessResult verify = Jobtrail({"verify", "--data-dir", data});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("ok:"), std::string::npos) << verify.out;
  EXPECT_GE(std::stoull(verify.out.substr(verify.out.find("ok: ") + 4)), Writes(before_verify));

  // Writing commands need the directory to themselves: a clear refusal.
  ProcessResult rebuild = Jobtrail({"rebuild", "--data-dir", data});
  EXPECT_EQ(rebuild.exit_code, 1);
  EXPECT_NE(rebuild.err.find("in use by another process"), std::string::npos) << rebuild.err;

  // The server never noticed: it kept taking writes all along.
  ASSERT_TRUE(load.WaitForMore(20)) << load.failure();
  load.Stop();
  EXPECT_EQ(load.failure(), "");
  EXPECT_EQ(client.Get("/healthz").status, 200);
  ExpectAllIn(data, load.Acknowledged());
}

}  // namespace
}  // namespace jobtrail::testing
