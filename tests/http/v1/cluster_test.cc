// Several nodes on one shared PostgreSQL log, in one process: each node is
// a JobStore with its own data directory (its own RocksDB read models) and
// its own HTTP server, and all of them append to and follow the same log
// (a database of the postgres ctest fixture's server). What a cluster must
// keep: a write taken by one node is readable on every other with
// ?min_position (and a node that has not got there says 503, never an
// older answer); two nodes never hand out the same job; a schedule defined
// on every node fires once per due time, not once per node.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "eventstore/postgres/postgres_event_log.h"
#include "tests/eventstore/postgres/pg_test_db.h"
#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

// One node: a store on the shared log and a server in front of it.
struct Node {
  std::string dir;
  std::unique_ptr<JobStore> store;
  std::unique_ptr<http::HttpServer> server;
  std::string base;
};

class ClusterTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (Node& n : nodes_) {
      if (n.server) n.server->Shutdown();
      n.server.reset();
      n.store.reset();
      std::error_code ec;
      std::filesystem::remove_all(n.dir, ec);
    }
  }

  // Starts `count` nodes on db_'s log.
  void StartNodes(size_t count, const Clock* clock = nullptr) {
    ASSERT_TRUE(db_.ok());
    for (size_t i = 0; i < count; ++i) {
      Node n;
      n.dir = MakeHttpTempDir("jobtrail-cluster");
      JobStoreOptions options;
      options.data_dir = n.dir;
      options.clock = clock;
      options.open_log = [url = db_.url()]() -> eventstore::StoreResult<ExternalLog> {
        eventstore::PostgresEventLogOptions log_options;
        log_options.url = url;
        BOOST_OUTCOME_TRY(log, eventstore::PostgresEventLog::Open(log_options));
        std::string identity = "postgresql:" + log->log_id();
        return ExternalLog{std::move(log), std::move(identity)};
      };
      auto store = JobStore::Open(options);
      ASSERT_TRUE(store) << store.error().ToString();
      n.store = std::move(store).value();
      http::ServerOptions server_options;
      server_options.host = "127.0.0.1";
      server_options.port = 0;
      server_options.threads = 4;
      server_options.access_log = false;
      server_options.security.auth.insecure_no_auth = true;
      auto server = http::HttpServer::Start(*n.store, server_options);
      ASSERT_TRUE(server) << server.error().ToString();
      n.server = std::move(server).value();
      n.base = "http://127.0.0.1:" + std::to_string(n.server->port());
      nodes_.push_back(std::move(n));
    }
  }

  HttpClient Client(size_t node) { return HttpClient(nodes_[node].base); }

  testing_pg::TestDatabase db_;
  std::vector<Node> nodes_;
};

TEST_F(ClusterTest, AWriteOnOneNodeIsReadOnAnyOtherWithMinPosition) {
  StartNodes(2);
  HttpClient a = Client(0);
  HttpClient b = Client(1);
  HttpResult enqueued = a.Post("/v1/jobs", R"({"type":"report","queue":"q"})");
  ASSERT_EQ(enqueued.status, 201) << enqueued.body;
  const std::string id = enqueued.Json()["job_id"].GetString();
  const std::string position = enqueued.Header("X-Log-Position");
  ASSERT_FALSE(position.empty());

  HttpResult seen = b.Get("/v1/jobs/" + id + "?min_position=" + position);
  ASSERT_EQ(seen.status, 200) << seen.body;
  EXPECT_STREQ(seen.Json()["status"].GetString(), "pending");

  // The other way round, with an append's position from its body.
  HttpResult started =
      b.Post("/v1/jobs/" + id + "/events", R"({"type":"started","data":{"worker_id":"w"}})");
  ASSERT_EQ(started.status, 200) << started.body;
  const uint64_t at = started.Json()["position"].GetUint64();
  for (const std::string& read : std::vector<std::string>{
           "/v1/jobs/" + id, "/v1/jobs/" + id + "/events", "/v1/jobs?queue=q", "/v1/stats"}) {
    const char sep = read.find('?') == std::string::npos ? '?' : '&';
    HttpResult r = a.Get(read + sep + "min_position=" + std::to_string(at));
    ASSERT_EQ(r.status, 200) << read << ": " << r.body;
    const char* shows = read.ends_with("/events") ? "\"started\"" : "running";
    EXPECT_NE(r.body.find(shows), std::string::npos) << read << ": " << r.body;
  }
  // The node that took the write needs no parameter: read-your-writes.
  EXPECT_STREQ(b.Get("/v1/jobs/" + id).Json()["status"].GetString(), "running");
  // Both nodes' read models are the same documents.
  EXPECT_EQ(a.Get("/v1/jobs/" + id).body, b.Get("/v1/jobs/" + id).body);

  // A position nobody wrote: 503 after the bounded wait, never a stale 200.
  HttpResult ahead = a.Get("/v1/jobs/" + id + "?min_position=" + std::to_string(at + 1000));
  EXPECT_EQ(ahead.status, 503) << ahead.body;
  EXPECT_EQ(ahead.ErrorCode(), "NOT_CAUGHT_UP");
  EXPECT_EQ(ahead.Header("Retry-After"), "1");
  EXPECT_EQ(a.Get("/v1/jobs/" + id + "?min_position=x").status, 400);
}

