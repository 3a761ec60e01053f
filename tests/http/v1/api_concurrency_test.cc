// Concurrent writers and readers over HTTP: If-Match lets exactly one of
// several racing appends win; cursor pagination neither skips nor repeats
// while jobs keep arriving; parallel idempotent enqueues make one job.
#include <atomic>
#include <set>
#include <thread>

#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

class ConcurrencyTest : public ServerTest {};

TEST_F(ConcurrencyTest, RacingAppendsWithTheSameIfMatchHaveExactlyOneWinner) {
  constexpr int kWriters = 8;
  constexpr int kRounds = 5;
  const std::string id = Enqueue();
  for (int round = 0; round < kRounds; ++round) {
    const uint64_t version = Version(id);
    std::atomic<int> ready{0};
    std::vector<long> statuses(kWriters, 0);
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        HttpClient client(base_);
        const std::string body = round == 0 ? R"({"type":"started","data":{"worker_id":"w)" +
                                                   std::to_string(w) + R"("}})"
                                             : R"({"type":"progressed","data":{"percent":)" +
                                                   std::to_string(round * 10) + "}}";
        ready.fetch_add(1);
        while (ready.load() < kWriters) std::this_thread::yield();  // start together
        statuses[w] = client
                          .Post("/v1/jobs/" + id + "/events", body,
                                {"If-Match: \"" + std::to_string(version) + "\""})
                          .status;
      });
    }
    for (auto& t : writers) t.join();
    int won = 0;
    int conflicted = 0;
    for (long s : statuses) {
      won += s == 200;
      conflicted += s == 409;
    }
    EXPECT_EQ(won, 1) << "round " << round;
    EXPECT_EQ(conflicted, kWriters - 1) << "round " << round;
    EXPECT_EQ(Version(id), version + 1);
  }
  auto history = client_->Get("/v1/jobs/" + id + "/events").Json();
  EXPECT_EQ(history["events"].Size(), 1u + kRounds);
}

TEST_F(ConcurrencyTest, CursorPagesNeverSkipOrRepeatWhileJobsArrive) {
  constexpr int kInitial = 60;
  std::set<std::string> initial;
  for (int i = 0; i < kInitial; ++i) initial.insert(Enqueue(R"({"type":"page"})"));

  for (const char* order : {"desc", "asc"}) {
    SCOPED_TRACE(order);
    std::atomic<bool> stop{false};
    std::atomic<int> arrived{0};
    std::thread producer([&] {
      HttpClient client(base_);
      while (!stop.load()) {
        if (client.Post("/v1/jobs", R"({"type":"page"})").status == 201) arrived.fetch_add(1);
      }
    });
    std::vector<std::string> seen;
    std::string cursor;
    bool more = true;
    int pages = 0;
    while (more) {
      // Make sure jobs really arrive between pages.
      const int before = arrived.load();
      for (int spin = 0; arrived.load() == before && spin < 100000; ++spin) std::this_thread::yield();
      std::string url = std::string("/v1/jobs?type=page&limit=7&order=") + order;
      if (!cursor.empty()) url += "&cursor=" + client_->Escape(cursor);
      HttpResult r = client_->Get(url);
      ASSERT_EQ(r.status, 200) << r.body;
      auto doc = r.Json();
      for (const auto& item : doc["items"].GetArray()) seen.push_back(item["id"].GetString());
      more = doc["has_more"].GetBool();
      if (more) cursor = doc["next_cursor"].GetString();
      ASSERT_LT(++pages, 1000) << "pagination does not end";
      // Ascending pages run into the newcomers: stop producing so it ends.
      if (std::string(order) == "asc" && seen.size() >= initial.size()) stop.store(true);
    }
    stop.store(true);
    producer.join();
    EXPECT_GT(arrived.load(), 0);
    std::set<std::string> unique(seen.begin(), seen.end());
    EXPECT_EQ(unique.size(), seen.size()) << "an item was repeated";
    for (const std::string& id : initial) EXPECT_EQ(unique.count(id), 1u) << "skipped " << id;
  }
}

TEST_F(ConcurrencyTest, ParallelIdempotentEnqueuesMakeOneJob) {
  constexpr int kClients = 8;
  std::vector<std::string> bodies(kClients);
  std::vector<long> statuses(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      HttpClient client(base_);
      HttpResult r = client.Post("/v1/jobs", R"({"type":"once","owner":"o"})",
                                 {"Idempotency-Key: same-key"});
      statuses[i] = r.status;
      bodies[i] = r.body;
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kClients; ++i) {
    EXPECT_EQ(statuses[i], 201) << bodies[i];
    EXPECT_EQ(bodies[i], bodies[0]);
  }
  EXPECT_EQ(client_->Get("/v1/jobs?type=once").Json()["total"].GetUint64(), 1u);
  EXPECT_EQ(LogPosition(), 1u);
}

TEST_F(ConcurrencyTest, ShutdownAnswersEveryAcceptedWriteAndLosesNone) {
  constexpr int kWriters = 6;
  std::atomic<int> acknowledged{0};
  std::atomic<bool> stop{false};
  std::vector<std::vector<std::string>> acked(kWriters);
  std::vector<std::vector<long>> other_statuses(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      HttpClient client(base_);
      while (!stop.load()) {
        HttpResult r = client.Post("/v1/jobs", R"({"type":"drain"})");
        if (r.status == 201) {
          acked[w].push_back(r.Json()["job_id"].GetString());
          acknowledged.fetch_add(1);
        } else {
          other_statuses[w].push_back(r.status);
          if (r.status == 0) return;  // the listener is gone
        }
      }
    });
  }
  while (acknowledged.load() < 30) std::this_thread::yield();
  server_->Shutdown();  // while writes are in flight and queued
  stop.store(true);
  for (auto& t : writers) t.join();
  for (int w = 0; w < kWriters; ++w) {
    for (long status : other_statuses[w]) {
      EXPECT_TRUE(status == 503 || status == 0) << "unexpected answer " << status;
    }
    for (const std::string& id : acked[w]) {
      EXPECT_TRUE(store_->Status(id)) << "acknowledged job " << id << " is missing";
    }
  }
}

}  // namespace
}  // namespace jobtrail::testing
