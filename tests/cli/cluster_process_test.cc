// Three real `jobtrail serve --log postgresql://...` processes on loopback,
// one shared log, concurrent load on all three (producers enqueueing,
// workers claiming and completing), and one node SIGKILLed mid-run. Then:
// every write a client got an answer for is on every surviving node; no
// job was handed out twice; the survivors' views equal each other; the
// killed node, restarted on its data directory, catches up to the same
// views; and `jobtrail verify` finds every node's views equal to a fresh
// fold of the log.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "eventstore/postgres/pg_connection.h"
#include "tests/cli/server_process.h"
#include "tests/cli/subprocess.h"
#include "tests/eventstore/postgres/pg_test_db.h"
#include "tests/http/http_client.h"

namespace jobtrail::testing {
namespace {

constexpr int kNodes = 3;
constexpr int kVictim = 2;             // the node SIGKILLed
constexpr int kKillAfterEnqueues = 60;  // acknowledged enqueues before the kill
constexpr int kEnqueues = 240;          // acknowledged enqueues in all

// What the clients were told, collected from every thread.
struct Acks {
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::string> enqueued;                           // 201s
  std::set<std::string> completed;                          // 200s
  std::map<std::string, std::vector<std::string>> claims;  // job -> workers
  uint64_t max_position = 0;

  void Position(uint64_t p) { max_position = std::max(max_position, p); }
};

class ClusterProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.ok());
    for (int i = 0; i < kNodes; ++i) {
      std::string dir =
          (std::filesystem::temp_directory_path() / "jobtrail-cluster-XXXXXX").string();
      ASSERT_NE(mkdtemp(dir.data()), nullptr);
      std::filesystem::remove(dir);  // serve creates it (0700)
      dirs_.push_back(dir);
    }
  }
  void TearDown() override {
    for (auto& node : nodes_) node.reset();
    std::error_code ec;
    for (const std::string& dir : dirs_) std::filesystem::remove_all(dir, ec);
  }
  std::unique_ptr<ServerProcess> Serve(int i) {
    return std::make_unique<ServerProcess>(
        dirs_[i], std::vector<std::string>{"--insecure-no-auth", "--log", db_.url()});
  }
  uint64_t LogHead() {
    auto conn = eventstore::pg::Connect(db_.url(), "test");
    EXPECT_TRUE(conn);
    if (!conn) return 0;
    auto r = eventstore::pg::Exec(conn.value().get(),
                                  "SELECT coalesce(max(position), 0) FROM jobtrail_events",
                                  nullptr, "head");
    EXPECT_TRUE(r);
    return r ? eventstore::pg::GetU64(r.value().get(), 0, 0) : 0;
  }
  // Every job id in the log, from a node's feed.
  static std::set<std::string> JobsInFeed(HttpClient& client) {
    std::set<std::string> ids;
    uint64_t after = 0;
    for (;;) {
      HttpResult r = client.Get("/v1/events?limit=1000&after=" + std::to_string(after));
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200) return ids;
      auto doc = r.Json();
      for (const auto& e : doc["events"].GetArray()) ids.insert(e["job_id"].GetString());
      after = doc["next_after"].GetUint64();
      if (!doc["has_more"].GetBool()) return ids;
    }
  }

  testing_pg::TestDatabase db_;
  std::vector<std::string> dirs_;
  std::vector<std::unique_ptr<ServerProcess>> nodes_;
};