TEST_F(ClusterTest, TwoNodesClaimingTheSameQueueNeverHandOutAJobTwice) {
  StartNodes(2);
  constexpr int kJobs = 120;
  HttpClient a = Client(0);
  std::string batch = R"({"operations":[)";
  for (int i = 0; i < kJobs; ++i) {
    batch += (i ? "," : "") + std::string(R"({"op":"enqueue","job":{"type":"t","queue":"race"}})");
  }
  batch += "]}";
  HttpResult made = a.Post("/v1/batch", batch);
  ASSERT_EQ(made.status, 200) << made.body;
  // Node B's read models hold every job before the race starts.
  HttpResult feed = a.Get("/v1/events?limit=1&after=" + std::to_string(kJobs - 1));
  ASSERT_EQ(feed.status, 200);
  const uint64_t head = feed.Json()["next_after"].GetUint64();
  ASSERT_EQ(Client(1).Get("/v1/stats?min_position=" + std::to_string(head)).status, 200);

  // Four claimers a node, two jobs a claim, until every job is out (or a
  // bound on rounds, so that a bug fails instead of hanging).
  std::mutex mu;
  std::map<std::string, std::vector<std::string>> holders;  // job -> workers
  std::atomic<int> claimed{0};
  std::vector<std::thread> threads;
  for (size_t node = 0; node < 2; ++node) {
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, node, t] {
        HttpClient c = Client(node);
        const std::string worker = "n" + std::to_string(node) + "w" + std::to_string(t);
        for (int round = 0; round < 2000 && claimed.load() < kJobs; ++round) {
          HttpResult r = c.Post("/v1/queues/race/claim",
                                R"({"worker_id":")" + worker + R"(","max_jobs":2})");
          ASSERT_EQ(r.status, 200) << r.body;
          auto doc = r.Json();
          for (const auto& job : doc["jobs"].GetArray()) {
            std::lock_guard lock(mu);
            holders[job["job_id"].GetString()].push_back(worker);
            ++claimed;
          }
        }
      });
    }
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(claimed.load(), kJobs);
  EXPECT_EQ(holders.size(), size_t{kJobs});
  for (const auto& [job, workers] : holders) {
    EXPECT_EQ(workers.size(), 1u) << job << " was claimed by " << workers.size() << " workers";
  }
  // The log agrees: one started event a job.
  for (const auto& [job, workers] : holders) {
    HttpResult history = a.Get("/v1/jobs/" + job + "/events");
    ASSERT_EQ(history.status, 200);
    size_t starts = 0;
    for (size_t at = history.body.find("\"started\""); at != std::string::npos;
         at = history.body.find("\"started\"", at + 1)) {
      ++starts;
    }
    EXPECT_EQ(starts, 1u) << job;
  }
}

