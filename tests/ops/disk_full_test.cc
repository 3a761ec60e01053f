// A whole server over HTTP on a disk that fills up or fails on demand (a
// fault-injecting RocksDB filesystem under both databases): writes answer
// 503 STORAGE_UNAVAILABLE, reads go on, /readyz and /metrics tell, writes
// come back by themselves, nothing acknowledged is lost. The same scenario
// runs on a real full tmpfs in tmpfs_disk_full_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "tests/eventstore/faulty_disk_fs.h"
#include "tests/http/live_server.h"
#include "tests/ops/disk_full_scenario.h"

namespace jobtrail::testing {
namespace {

using testing_fs::FaultyDiskFs;

class DiskFullServerTest : public LiveServerTest {
 protected:
  void SetUp() override {
    dir_ = MakeHttpTempDir("jobtrail-ops");
    options_.host = "127.0.0.1";
    options_.port = 0;
    options_.threads = 4;
    options_.access_log = false;
    options_.security.auth.insecure_no_auth = true;
    store_env_ = env_.get();
    Start();
  }
  // After the scenario: a clean restart on a healthy disk shows every
  // acknowledged job, and the log and views verify.
  void RestartAndCheck(const std::vector<std::string>& acked) {
    fs_->Heal();
    Stop();
    Start();
    for (const std::string& id : acked) {
      EXPECT_EQ(client_->Get("/v1/jobs/" + id).status, 200) << "acknowledged job " << id << " lost";
    }
    auto report = store_->Verify(nullptr);
    ASSERT_TRUE(report) << report.error().ToString();
    EXPECT_TRUE(report.value().ok()) << report.value().problems.front();
  }

