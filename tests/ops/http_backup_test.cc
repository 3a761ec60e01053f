// POST /v1/admin/backup on a real server under write load: 202 and a status
// resource to poll, a copy that verifies and holds every write acknowledged
// before the request; names are plain names (no path traversal), the route
// is for admins only and off unless the operator configured a directory.
#include <gtest/gtest.h>

#include <chrono>

#include "tests/cli/server_process.h"
#include "tests/ops/ops_fixture.h"
#include "tests/ops/write_load.h"

namespace jobtrail::testing {
namespace {

class HttpBackupTest : public OpsTest {
 protected:
  // Polls the status resource until the backup is no longer running
  // (bounded: a minute). Returns the last answer.
  static HttpResult WaitFinished(HttpClient& client, const std::string& url,
                                 const std::vector<std::string>& headers = {}) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    HttpResult r;
    while (std::chrono::steady_clock::now() < deadline) {
      r = client.Get(url, headers);
      if (r.status != 200 || std::string(r.Json()["status"].GetString()) != "running") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a poll interval
    }
    return r;
  }
  std::string CreateKey(const std::string& data, const std::string& role) {
    ProcessResult r = Jobtrail({"keys", "create", "--role", role, "--data-dir", data});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string key = r.out;
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
    return key;
  }
};

TEST_F(HttpBackupTest, BackupUnderWriteLoadHoldsEveryAcknowledgedWrite) {
  const std::string data = dir_ + "/data";
  const std::string backups = dir_ + "/backups";
  ServerProcess server(data, {"--insecure-no-auth", "--backup-dir", backups});
  ASSERT_FALSE(server.base().empty());
  HttpClient client(server.base());
  ASSERT_TRUE(WaitReady(client));
  std::map<std::string, uint64_t> before;
  std::string status_url;
  {
    WriteLoad load(server.base(), 4, "http");
    ASSERT_TRUE(load.WaitForMore(600)) << load.failure();
    before = load.Acknowledged();
    HttpResult started = client.Post("/v1/admin/backup", R"({"name":"nightly-1"})");
    ASSERT_EQ(started.status, 202) << started.body;
    status_url = started.Header("Location");
    EXPECT_EQ(status_url, "/v1/admin/backups/nightly-1");
    EXPECT_EQ(std::string(started.Json()["status"].GetString()), "running");
    // One at a time, and a name is used once.
    // One at a time: a second one while the first runs is refused (unless
    // the first has finished by then; then it runs, and is waited for).
    HttpResult second = client.Post("/v1/admin/backup", R"({"name":"nightly-2"})");
    HttpResult done = WaitFinished(client, status_url);
    if (second.status == 409) {
      EXPECT_EQ(second.ErrorCode(), "BACKUP_RUNNING");
    } else {
      EXPECT_EQ(second.status, 202) << second.body;
      EXPECT_EQ(std::string(WaitFinished(client, "/v1/admin/backups/nightly-2").Json()["status"]
                                .GetString()),
                "completed");
    }
    ASSERT_EQ(done.status, 200);
    EXPECT_EQ(std::string(done.Json()["status"].GetString()), "completed") << done.body;
    EXPECT_GE(done.Json()["log_position"].GetUint64(), Writes(before)) << done.body;
    EXPECT_LE(done.Json()["views_position"].GetUint64(),
              done.Json()["log_position"].GetUint64());
    ASSERT_TRUE(load.WaitForMore(50)) << load.failure();
    load.Stop();
    EXPECT_EQ(load.failure(), "");
  }
  const std::string copy = backups + "/nightly-1";
  ProcessResult verified = Jobtrail({"verify", "--data-dir", copy});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  ExpectAllIn(copy, before);

  HttpResult again = client.Post("/v1/admin/backup", R"({"name":"nightly-1"})");
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.ErrorCode(), "BACKUP_EXISTS");
  HttpResult list = client.Get("/v1/admin/backups");
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.find(R"("name":"nightly-1","status":"completed")"), std::string::npos)
      << list.body;
  // Without a name, the time names it.
  HttpResult unnamed = client.Post("/v1/admin/backup", "");
  ASSERT_EQ(unnamed.status, 202) << unnamed.body;
  EXPECT_EQ(std::string(unnamed.Json()["name"].GetString()).rfind("backup-", 0), 0u);
  EXPECT_EQ(std::string(WaitFinished(client, unnamed.Header("Location")).Json()["status"]
                            .GetString()),
            "completed");
}

