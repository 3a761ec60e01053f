// `jobtrail backup` while a real `jobtrail serve` runs and takes writes from
// concurrent HTTP clients: the copy verifies clean, holds every write
// acknowledged before the backup began, and serves (restore = serve from
// the copy), its read models catching up from its log.
#include <gtest/gtest.h>
#include <signal.h>

#include "tests/cli/server_process.h"
#include "tests/ops/ops_fixture.h"
#include "tests/ops/write_load.h"

namespace jobtrail::testing {
namespace {

using BackupTest = OpsTest;

TEST_F(BackupTest, CliBackupUnderWriteLoadHoldsEveryAcknowledgedWrite) {
  const std::string data = dir_ + "/data";
  const std::string copy = dir_ + "/copy";
  ServerProcess server(data);
  ASSERT_FALSE(server.base().empty());
  HttpClient client(server.base());
  ASSERT_TRUE(WaitReady(client));
  std::map<std::string, uint64_t> before;
  {
    WriteLoad load(server.base(), 4, "cli");
    ASSERT_TRUE(load.WaitForMore(600)) << load.failure();
    before = load.Acknowledged();  // taken before the backup starts
    ProcessResult backup = Jobtrail({"backup", "--data-dir", data, "--to", copy});
    ASSERT_EQ(backup.exit_code, 0) << backup.err;
    EXPECT_NE(backup.out.find("backup written to"), std::string::npos) << backup.out;
    // Writes went on during and after the backup.
    ASSERT_TRUE(load.WaitForMore(50)) << load.failure();
    load.Stop();
    EXPECT_EQ(load.failure(), "");
  }
  std::cout << "acknowledged before the backup: " << Writes(before) << " writes to "
            << before.size() << " jobs\n";

  ProcessResult verified = Jobtrail({"verify", "--data-dir", copy});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_NE(verified.out.find("ok:"), std::string::npos) << verified.out;
  ExpectAllIn(copy, before);

  // Restore: serve from the copy while the original goes on.
  ServerProcess restored(copy);
  ASSERT_FALSE(restored.base().empty());
  HttpClient reader(restored.base());
  ASSERT_TRUE(WaitReady(reader));
  for (const auto& [job, version] : before) {
    HttpResult r = reader.Get("/v1/jobs/" + job);
    ASSERT_EQ(r.status, 200) << job;
    EXPECT_GE(r.Json()["version"].GetUint64(), version) << job;
  }
  HttpResult more = reader.Post("/v1/jobs", R"({"type":"after-restore"})");
  EXPECT_EQ(more.status, 201) << more.body;
  EXPECT_EQ(client.Get("/healthz").status, 200);  // the original is untouched
}

TEST_F(BackupTest, BackupOfAStoppedStoreAndRefusals) {
  const std::string data = dir_ + "/data";
  {
    ServerProcess server(data);
    HttpClient client(server.base());
    ASSERT_TRUE(WaitReady(client));
    ASSERT_EQ(client.Post("/v1/jobs", R"({"type":"t","job_id":"stopped-1"})").status, 201);
    ASSERT_EQ(server.Stop(SIGTERM), 0);
  }
  ProcessResult ok = Jobtrail({"backup", "--data-dir", data, "--to", dir_ + "/copy"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ExportedVersions(dir_ + "/copy")["stopped-1"], 1u);
  // The copy keeps the data directory's owner-only mode, and its files.
  EXPECT_EQ(std::filesystem::status(dir_ + "/copy").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_all);

  // An existing destination is refused and left as it was.
  ProcessResult again = Jobtrail({"backup", "--data-dir", data, "--to", dir_ + "/copy"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;
  EXPECT_EQ(Jobtrail({"verify", "--data-dir", dir_ + "/copy"}).exit_code, 0);
  // A missing parent, a missing source, a missing flag.
  EXPECT_EQ(Jobtrail({"backup", "--data-dir", data, "--to", dir_ + "/no/such/dir"}).exit_code, 1);
  ProcessResult missing = Jobtrail({"backup", "--data-dir", dir_ + "/nope", "--to", dir_ + "/c2"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("does not exist"), std::string::npos) << missing.err;
  EXPECT_EQ(Jobtrail({"backup", "--data-dir", data}).exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/c2"));
}

}  // namespace
}  // namespace jobtrail::testing