// A node decides a write first on its own fold of the job, without reading
// the log (the append's expected version makes the log check it). When
// another node wrote meanwhile, that fold is behind: the node must then
// decide from the log, neither refusing what the log allows nor allowing
// what it refuses.
TEST_F(ClusterTest, ANodeWhoseFoldOfAJobIsBehindDecidesFromTheLog) {
  StartNodes(2);
  HttpClient a = Client(0);
  HttpClient b = Client(1);
  auto enqueue = [&](const std::string& queue) {
    HttpResult made = a.Post("/v1/jobs", R"({"type":"t","queue":")" + queue + R"("})");
    EXPECT_EQ(made.status, 201) << made.body;
    return std::make_pair(std::string(made.Json()["job_id"].GetString()),
                          made.Header("X-Log-Position"));
  };
  auto claim_on = [](HttpClient& c, const std::string& queue, const std::string& worker) {
    HttpResult r = c.Post("/v1/queues/" + queue + "/claim",
                          R"({"worker_id":")" + worker + R"(","lease_ms":60000})");
    EXPECT_EQ(r.status, 200) << r.body;
    return r;
  };
  // A holds the job as pending (v1); B starts it (the log: running, v2).
  const auto [id, position] = enqueue("behind");
  ASSERT_EQ(b.Get("/v1/stats?min_position=" + position).status, 200);
  HttpResult taken = claim_on(b, "behind", "wb");
  ASSERT_EQ(taken.Json()["jobs"].Size(), 1u) << taken.body;

  // B's worker reports through A: A's fold says pending, the log running.
  HttpResult beat = a.Post("/v1/jobs/" + id + "/heartbeat",
                           R"({"worker_id":"wb","lease_ms":60000,"percent":40})");
  ASSERT_EQ(beat.status, 200) << beat.body;
  EXPECT_TRUE(beat.Json()["keep_working"].GetBool());
  EXPECT_EQ(beat.Json()["version"].GetUint64(), 3u);
  // Another worker's heartbeat is refused on the log's word.
  HttpResult thief =
      a.Post("/v1/jobs/" + id + "/heartbeat", R"({"worker_id":"wa","lease_ms":60000})");
  EXPECT_EQ(thief.status, 422) << thief.body;
  EXPECT_EQ(thief.ErrorCode(), "LEASE_LOST");

  // B appends twice; an If-Match append through A at the log's version is
  // taken, one at A's old version is a conflict.
  for (int percent : {50, 60}) {
    HttpResult r = b.Post("/v1/jobs/" + id + "/events",
                          R"({"type":"progressed","data":{"percent":)" +
                              std::to_string(percent) + "}}");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  const std::string progressed = R"({"type":"progressed","data":{"percent":70}})";
  HttpResult stale = a.Post("/v1/jobs/" + id + "/events", progressed, {"If-Match: \"3\""});
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_EQ(stale.ErrorCode(), "VERSION_CONFLICT");
  HttpResult fresh = a.Post("/v1/jobs/" + id + "/events", progressed, {"If-Match: \"5\""});
  ASSERT_EQ(fresh.status, 200) << fresh.body;
  EXPECT_EQ(fresh.Json()["version"].GetUint64(), 6u);

  // B cancels it; B's worker asking through A is told to stop.
  HttpResult cancelled = b.Post("/v1/jobs/" + id + "/cancel", "{}");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  HttpResult told = a.Post("/v1/jobs/" + id + "/heartbeat",
                           R"({"worker_id":"wb","lease_ms":60000})");
  ASSERT_EQ(told.status, 200) << told.body;
  EXPECT_FALSE(told.Json()["keep_working"].GetBool());
  EXPECT_STREQ(told.Json()["status"].GetString(), "cancelled");

  // A job A holds as pending that B claimed is not handed out again by A,
  // whatever A's claim rows say at that moment.
  const auto [other, other_position] = enqueue("behind2");
  ASSERT_EQ(b.Get("/v1/stats?min_position=" + other_position).status, 200);
  ASSERT_EQ(claim_on(b, "behind2", "wb").Json()["jobs"].Size(), 1u);
  EXPECT_EQ(claim_on(a, "behind2", "wa").Json()["jobs"].Size(), 0u);
  HttpResult history = a.Get("/v1/jobs/" + other + "/events");
  ASSERT_EQ(history.status, 200);
  EXPECT_EQ(history.body.find("\"started\""), history.body.rfind("\"started\""))
      << "started twice: " << history.body;
}

TEST_F(ClusterTest, AScheduleDefinedOnEveryNodeFiresOncePerDueTime) {
  ManualClock clock(1705314600000);  // 2024-01-15T10:30:00Z
  StartNodes(3, &clock);
  for (size_t n = 0; n < nodes_.size(); ++n) {
    HttpResult put = Client(n).Request(
        "PUT", "/v1/schedules/hourly",
        R"({"cron":"0 * * * *","job_type":"HOURLY","queue":"cron"})", {});
    ASSERT_EQ(put.status, 200) << put.body;
  }
  // (The server registers seed 001's schedules on every node too.)
  size_t total_fired = 0;
  for (int hour = 0; hour < 2; ++hour) {
    clock.Advance(60 * 60 * 1000);
    // Every node's scheduler tick, as `serve` runs it; concurrently.
    std::vector<std::thread> ticks;
    std::atomic<size_t> fired{0};
    for (Node& n : nodes_) {
      ticks.emplace_back([&n, &fired] {
        auto r = n.store->RunDueSchedules();
        ASSERT_TRUE(r) << r.error().ToString();
        fired += r.value();
      });
    }
    for (std::thread& t : ticks) t.join();
    total_fired += fired.load();
  }
  // Every run in the log was counted as fired by exactly one node (the
  // others found it there: a duplicate), and "hourly" ran twice. A node's
  // tick returns once its views hold every run it wrote or found.
  HttpClient a = Client(0);
  HttpResult feed = a.Get("/v1/events?limit=1000");
  ASSERT_EQ(feed.status, 200);
  EXPECT_EQ(feed.Json()["events"].Size(), total_fired) << feed.body;
  const uint64_t head = feed.Json()["next_after"].GetUint64();
  std::string first;
  for (size_t n = 0; n < nodes_.size(); ++n) {
    HttpResult list =
        Client(n).Get("/v1/jobs?queue=cron&min_position=" + std::to_string(head));
    ASSERT_EQ(list.status, 200) << list.body;
    EXPECT_EQ(list.Json()["items"].Size(), 2u) << list.body;
    if (n == 0) first = list.body;
    EXPECT_EQ(list.body, first);
  }
}

}  // namespace
}  // namespace jobtrail::testing
