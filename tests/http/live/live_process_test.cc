// The real `jobtrail serve`, killed with SIGKILL while a client streams the
// global feed and a writer appends: the client reconnects with
// Last-Event-ID to the restarted server and, over the whole run, has every
// event of the log exactly once, in position order.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <iostream>
#include <mutex>

#include "tests/http/http_client.h"
#include "tests/http/live/stream_reader.h"
#include "tests/http/live_server.h"
#include "tests/cli/server_process.h"

namespace jobtrail::testing {
namespace {

// Appends `total` events one by one to whichever server is current,
// retrying an append that got no answer (the server died under it).
class Writer {
 public:
  Writer(std::string base, int total) : base_(std::move(base)), total_(total) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Writer() { thread_.join(); }
  void SetBase(std::string base) {
    std::lock_guard lock(mu_);
    base_ = std::move(base);
    changed_.notify_all();
  }
  int acknowledged() const { return acknowledged_.load(); }
  // Waits until `n` appends were acknowledged.
  bool WaitAcknowledged(int n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(120),
                             [&] { return acknowledged_.load() >= n || done_; });
  }
  bool WaitDone() {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(120), [&] { return done_; });
  }

 private:
  void Run() {
    std::string job;
    while (acknowledged_ < total_) {
      std::string base;
      {
        std::lock_guard lock(mu_);
        base = base_;
      }
      HttpClient client(base);
      HttpResult r = job.empty() ? client.Post("/v1/jobs", R"({"type":"stream-test"})")
                                 : client.Post("/v1/jobs/" + job + "/events",
                                               R"({"type":"logged","data":{"level":"INFO","message":"tick"}})");
      if (r.status == 0 || r.status >= 500) {
        // The server is gone: wait for the next one.
        std::unique_lock lock(mu_);
        changed_.wait_for(lock, std::chrono::seconds(30), [&] { return base_ != base; });
        continue;
      }
      EXPECT_LT(r.status, 300) << r.body;
      if (r.status >= 300) break;
      if (job.empty()) job = r.Json()["job_id"].GetString();
      std::lock_guard lock(mu_);
      ++acknowledged_;
      changed_.notify_all();
    }
    std::lock_guard lock(mu_);
    done_ = true;
    changed_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable changed_;
  std::string base_;
  const int total_;
  std::atomic<int> acknowledged_{0};
  bool done_ = false;
  std::thread thread_;
};

std::vector<uint64_t> FeedPositions(const std::string& base) {
  HttpClient client(base);
  std::vector<uint64_t> out;
  uint64_t after = 0;
  for (;;) {
    HttpResult r = client.Get("/v1/events?limit=1000&after=" + std::to_string(after));
    EXPECT_EQ(r.status, 200) << r.body;
    auto doc = r.Json();
    for (const auto& e : doc["events"].GetArray()) out.push_back(e["position"].GetUint64());
    after = doc["next_after"].GetUint64();
    if (!doc["has_more"].GetBool()) return out;
  }
}

TEST(LiveProcessTest, AStreamAcrossAKill9HasEveryEventOnceInOrder) {
  const std::string dir = MakeHttpTempDir("jobtrail-live-kill");
  auto server = std::make_unique<ServerProcess>(dir);
  std::vector<uint64_t> seen;
  {
    Writer writer(server->base(), 400);
    // A client killed midway: it reads 20 events and goes away.
    {
      StreamReader killed(server->base() + "/v1/events/stream?after=0", {},
                          [](const auto& e) { return EventIds(e).size() >= 20; });
      ASSERT_TRUE(killed.WaitFinished());
      EXPECT_TRUE(killed.result().aborted);
      seen = EventIds(killed.events());
    }
    ASSERT_EQ(seen.size(), 20u);
    // It comes back with its last id, and is streaming when the server is
    // killed under it.
    {
      StreamReader resumed(server->base() + "/v1/events/stream",
                           {"Last-Event-ID: " + std::to_string(seen.back())});
      ASSERT_TRUE(resumed.WaitUntil([](const auto& e) { return EventIds(e).size() >= 60; }));
      // Half-way through the writes (the writer does not stop for it).
      ASSERT_TRUE(writer.WaitAcknowledged(200));
      server->Stop(SIGKILL);
      const int at_kill = writer.acknowledged();
      ASSERT_TRUE(resumed.WaitFinished());
      for (uint64_t p : EventIds(resumed.events())) seen.push_back(p);
      std::cout << "killed after " << at_kill << " acknowledged appends; the client had "
                << seen.size() << " events\n";
    }
    // A new server on the same data directory; the writer goes on there.
    server = std::make_unique<ServerProcess>(dir);
    writer.SetBase(server->base());
    ASSERT_TRUE(writer.WaitDone());
  }
  const std::vector<uint64_t> log = FeedPositions(server->base());
  ASSERT_FALSE(log.empty());
  StreamReader again(server->base() + "/v1/events/stream",
                     {"Last-Event-ID: " + std::to_string(seen.back())},
                     [last = log.back()](const auto& e) {
                       auto ids = EventIds(e);
                       return !ids.empty() && ids.back() >= last;
                     });
  ASSERT_TRUE(again.WaitFinished());
  for (uint64_t p : EventIds(again.events())) seen.push_back(p);
  EXPECT_EQ(seen, log);  // every event of the log, once, in position order
  server->Stop(SIGTERM);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace jobtrail::testing
