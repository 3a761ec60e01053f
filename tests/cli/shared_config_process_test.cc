// Configuration shared by the nodes of one PostgreSQL log (issue 15): two
// real `jobtrail serve --log postgresql://...` processes on one database.
// An API key created with `jobtrail keys create --log` authenticates on
// both, and once revoked is refused by both; a schedule put through one
// node is read on the other and deleted through it; a share link minted on
// one node opens on the other. Nothing of it is in the nodes' data
// directories. And `jobtrail migrate` upgrades a version-1 database (the
// log only) to version 2 (the shared configuration).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "tests/cli/server_process.h"
#include "tests/cli/subprocess.h"
#include "tests/cli/two_node_dirs.h"
#include "tests/eventstore/postgres/pg_test_db.h"
#include "tests/http/http_client.h"

namespace jobtrail::testing {
namespace {

class SharedConfigProcessTest : public TwoNodeDirsTest {
 protected:
  SharedConfigProcessTest() : TwoNodeDirsTest(/*migrate=*/true, "jobtrail-pgconf") {}
  // `jobtrail keys create --log URL`: the key, printed alone on stdout.
  std::string CreateKey(const std::string& role, const std::string& owner) {
    ProcessResult r = Cli({"keys", "create", "--role", role, "--owner", owner, "--log", db_.url()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string key = r.out;
    while (!key.empty() && key.back() == '\n') key.pop_back();
    EXPECT_EQ(r.err.find(key), std::string::npos) << "the key is on stdout only";
    return key;
  }
  static std::vector<std::string> Bearer(const std::string& key) {
    return {"Authorization: Bearer " + key};
  }
  static std::vector<std::string> JsonAuth(const std::string& key) {
    return {"Authorization: Bearer " + key, "Content-Type: application/json"};
  }
  // Waits (bounded) until `check` holds: a node re-reads the keys at most
  // a second after they change.
  static bool Eventually(const std::function<bool()>& check) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (check()) return true;
      std::this_thread::yield();
    }
    return check();
  }

};

std::string Field(const HttpResult& r, const char* name) {
  auto doc = r.Json();
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember(name) ||
      !doc[name].IsString()) {
    return "";
  }
  return doc[name].GetString();
}

TEST_F(SharedConfigProcessTest, KeysSchedulesAndShareLinksAreTheSameOnEveryNode) {
  const std::string admin = CreateKey("admin", "ops");
  ServerProcess node_a(dir_a_, {"--log", db_.url(), "--no-seed-001-schedules", "--no-rate-limit"});
  ServerProcess node_b(dir_b_, {"--log", db_.url(), "--no-seed-001-schedules", "--no-rate-limit"});
  ASSERT_FALSE(node_a.base().empty());
  ASSERT_FALSE(node_b.base().empty());
  HttpClient a(node_a.base());
  HttpClient b(node_b.base());
  for (HttpClient* node : {&a, &b}) {
    EXPECT_EQ(node->Get("/v1/jobs", Bearer(admin)).status, 200);
    EXPECT_EQ(node->Get("/v1/jobs").status, 401);
  }

  // A key created while both run: accepted by both; revoked: refused by both.
  const std::string reader = CreateKey("reader", "alice");
  for (HttpClient* node : {&a, &b}) {
    EXPECT_TRUE(Eventually([&] { return node->Get("/v1/jobs", Bearer(reader)).status == 200; }));
  }
  ProcessResult listed = Cli({"keys", "list", "--log", db_.url()});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find("alice"), std::string::npos) << listed.out;
  const std::string reader_id = reader.substr(3, 16);  // jt_<id>_<secret>
  EXPECT_EQ(listed.out.find(reader.substr(20)), std::string::npos) << "never a secret";
  ProcessResult revoked = Cli({"keys", "revoke", reader_id, "--log", db_.url()});
  ASSERT_EQ(revoked.exit_code, 0) << revoked.err;
  for (HttpClient* node : {&a, &b}) {
    EXPECT_TRUE(Eventually([&] { return node->Get("/v1/jobs", Bearer(reader)).status == 401; }));
  }
  EXPECT_EQ(a.Get("/v1/jobs", Bearer(admin)).status, 200);