TEST_F(ClusterProcessTest, ThreeNodesUnderLoadLoseNothingAcknowledgedWhenOneIsKilled) {
  ASSERT_EQ(RunProcess({JOBTRAIL_BINARY, "migrate", "--log", db_.url()}).exit_code, 0);
  std::vector<std::string> bases;
  for (int i = 0; i < kNodes; ++i) {
    nodes_.push_back(Serve(i));
    ASSERT_FALSE(nodes_.back()->base().empty());
    bases.push_back(nodes_.back()->base());
  }

  Acks acks;
  std::atomic<int> enqueues{0};
  std::atomic<bool> producing{true};
  std::vector<std::thread> threads;
  for (int node = 0; node < kNodes; ++node) {
    // Two producers a node. A failed transfer (the node is gone) ends the
    // thread: that write was never acknowledged.
    for (int p = 0; p < 2; ++p) {
      threads.emplace_back([&, node] {
        HttpClient c(bases[node]);
        while (producing.load() && enqueues.load() < kEnqueues) {
          HttpResult r = c.Post("/v1/jobs", R"({"type":"load","queue":"load"})");
          if (r.status == 0) return;
          ASSERT_EQ(r.status, 201) << r.body;
          std::lock_guard lock(acks.mu);
          acks.enqueued.insert(r.Json()["job_id"].GetString());
          acks.Position(std::stoull(r.Header("X-Log-Position")));
          ++enqueues;
          acks.cv.notify_all();
        }
      });
    }
    // One worker a node: claims two at a time (a lease longer than the
    // test: no claim expires) and completes what it got.
    threads.emplace_back([&, node] {
      HttpClient c(bases[node]);
      const std::string worker = "node" + std::to_string(node);
      for (;;) {
        HttpResult r = c.Post("/v1/queues/load/claim",
                              R"({"worker_id":")" + worker + R"(","max_jobs":2,"lease_ms":600000})");
        if (r.status == 0) return;
        ASSERT_EQ(r.status, 200) << r.body;
        auto doc = r.Json();
        if (doc["jobs"].Empty() && !producing.load()) return;
        for (const auto& job : doc["jobs"].GetArray()) {
          const std::string id = job["job_id"].GetString();
          {
            std::lock_guard lock(acks.mu);
            acks.claims[id].push_back(worker);
          }
          HttpResult done =
              c.Post("/v1/jobs/" + id + "/events", R"({"type":"completed","data":{}})");
          if (done.status == 0) return;
          ASSERT_EQ(done.status, 200) << done.body;
          std::lock_guard lock(acks.mu);
          acks.completed.insert(id);
          acks.Position(done.Json()["position"].GetUint64());
        }
      }
    });
  }
  {  // Kill a node while the load runs.
    std::unique_lock lock(acks.mu);
    acks.cv.wait(lock, [&] { return enqueues.load() >= kKillAfterEnqueues; });
  }
  const int killed = nodes_[kVictim]->Stop(SIGKILL);
  EXPECT_TRUE(WIFSIGNALED(killed));
  {
    std::unique_lock lock(acks.mu);
    acks.cv.wait(lock, [&] { return enqueues.load() >= kEnqueues; });
  }
  producing = false;
  for (std::thread& t : threads) t.join();
  ASSERT_GE(acks.enqueued.size(), size_t{kEnqueues});
  ASSERT_FALSE(acks.completed.empty());

  // No job was handed out twice.
  for (const auto& [job, workers] : acks.claims) {
    EXPECT_EQ(workers.size(), 1u) << job << " was claimed " << workers.size() << " times";
  }
  // Every acknowledged write is on every survivor.
  const uint64_t head = LogHead();
  ASSERT_GE(head, acks.max_position);
  std::deque<HttpClient> survivors;
  for (int i = 0; i < kNodes; ++i) {
    if (i != kVictim) survivors.emplace_back(bases[i]);
  }
  const std::string at_head = "?min_position=" + std::to_string(head);
  for (HttpClient& c : survivors) {
    ASSERT_EQ(c.Get("/v1/stats" + at_head).status, 200);
    for (const std::string& id : acks.enqueued) {
      HttpResult r = c.Get("/v1/jobs/" + id);
      ASSERT_EQ(r.status, 200) << id << ": " << r.body;
      if (acks.completed.count(id) != 0) {
        EXPECT_STREQ(r.Json()["status"].GetString(), "completed") << id;
      }
    }
  }
  // The survivors' views are equal, job by job, over every job in the log
  // (the killed node's unacknowledged writes too) and in their totals.
  const std::set<std::string> all = JobsInFeed(survivors[0]);
  EXPECT_EQ(all, JobsInFeed(survivors[1]));
  EXPECT_GE(all.size(), acks.enqueued.size());
  for (const std::string& id : all) {
    EXPECT_EQ(survivors[0].Get("/v1/jobs/" + id).body, survivors[1].Get("/v1/jobs/" + id).body)
        << id;
  }
  HttpResult counts0 = survivors[0].Get("/v1/jobs?queue=load&limit=1");
  HttpResult counts1 = survivors[1].Get("/v1/jobs?queue=load&limit=1");
  EXPECT_EQ(counts0.Json()["total"].GetUint64(), all.size());
  EXPECT_EQ(counts1.Json()["total"].GetUint64(), all.size());

  // The killed node comes back on its data directory and catches up.
  nodes_[kVictim] = Serve(kVictim);
  HttpClient back(nodes_[kVictim]->base());
  ASSERT_EQ(back.Get("/v1/stats" + at_head).status, 200);
  for (const std::string& id : all) {
    EXPECT_EQ(back.Get("/v1/jobs/" + id).body, survivors[0].Get("/v1/jobs/" + id).body) << id;
  }
  // And every node's views are a fresh fold of the log.
  for (int i = 0; i < kNodes; ++i) {
    const int stopped = nodes_[i]->Stop(SIGTERM);
    EXPECT_TRUE(WIFEXITED(stopped) && WEXITSTATUS(stopped) == 0) << "node " << i;
    nodes_[i].reset();
    ProcessResult verified =
        RunProcess({JOBTRAIL_BINARY, "verify", "--data-dir", dirs_[i], "--log", db_.url()});
    EXPECT_EQ(verified.exit_code, 0) << "node " << i << ": " << verified.out << verified.err;
  }
}

}  // namespace
}  // namespace jobtrail::testing
