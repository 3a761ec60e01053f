// The real `jobtrail` binary on a PostgreSQL log: `migrate` creates the
// schema (once), `serve --log postgresql://...` runs a job's whole life
// over HTTP with the events in PostgreSQL, a restart keeps everything, a
// second data directory on the same log folds the same read models, and
// `verify --log` checks the chain and the views. Bad --log values and an
// unmigrated database are clear errors.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <thread>

#include "eventstore/postgres/pg_connection.h"
#include "tests/cli/subprocess.h"
#include "tests/cli/two_node_dirs.h"
#include "tests/eventstore/postgres/pg_test_db.h"
#include "tests/http/http_client.h"
#include "tests/cli/server_process.h"

namespace jobtrail::testing {
namespace {

class PostgresProcessTest : public TwoNodeDirsTest {
 protected:
  PostgresProcessTest() : TwoNodeDirsTest(/*migrate=*/false, "jobtrail-pgproc") {}
  // Polls /readyz (bounded): true once the read models caught up.
  static bool WaitReady(HttpClient& client) {
    for (int i = 0; i < 5000; ++i) {
      if (client.Get("/readyz").status == 200) return true;
      std::this_thread::yield();
    }
    return false;
  }
  uint64_t EventsInPostgres() {
    auto conn = eventstore::pg::Connect(db_.url(), "test");
    EXPECT_TRUE(conn);
    if (!conn) return 0;
    auto r = eventstore::pg::Exec(conn.value().get(), "SELECT count(*) FROM jobtrail_events",
                                  nullptr, "count");
    EXPECT_TRUE(r);
    return r ? eventstore::pg::GetU64(r.value().get(), 0, 0) : 0;
  }

};

std::string Field(const HttpResult& r, const char* name) {
  auto doc = r.Json();
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember(name)) return "";
  return doc[name].IsString() ? doc[name].GetString() : std::to_string(doc[name].GetUint64());
}

TEST_F(PostgresProcessTest, MigrateThenServeAJobsLifeOnTheSharedLog) {
  // Before migrate: serve refuses, and says what to do.
  ProcessResult unmigrated =
      Cli({"serve", "--data-dir", dir_a_, "--listen", "127.0.0.1:0", "--log", db_.url()});
  EXPECT_EQ(unmigrated.exit_code, 1);
  EXPECT_NE(unmigrated.err.find("jobtrail migrate"), std::string::npos) << unmigrated.err;

  ProcessResult migrated = Cli({"migrate", "--log", db_.url()});
  ASSERT_EQ(migrated.exit_code, 0) << migrated.err;
  EXPECT_NE(migrated.out.find("from version 0 to 2"), std::string::npos) << migrated.out;
  ProcessResult again = Cli({"migrate", "--log", db_.url()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("nothing to do"), std::string::npos) << again.out;

  std::string id;
  std::string document;
  {
    ServerProcess server(dir_a_, {"--insecure-no-auth", "--log", db_.url()});
    ASSERT_FALSE(server.base().empty());
    HttpClient client(server.base());
    ASSERT_TRUE(WaitReady(client));
    HttpResult enqueued = client.Post("/v1/jobs", R"({"type":"report","queue":"pg"})");
    ASSERT_EQ(enqueued.status, 201) << enqueued.body;
    id = Field(enqueued, "job_id");
    HttpResult claimed = client.Post("/v1/queues/pg/claim", R"({"worker_id":"w1"})");
    ASSERT_EQ(claimed.status, 200) << claimed.body;
    EXPECT_NE(claimed.body.find(id), std::string::npos) << claimed.body;
    const std::string events = "/v1/jobs/" + id + "/events";
    ASSERT_EQ(client.Post(events, R"({"type":"progressed","data":{"percent":50}})").status, 200);
    HttpResult done = client.Post(events, R"({"type":"completed","data":{"result":{"n":1}}})");
    ASSERT_EQ(done.status, 200) << done.body;
    HttpResult status = client.Get("/v1/jobs/" + id);
    ASSERT_EQ(status.status, 200);
    EXPECT_EQ(Field(status, "status"), "completed");
    document = status.body;
    EXPECT_EQ(client.Get("/v1/jobs/" + id + "/result").body, R"({"n":1})");
    HttpResult history = client.Get(events);
    ASSERT_EQ(history.status, 200);
    EXPECT_NE(history.body.find("\"progressed\""), std::string::npos) << history.body;
    const int stopped = server.Stop(SIGTERM);
    ASSERT_TRUE(WIFEXITED(stopped));
    EXPECT_EQ(WEXITSTATUS(stopped), 0);
  }
  // enqueued, started, progressed, completed: in PostgreSQL, not on disk.
  EXPECT_EQ(EventsInPostgres(), 4u);
  EXPECT_FALSE(std::filesystem::exists(dir_a_ + "/log"));

  {  // A restart on the same data directory: everything is there.
    ServerProcess server(dir_a_, {"--insecure-no-auth", "--log", db_.url()});
    HttpClient client(server.base());
    ASSERT_TRUE(WaitReady(client));
    EXPECT_EQ(client.Get("/v1/jobs/" + id).body, document);
    ASSERT_EQ(server.Stop(SIGTERM), 0);
  }
  {  // Another data directory on the same log folds the same read models.
    ServerProcess server(dir_b_, {"--insecure-no-auth", "--log", db_.url()});
    HttpClient client(server.base());
    ASSERT_TRUE(WaitReady(client));
    EXPECT_EQ(client.Get("/v1/jobs/" + id).body, document);
    ASSERT_EQ(server.Stop(SIGTERM), 0);
  }
  ProcessResult verified = Cli({"verify", "--data-dir", dir_a_, "--log", db_.url()});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_NE(verified.out.find("ok: 4 events"), std::string::npos) << verified.out;
  ProcessResult replay = Cli({"replay", "--data-dir", dir_b_, "--log", db_.url(), id});
  EXPECT_EQ(replay.exit_code, 0) << replay.err;
  EXPECT_NE(replay.out.find("completed"), std::string::npos) << replay.out;
}

TEST_F(PostgresProcessTest, BadLogValuesAreUsageErrors) {
  for (const std::string bad : {"mysql://localhost/jobs", "/var/lib/jobtrail",
                                 "postgresql://u@h/db?no_such_setting=1"}) {
    ProcessResult r = Cli({"serve", "--data-dir", dir_a_, "--log", bad});
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_NE(r.err.find("--log"), std::string::npos) << r.err;
  }
  ProcessResult no_url = Cli({"migrate"});
  EXPECT_EQ(no_url.exit_code, 2) << no_url.err;
  // A server that is not there: exit 1, the password never printed.
  ProcessResult down = Cli({"migrate", "--log", "postgresql://u:pw-123456@127.0.0.1:1/db"});
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_EQ(down.err.find("pw-123456"), std::string::npos) << down.err;
  EXPECT_FALSE(std::filesystem::exists(dir_a_));
}

// A data directory with an embedded log is not taken for a shared-log node.
TEST_F(PostgresProcessTest, ADataDirectoryWithAnEmbeddedLogIsRefused) {
  ASSERT_EQ(Cli({"migrate", "--log", db_.url()}).exit_code, 0);
  {
    ServerProcess server(dir_a_);
    ASSERT_FALSE(server.base().empty());
    ASSERT_EQ(server.Stop(SIGTERM), 0);
  }
  ProcessResult r =
      Cli({"serve", "--data-dir", dir_a_, "--listen", "127.0.0.1:0", "--log", db_.url()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("embedded event log"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace jobtrail::testing