TEST_F(HttpBackupTest, NamesArePlainNamesNeverPaths) {
  const std::string data = dir_ + "/data";
  const std::string backups = dir_ + "/inner/backups";
  ServerProcess server(data, {"--insecure-no-auth", "--backup-dir", backups});
  HttpClient client(server.base());
  ASSERT_TRUE(WaitReady(client));
  for (const std::string& name : std::vector<std::string>{"../escaped", "../../escaped", "..", ".", "a/b", "/tmp/escaped", ".hidden", "-rf",
        "x.partial-1", "a\\\\b", "", std::string(101, 'a'), "caf\\u00e9", "tab\\there"}) {
    HttpResult r = client.Post("/v1/admin/backup", R"({"name":")" + name + R"("})");
    EXPECT_EQ(r.status, 400) << name << ": " << r.body;
    EXPECT_EQ(r.ErrorCode(), "INVALID_INPUT") << name;
  }
  EXPECT_EQ(client.Post("/v1/admin/backup", R"({"name":7})").status, 400);
  EXPECT_EQ(client.Post("/v1/admin/backup", R"({"name":"a","to":"/tmp"})").status, 400);
  EXPECT_EQ(client.Post("/v1/admin/backup", R"({"name":)").status, 400);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/inner/escaped"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/escaped"));
  EXPECT_TRUE(std::filesystem::is_empty(backups));
  for (const std::string& path : std::vector<std::string>{"/v1/admin/backups/..", "/v1/admin/backups/..%2F..%2Fdata",
                                 "/v1/admin/backups/nope", "/v1/admin/backups/%2Fetc"}) {
    HttpResult r = client.Get(path);
    EXPECT_EQ(r.status, 404) << path << ": " << r.body;
  }
}

TEST_F(HttpBackupTest, AdminsOnlyAndOffUnlessConfigured) {
  const std::string data = dir_ + "/data";
  const std::string admin = CreateKey(data, "admin");
  const std::string worker = CreateKey(data, "worker");
  {
    ServerProcess server(data, {"--backup-dir", dir_ + "/backups"});
    HttpClient client(server.base());
    EXPECT_EQ(client.Post("/v1/admin/backup", "{}").status, 401);
    EXPECT_EQ(client.Post("/v1/admin/backup", "{}", {"Authorization: Bearer " + worker}).status,
              403);
    EXPECT_EQ(client.Get("/v1/admin/backups", {"Authorization: Bearer " + worker}).status, 403);
    HttpResult ok = client.Post("/v1/admin/backup", R"({"name":"by-admin"})",
                                {"Authorization: Bearer " + admin});
    ASSERT_EQ(ok.status, 202) << ok.body;
    EXPECT_EQ(client.Get(ok.Header("Location"), {"Authorization: Bearer " + worker}).status, 403);
    HttpResult done =
        WaitFinished(client, ok.Header("Location"), {"Authorization: Bearer " + admin});
    EXPECT_EQ(std::string(done.Json()["status"].GetString()), "completed") << done.body;
  }
  // The copy carries the keys: the admin key works on a server restored from it.
  ServerProcess restored(dir_ + "/backups/by-admin", {});
  HttpClient client(restored.base());
  EXPECT_EQ(client.Get("/v1/stats", {"Authorization: Bearer " + admin}).status, 200);
  HttpResult off = client.Post("/v1/admin/backup", "{}", {"Authorization: Bearer " + admin});
  EXPECT_EQ(off.status, 422) << off.body;
  EXPECT_EQ(off.ErrorCode(), "BACKUP_NOT_CONFIGURED");
}

}  // namespace
}  // namespace jobtrail::testing