  std::pair<std::shared_ptr<FaultyDiskFs>, std::unique_ptr<rocksdb::Env>> made_ =
      FaultyDiskFs::Make();
  std::shared_ptr<FaultyDiskFs>& fs_ = made_.first;
  std::unique_ptr<rocksdb::Env>& env_ = made_.second;
};

TEST_F(DiskFullServerTest, FullDiskAnswers503AndWritesComeBackByThemselves) {
  auto out = RunDiskFullScenario(
      *client_, dir_, [&] { fs_->Fail(rocksdb::IOStatus::NoSpace("injected: disk full")); },
      [&] { fs_->Heal(); }, 2048, 20);
  EXPECT_GT(fs_->refused(), 0);
  RestartAndCheck(out.acked);
}

TEST_F(DiskFullServerTest, IoErrorsWhileWritingAndSyncingAnswer503AndRecoverToo) {
  auto out = RunDiskFullScenario(
      *client_, dir_,
      [&] { fs_->Fail(rocksdb::IOStatus::IOError("injected: EIO"), /*syncs=*/true); },
      [&] { fs_->Heal(); }, 2048, 20);
  RestartAndCheck(out.acked);
}

TEST_F(DiskFullServerTest, ClaimsAndEventsAnswer503WhileTheDiskIsFull) {
  HttpResult enq = client_->Post("/v1/jobs", R"({"type":"t","queue":"q"})");
  ASSERT_EQ(enq.status, 201) << enq.body;
  const std::string id = JobIdOf(enq);
  fs_->Fail(rocksdb::IOStatus::NoSpace("injected: disk full"));
  HttpResult claim = client_->Post("/v1/queues/q/claim", R"({"worker_id":"w","lease_ms":60000})");
  ExpectStorageUnavailable(claim, dir_);
  // The refused claim put its job back: it is still pending.
  HttpResult doc = client_->Get("/v1/jobs/" + id);
  ASSERT_EQ(doc.status, 200);
  EXPECT_STREQ(doc.Json()["status"].GetString(), "pending");
  ExpectStorageUnavailable(
      client_->Post("/v1/jobs/" + id + "/events", R"({"type":"logged","data":{"message":"m"}})"),
      dir_);
  fs_->Heal();
  ASSERT_TRUE(Eventually([&] { return client_->Get("/readyz").status == 200; }));
  claim = client_->Post("/v1/queues/q/claim", R"({"worker_id":"w","lease_ms":60000})");
  ASSERT_EQ(claim.status, 200) << claim.body;
  ASSERT_EQ(claim.Json()["jobs"].Size(), 1u) << claim.body;
  EXPECT_STREQ(claim.Json()["jobs"][0]["job_id"].GetString(), id.c_str());
  RestartAndCheck({id});
}

// Several clients write across a full disk. Each retries a write whose
// outcome it does not know (a 503) with the same ids until it is answered;
// every write answered 2xx is there afterwards, exactly once.
TEST_F(DiskFullServerTest, ConcurrentClientsAcrossAFullDiskLoseNothingAcknowledged) {
  constexpr int kClients = 4;
  constexpr int kJobsPerClient = 25;
  std::atomic<int> acknowledged{0};
  std::atomic<int> refused{0};
  std::atomic<int> finished{0};  // clients done (or stopped by a failure)
  std::vector<std::map<std::string, std::set<std::string>>> acked(kClients);  // job -> event ids
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      struct Done {
        std::atomic<int>& n;
        ~Done() { n.fetch_add(1); }
      } done{finished};
      HttpClient client(base_);
      auto until_answered = [&](const std::function<HttpResult()>& send) {
        for (;;) {
          HttpResult r = send();
          if (r.status != 503) return r;
          EXPECT_EQ(r.ErrorCode(), "STORAGE_UNAVAILABLE") << r.body;
          refused.fetch_add(1);
        }
      };
      for (int j = 0; j < kJobsPerClient; ++j) {
        const std::string key = "c" + std::to_string(c) + "-j" + std::to_string(j);
        HttpResult r = until_answered([&] {
          return client.Post("/v1/jobs", R"({"type":"concurrent"})", {"Idempotency-Key: " + key});
        });
        ASSERT_EQ(r.status, 201) << r.body;
        const std::string id = JobIdOf(r);
        acked[c][id];
        acknowledged.fetch_add(1);
        for (int e = 0; e < 2; ++e) {
          char event_id[37];
          std::snprintf(event_id, sizeof event_id, "00000000-0000-4000-8000-%04d%04d%04d", c, j,
                        e);
          const std::string body = std::string(R"({"type":"logged","event_id":")") +
                                   event_id + R"(","data":{"message":"line )" +
                                   std::to_string(e) + "\"}}";
          HttpResult a =
              until_answered([&] { return client.Post("/v1/jobs/" + id + "/events", body); });
          ASSERT_EQ(a.status, 200) << a.body;
          acked[c][id].insert(event_id);
          acknowledged.fetch_add(1);
        }
      }
    });
  }
  while (acknowledged.load() < kClients * kJobsPerClient / 2 && finished.load() < kClients) {
    std::this_thread::yield();
  }
  fs_->Fail(rocksdb::IOStatus::NoSpace("injected: disk full"));
  while (refused.load() < kClients && finished.load() < kClients) std::this_thread::yield();
  fs_->Heal();
  for (auto& t : clients) t.join();
  EXPECT_GE(refused.load(), kClients);
  std::vector<std::string> ids;
  int lost = 0;
  for (const auto& per_client : acked) {
    for (const auto& [id, events] : per_client) {
      ids.push_back(id);
      HttpResult history = client_->Get("/v1/jobs/" + id + "/events");
      if (history.status != 200) {
        lost += 1 + int(events.size());
        ADD_FAILURE() << "acknowledged job " << id << " lost: " << history.body;
        continue;
      }
      auto doc = history.Json();
      // enqueued + one event per acknowledged event id, none twice.
      EXPECT_EQ(doc["events"].Size(), 1 + events.size()) << history.body;
      std::set<std::string> seen;
      for (const auto& e : doc["events"].GetArray()) seen.insert(e["event_id"].GetString());
      for (const std::string& e : events) {
        if (seen.count(e) == 0) ++lost;
        EXPECT_EQ(seen.count(e), 1u) << e;
      }
    }
  }
  std::printf("[ disk full ] writes acknowledged: %d, refused with 503 (then retried): %d, "
              "lost: %d\n",
              acknowledged.load(), refused.load(), lost);
  EXPECT_EQ(lost, 0);
  RestartAndCheck(ids);
}

}  // namespace
}  // namespace jobtrail::testing