  // A schedule put through A is read on B at once; deleted through B, gone on A.
  HttpResult put = a.Request("PUT", "/v1/schedules/nightly",
                            R"({"cron":"0 3 * * *","time_zone":"Europe/Berlin","queue":"ops"})",
                            JsonAuth(admin));
  ASSERT_EQ(put.status, 200) << put.body;
  HttpResult seen = b.Get("/v1/schedules/nightly", Bearer(admin));
  ASSERT_EQ(seen.status, 200) << seen.body;
  EXPECT_EQ(Field(seen, "time_zone"), "Europe/Berlin") << seen.body;
  EXPECT_NE(b.Get("/v1/schedules", Bearer(admin)).body.find("\"nightly\""), std::string::npos);
  HttpResult replaced = b.Request("PUT", "/v1/schedules/nightly",
                                  R"({"cron":"0 4 * * *","queue":"ops"})", JsonAuth(admin));
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_EQ(Field(a.Get("/v1/schedules/nightly", Bearer(admin)), "cron"), "0 4 * * *");
  ASSERT_EQ(b.Request("DELETE", "/v1/schedules/nightly", "", Bearer(admin)).status, 204);
  EXPECT_EQ(a.Get("/v1/schedules/nightly", Bearer(admin)).status, 404);
  EXPECT_EQ(a.Request("DELETE", "/v1/schedules/nightly", "", Bearer(admin)).status, 404);

  // A share link minted on A opens on B (once B has the job: min_position).
  HttpResult job = a.Post("/v1/jobs", R"({"type":"report","queue":"q"})", Bearer(admin));
  ASSERT_EQ(job.status, 201) << job.body;
  const std::string id = Field(job, "job_id");
  const std::string position = job.Header("X-Log-Position");
  ASSERT_FALSE(position.empty());
  HttpResult shared = a.Post("/v1/jobs/" + id + "/share", "{}", Bearer(admin));
  ASSERT_EQ(shared.status, 201) << shared.body;
  const std::string token = Field(shared, "token");
  HttpResult opened = b.Get("/v1/jobs/" + id + "?min_position=" + position + "&token=" + token);
  EXPECT_EQ(opened.status, 200) << opened.body;
  EXPECT_NE(opened.body.find(id), std::string::npos) << opened.body;
  HttpResult forged = b.Get("/v1/jobs/" + id + "?token=" + token.substr(0, token.size() - 2) +
                            (token.back() == 'A' ? "BB" : "AA"));
  EXPECT_EQ(forged.status, 401) << forged.body;

  // None of it lives in the nodes' data directories.
  for (const std::string& dir : {dir_a_, dir_b_}) {
    for (const char* file : {"keys.json", "schedules.json", "share.key"}) {
      EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(dir) / file)) << dir << file;
    }
  }
  EXPECT_EQ(node_a.Stop(SIGTERM), 0);
  EXPECT_EQ(node_b.Stop(SIGTERM), 0);
}

TEST_F(SharedConfigProcessTest, MigrateUpgradesAVersionOneDatabase) {
  // A database migrated by a build before the shared configuration.
  ASSERT_EQ(db_.Sql("DROP TABLE jobtrail_config; "
                    "DELETE FROM jobtrail_schema_migrations WHERE version = 2"),
            "");
  ProcessResult refused = Cli({"keys", "create", "--role", "admin", "--log", db_.url()});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("jobtrail migrate"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.out, "");
  ProcessResult serve =
      Cli({"serve", "--data-dir", dir_a_, "--listen", "127.0.0.1:0", "--log", db_.url()});
  EXPECT_EQ(serve.exit_code, 1);
  EXPECT_NE(serve.err.find("version 1"), std::string::npos) << serve.err;

  ProcessResult migrated = Cli({"migrate", "--log", db_.url()});
  ASSERT_EQ(migrated.exit_code, 0) << migrated.err;
  EXPECT_NE(migrated.out.find("from version 1 to 2"), std::string::npos) << migrated.out;
  EXPECT_NE(migrated.out.find("shared configuration"), std::string::npos) << migrated.out;
  const std::string admin = CreateKey("admin", "ops");
  ServerProcess node(dir_a_, {"--log", db_.url()});
  ASSERT_FALSE(node.base().empty());
  EXPECT_EQ(HttpClient(node.base()).Get("/v1/jobs", Bearer(admin)).status, 200);
  EXPECT_EQ(node.Stop(SIGTERM), 0);
}

// The default (RocksDB) node keeps its configuration in files, as before.
TEST_F(SharedConfigProcessTest, AnEmbeddedLogNodeKeepsItsFiles) {
  ProcessResult created = Cli({"keys", "create", "--role", "admin", "--data-dir", dir_a_});
  ASSERT_EQ(created.exit_code, 0) << created.err;
  std::string admin = created.out;
  admin.pop_back();
  ServerProcess node(dir_a_, {});
  HttpClient client(node.base());
  HttpResult put =
      client.Request("PUT", "/v1/schedules/nightly", R"({"cron":"0 3 * * *"})", JsonAuth(admin));
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(node.Stop(SIGTERM), 0);
  for (const char* file : {"keys.json", "schedules.json", "share.key"}) {
    EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(dir_a_) / file)) << file;
  }
}

}  // namespace
}  // namespace jobtrail::testing
