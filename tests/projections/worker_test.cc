// The worker protocol: claims, leases, heartbeats, the store's own retries,
// delayed jobs and dedup — all on an injected clock.
#include <set>
#include <thread>

#include "tests/projections/store_fixture.h"

namespace jobtrail::testing {
namespace {

class WorkerTest : public StoreTest {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("jobtrail-worker");
    JobStoreOptions options;
    options.data_dir = dir_;
    options.clock = &clock_;
    options.default_retry.backoff = RetryPolicy::Backoff::kExponential;
    options.default_retry.base_delay_ms = 1000;
    options.default_retry.max_delay_ms = 60000;
    options.default_retry.jitter = 0;
    options.random = [] { return 0.5; };
    auto opened = JobStore::Open(options);
    ASSERT_TRUE(opened) << opened.error().ToString();
    store_ = std::move(opened).value();
  }
  std::string EnqueueIn(const std::string& queue, int priority = 0,
                        std::optional<Millis> run_at = std::nullopt, int max_attempts = 3) {
    EnqueueRequest r;
    r.spec.type = "scrape";
    r.spec.queue = queue;
    r.spec.priority = priority;
    r.spec.run_at = run_at;
    r.spec.max_attempts = max_attempts;
    auto out = store_->Enqueue(std::move(r));
    EXPECT_TRUE(out) << out.error().ToString();
    return out.value().job_id;
  }
  std::vector<std::string> ClaimIds(const std::string& queue, size_t n,
                                    const std::string& worker = "w1", Millis lease = 30000) {
    auto claimed = store_->Claim(ClaimRequest{queue, worker, lease, n});
    EXPECT_TRUE(claimed) << claimed.error().ToString();
    std::vector<std::string> ids;
    for (const auto& c : claimed.value()) ids.push_back(c.job_id);
    return ids;
  }
};

TEST_F(WorkerTest, ClaimsHighestPriorityThenOldest) {
  const std::string low = EnqueueIn("q", 0);
  clock_.Advance(10);
  const std::string high_old = EnqueueIn("q", 5);
  clock_.Advance(10);
  const std::string high_new = EnqueueIn("q", 5);
  EnqueueIn("other", 100);
  EXPECT_EQ(ClaimIds("q", 2), (std::vector<std::string>{high_old, high_new}));
  EXPECT_EQ(ClaimIds("q", 5), std::vector<std::string>{low});
  EXPECT_TRUE(ClaimIds("q", 5).empty());
  auto job = store_->LoadJob(high_old, std::nullopt).value();
  EXPECT_EQ(job.status, JobStatus::kRunning);
  EXPECT_EQ(job.worker_id, "w1");
  EXPECT_EQ(*job.lease_deadline, clock_.Now() + 30000);
}

TEST_F(WorkerTest, DelayedJobsWaitForTheirRunAt) {
  const std::string later = EnqueueIn("q", 0, clock_.Now() + 60000);
  EXPECT_TRUE(ClaimIds("q", 1).empty());
  clock_.Advance(59999);
  EXPECT_TRUE(ClaimIds("q", 1).empty());
  clock_.Advance(1);
  EXPECT_EQ(ClaimIds("q", 1), std::vector<std::string>{later});
}

TEST_F(WorkerTest, ConcurrentClaimersNeverShareAJob) {
  constexpr int kJobs = 60;
  for (int i = 0; i < kJobs; ++i) EnqueueIn("q");
  std::mutex mu;
  std::vector<std::string> all;
  std::vector<std::thread> workers;
  for (int w = 0; w < 6; ++w) {
    workers.emplace_back([&, w] {
      for (;;) {
        auto got = store_->Claim(ClaimRequest{"q", "w" + std::to_string(w), 30000, 3});
        ASSERT_TRUE(got);
        if (got.value().empty()) return;
        std::lock_guard lock(mu);
        for (const auto& c : got.value()) all.push_back(c.job_id);
      }
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(all.size(), size_t(kJobs));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), size_t(kJobs));
}

TEST_F(WorkerTest, HeartbeatExtendsTheLeaseAndReportsCancellation) {
  const std::string id = EnqueueIn("q");
  ASSERT_EQ(ClaimIds("q", 1), std::vector<std::string>{id});
  clock_.Advance(20000);
  auto beat = store_->Heartbeat(HeartbeatRequest{id, "w1", 30000, 40.0, "page 4 of 10"});
  ASSERT_TRUE(beat) << beat.error().ToString();
  EXPECT_TRUE(beat.value().keep_working);
  EXPECT_EQ(*beat.value().lease_deadline, clock_.Now() + 30000);
  EXPECT_EQ(store_->LoadJob(id, std::nullopt).value().progress, 40.0);

  auto stranger = store_->Heartbeat(HeartbeatRequest{id, "w2", 30000, std::nullopt, ""});
  ASSERT_FALSE(stranger);
  EXPECT_EQ(stranger.error().reason, "LEASE_LOST");

  MustAppend(id, Cancelled{"user asked", "alice"});
  beat = store_->Heartbeat(HeartbeatRequest{id, "w1", 30000, std::nullopt, ""});
  ASSERT_TRUE(beat);
  EXPECT_TRUE(beat.value().cancelled);
  EXPECT_FALSE(beat.value().keep_working);
}

TEST_F(WorkerTest, ExpiredLeaseIsRetriedBySystemAndTheHistorySaysWhy) {
  const std::string id = EnqueueIn("q");
  ASSERT_EQ(ClaimIds("q", 1, "w1", 30000), std::vector<std::string>{id});
  clock_.Advance(29999);
  EXPECT_EQ(store_->RunMaintenance({}).value().leases_expired, 0u);
  clock_.Advance(2);
  auto report = store_->RunMaintenance({});
  ASSERT_TRUE(report);
  EXPECT_EQ(report.value().leases_expired, 1u);
  EXPECT_EQ(report.value().retried, 1u);

  auto history = store_->History(id).value();
  ASSERT_EQ(history.size(), 4u);
  const auto& errored = std::get<Errored>(history[2].body);
  EXPECT_EQ(errored.error_type, "LeaseExpired");
  EXPECT_NE(errored.message.find("w1"), std::string::npos);
  EXPECT_EQ(history[2].actor, "system");
  const auto& retried = std::get<Retried>(history[3].body);
  EXPECT_EQ(retried.backoff_ms, 1000);  // attempt 2 waits the base delay
  EXPECT_EQ(history[3].actor, "system");

  EXPECT_TRUE(ClaimIds("q", 1).empty());  // backing off
  clock_.Advance(1000);
  EXPECT_EQ(ClaimIds("q", 1, "w2"), std::vector<std::string>{id});
  EXPECT_EQ(store_->LoadJob(id, std::nullopt).value().attempts, 2);
}

TEST_F(WorkerTest, OutOfAttemptsAfterLeaseExpiryFails) {
  const std::string id = EnqueueIn("q", 0, std::nullopt, 1);
  ASSERT_EQ(ClaimIds("q", 1, "w1", 1000), std::vector<std::string>{id});
  clock_.Advance(1001);
  auto report = store_->RunMaintenance({}).value();
  EXPECT_EQ(report.failed, 1u);
  auto job = store_->LoadJob(id, std::nullopt).value();
  EXPECT_EQ(job.status, JobStatus::kFailed);
  ASSERT_TRUE(job.final_error);
  EXPECT_EQ(job.final_error->error_type, "LeaseExpired");
}

TEST_F(WorkerTest, BackoffFollowsThePolicyOnWorkerErrors) {
  const std::string id = EnqueueIn("q", 0, std::nullopt, 4);
  Millis expected_backoff = 1000;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    ASSERT_EQ(ClaimIds("q", 1), std::vector<std::string>{id}) << "attempt " << attempt;
    auto out = Append(id, Errored{0, "Timeout", "slow page", "", "", {}});
    ASSERT_TRUE(out);
    EXPECT_EQ(out.value().status, JobStatus::kRetrying);
    auto job = store_->LoadJob(id, std::nullopt).value();
    EXPECT_EQ(*job.next_retry_at, clock_.Now() + expected_backoff);
    clock_.Advance(expected_backoff);
    expected_backoff *= 2;
  }
  ASSERT_EQ(ClaimIds("q", 1), std::vector<std::string>{id});
  ASSERT_TRUE(Append(id, Errored{0, "Timeout", "still slow", "", "", {}}));
  auto job = store_->LoadJob(id, std::nullopt).value();
  EXPECT_EQ(job.status, JobStatus::kFailed);
  EXPECT_EQ(job.final_error->reason, "still slow");
}

TEST_F(WorkerTest, UnleasedWorkersDecideTheirOwnRetries) {
  const std::string id = EnqueueIn("q");
  MustAppend(id, Started{});  // no lease: the worker manages itself
  MustAppend(id, Errored{0, "X", "boom", "", "", {}});
  EXPECT_EQ(store_->Status(id).value().status, JobStatus::kRunning);
  MustAppend(id, Retried{0, clock_.Now() + 5, 5});
}

TEST_F(WorkerTest, UniqueKeyDeduplicatesUntilTheJobIsFinal) {
  EnqueueRequest r;
  r.spec.type = "report";
  r.spec.unique_key = "daily-report-2024-01-15";
  auto first = store_->Enqueue(r);
  auto second = store_->Enqueue(r);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first.value().job_id, second.value().job_id);
  EXPECT_TRUE(second.value().duplicate);
  MustAppend(first.value().job_id, Cancelled{});
  auto third = store_->Enqueue(r);
  ASSERT_TRUE(third);
  EXPECT_NE(third.value().job_id, first.value().job_id);
  EXPECT_FALSE(third.value().duplicate);
}

}  // namespace
}  // namespace jobtrail::testing
