// The real `jobtrail serve` binary as a subprocess on 127.0.0.1:0: a
// restart in the middle of jobs' lives loses nothing, SIGTERM exits
// cleanly, and every acknowledged write survives kill -9.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <thread>
#include <vector>

#include "tests/cli/server_process.h"
#include "tests/http/http_client.h"

namespace jobtrail::testing {
namespace {

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / "jobtrail-proc-XXXXXX").string();
    ASSERT_NE(mkdtemp(dir_.data()), nullptr);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // Polls /readyz (bounded): true once the read models caught up.
  static bool WaitReady(HttpClient& client) {
    for (int i = 0; i < 5000; ++i) {
      if (client.Get("/readyz").status == 200) return true;
      std::this_thread::yield();
    }
    return false;
  }
  std::string dir_;
};

std::string IdOf(const HttpResult& r) {
  auto doc = r.Json();
  return doc.HasParseError() ? "" : doc["job_id"].GetString();
}

TEST_F(ProcessTest, RestartInTheMiddleLosesNothing) {
  std::map<std::string, std::string> documents;  // job id -> status document
  std::vector<std::string> ids;
  {
    ServerProcess server(dir_);
    ASSERT_FALSE(server.base().empty());
    HttpClient client(server.base());
    ASSERT_TRUE(WaitReady(client));
    for (int i = 0; i < 20; ++i) {
      HttpResult r = client.Post("/v1/jobs", R"({"type":"restart","max_attempts":3})");
      ASSERT_EQ(r.status, 201) << r.body;
      ids.push_back(IdOf(r));
    }
    // Half-way through their lives: started, one error with a screenshot,
    // waiting for a retry.
    for (const std::string& id : ids) {
      const std::string base = "/v1/jobs/" + id + "/events";
      ASSERT_EQ(client.Post(base, R"({"type":"started","data":{"worker_id":"w1"}})").status, 200);
      ASSERT_EQ(client.Post(base, R"({"type":"errored","data":{"message":"boom","artifacts":[{"kind":"screenshot","url":"https://s3.example/a.png"}]}})").status, 200);
      ASSERT_EQ(client.Post(base, R"({"type":"retried","data":{"next_run_at":"2030-01-01T00:00:00Z"}})").status, 200);
    }
    for (const std::string& id : ids) documents[id] = client.Get("/v1/jobs/" + id).body;
    const int status = server.Stop(SIGTERM);
    ASSERT_TRUE(WIFEXITED(status)) << "no clean exit on SIGTERM";
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  ServerProcess server(dir_);
  HttpClient client(server.base());
  ASSERT_TRUE(WaitReady(client));
  for (const std::string& id : ids) {
    HttpResult r = client.Get("/v1/jobs/" + id);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body, documents[id]) << "the status document changed across the restart";
  }
  EXPECT_EQ(client.Get("/v1/jobs?type=restart&status=retrying").Json()["total"].GetUint64(), 20u);
  // Their lives go on where they stopped.
  for (const std::string& id : ids) {
    const std::string base = "/v1/jobs/" + id + "/events";
    ASSERT_EQ(client.Post(base, R"({"type":"started","data":{"attempt":2}})", {"If-Match: 4"}).status, 200);
    ASSERT_EQ(client.Post(base, R"({"type":"completed","data":{"result":{"ok":true}}})").status, 200);
  }
  auto stats = client.Get("/v1/stats").Json();
  EXPECT_EQ(stats["by_status"]["completed"].GetUint64(), 20u);
  EXPECT_EQ(client.Get("/v1/events?after=119").Json()["events"].Size(), 1u);  // 20 x 6 events
}

TEST_F(ProcessTest, EveryAcknowledgedWriteSurvivesKill9) {
  constexpr int kWriters = 4;
  std::vector<std::vector<std::pair<std::string, uint64_t>>> acked(kWriters);
  {
    ServerProcess server(dir_);
    ASSERT_FALSE(server.base().empty());
    std::atomic<bool> stop{false};
    std::atomic<int> acknowledged{0};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        HttpClient client(server.base());
        while (!stop.load()) {
          HttpResult r = client.Post("/v1/jobs", R"({"type":"durable"})");
          if (r.status != 201) return;  // the server is gone
          const std::string id = IdOf(r);
          acked[w].emplace_back(id, 1);
          acknowledged.fetch_add(1);
          HttpResult s = client.Post("/v1/jobs/" + id + "/events", R"({"type":"started","data":{}})");
          if (s.status != 200) return;
          acked[w].back().second = 2;
        }
      });
    }
    // Let some writes be acknowledged, then pull the plug mid-stream.
    HttpClient probe(server.base());
    for (int i = 0; i < 100000 && acknowledged.load() < 40; ++i) probe.Get("/healthz");
    const int status = server.Stop(SIGKILL);
    EXPECT_TRUE(WIFSIGNALED(status));
    stop.store(true);
    for (auto& t : writers) t.join();
  }
  ServerProcess server(dir_);
  HttpClient client(server.base());
  ASSERT_TRUE(WaitReady(client));
  size_t total = 0;
  for (const auto& list : acked) {
    for (const auto& [id, version] : list) {
      HttpResult r = client.Get("/v1/jobs/" + id);
      ASSERT_EQ(r.status, 200) << "acknowledged job " << id << " is gone";
      EXPECT_GE(r.Json()["version"].GetUint64(), version) << id;
      ++total;
    }
  }
  EXPECT_GE(total, 1u);
}

// The dialect flags reach the server: by default seed 000's routes need
// credentials; --public-dialect 000 opens them (and only them), scoped to
// the queue --dialect-000-queue names.
TEST_F(ProcessTest, PublicDialectFlagOpensOnlyThatSeed) {
  {
    ServerProcess closed(dir_, {});
    ASSERT_FALSE(closed.base().empty());
    HttpClient client(closed.base());
    ASSERT_TRUE(WaitReady(client));
    EXPECT_EQ(client.Get("/api/jobs").status, 401);
    EXPECT_EQ(client.Get("/api/jobs/stats").status, 401);
    closed.Stop(SIGTERM);
  }
  ServerProcess open(dir_, {"--public-dialect", "000", "--dialect-000-queue", "webforms"});
  ASSERT_FALSE(open.base().empty());
  HttpClient client(open.base());
  ASSERT_TRUE(WaitReady(client));
  HttpResult list = client.Get("/api/jobs");
  EXPECT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(client.Get("/api/jobs/stats").status, 200);
  EXPECT_EQ(client.Get("/v1/jobs/runs").status, 401);  // 001 stays closed
  EXPECT_EQ(client.Get("/v1/jobs").status, 401);        // and /v1 of course
  open.Stop(SIGTERM);
}

}  // namespace
}  // namespace jobtrail::testing
