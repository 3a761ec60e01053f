// The worker protocol: claims, leases, heartbeats, the store's own retries,
// delayed jobs and dedup — all on an injected clock.
#include <functional>
#include <mutex>
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
  // `workers` threads claim from queue "q" (batch size by worker) until it
  // is empty; every job id handed out, in no particular order.
  std::vector<std::string> ClaimUntilEmpty(int workers, std::function<size_t(int)> batch) {
    std::mutex mu;
    std::vector<std::string> all;
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w) {
      threads.emplace_back([&, w] {
        for (;;) {
          auto got = store_->Claim(ClaimRequest{"q", "w" + std::to_string(w), 30000, batch(w)});
          ASSERT_TRUE(got) << got.error().ToString();
          if (got.value().empty()) return;
          std::lock_guard lock(mu);
          for (const auto& c : got.value()) all.push_back(c.job_id);
        }
      });
    }
    for (auto& t : threads) t.join();
    return all;
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
  const std::vector<std::string> all = ClaimUntilEmpty(6, [](int) { return size_t{3}; });
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

// Progress and log lines leave a running job's lease where it was (the
// lease row is not rewritten for them); a heartbeat moves it. Both the
// live views and a rebuild's agree.
TEST_F(WorkerTest, ProgressKeepsTheLeaseAndAHeartbeatMovesIt) {
  const std::string a = EnqueueIn("q");
  const std::string b = EnqueueIn("q");
  ASSERT_EQ(ClaimIds("q", 2, "w1", 30000).size(), 2u);
  clock_.Advance(10000);
  MustAppend(a, Progressed{50.0, "half", "", {}, std::nullopt});
  MustAppend(a, Logged{LogLevel::kInfo, "page 3 of 6", "", {}});
  ASSERT_TRUE(store_->Heartbeat(HeartbeatRequest{b, "w1", 30000, std::nullopt, ""}));
  clock_.Advance(19999);  // a's lease ends at 30000, b's at 40000
  EXPECT_EQ(store_->RunMaintenance({}).value().leases_expired, 0u);
  clock_.Advance(2);
  EXPECT_EQ(store_->RunMaintenance({}).value().leases_expired, 1u);
  EXPECT_EQ(store_->Status(a).value().status, JobStatus::kRetrying);
  EXPECT_EQ(store_->Status(b).value().status, JobStatus::kRunning);
  clock_.Advance(10000);
  EXPECT_EQ(store_->RunMaintenance({}).value().leases_expired, 1u);
  EXPECT_EQ(store_->Status(b).value().status, JobStatus::kRetrying);
  auto verified = store_->Verify(nullptr);  // the views equal a fresh fold
  ASSERT_TRUE(verified) << verified.error().ToString();
  EXPECT_TRUE(verified.value().ok()) << (verified.value().problems.empty()
                                             ? std::string()
                                             : verified.value().problems.front());
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


// The pass counts what is due only when asked (the server's ticker does
// not ask: the count walks every claim row).
TEST_F(WorkerTest, MaintenanceCountsDueJobsOnlyWhenAsked) {
  EnqueueIn("q", 0, clock_.Now() + 1000);  // delayed
  clock_.Advance(2000);
  auto counted = store_->RunMaintenance({});
  ASSERT_TRUE(counted);
  EXPECT_EQ(counted.value().due_delayed, 1u);
  MaintenanceOptions tick;
  tick.count_due = false;
  auto quiet = store_->RunMaintenance(tick);
  ASSERT_TRUE(quiet);
  EXPECT_EQ(quiet.value().due_delayed, 0u);
  EXPECT_EQ(ClaimIds("q", 5).size(), 1u);  // still claimable, of course
}

TEST_F(WorkerTest, UniqueKeysArePerOwner) {
  EnqueueRequest mine;
  mine.spec.type = "report";
  mine.spec.owner = "alice";
  mine.spec.unique_key = "daily";
  EnqueueRequest theirs = mine;
  theirs.spec.owner = "mallory";
  auto a = store_->Enqueue(mine);
  auto m = store_->Enqueue(theirs);
  ASSERT_TRUE(a && m);
  // Another owner's enqueue with the same key never gets alice's job.
  EXPECT_NE(a.value().job_id, m.value().job_id);
  EXPECT_FALSE(m.value().duplicate);
  auto again = store_->Enqueue(mine);
  ASSERT_TRUE(again);
  EXPECT_EQ(again.value().job_id, a.value().job_id);
}

// The issue's guarantee: 16 claimers racing over 1,000 jobs hand each job
// out exactly once, and every job ends up started once.
TEST_F(WorkerTest, SixteenClaimersHandEachOfAThousandJobsOutOnce) {
  constexpr int kJobs = 1000;
  std::vector<WriteCommand> enqueues;
  for (int i = 0; i < kJobs; ++i) {
    EnqueueRequest r;
    r.spec.type = "scrape";
    r.spec.queue = "q";
    r.spec.priority = i % 3;
    enqueues.emplace_back(std::move(r));
  }
  for (const auto& r : store_->WriteMany(std::move(enqueues))) ASSERT_TRUE(r);
  const std::vector<std::string> all =
      ClaimUntilEmpty(16, [](int w) { return size_t(1 + w % 7); });
  EXPECT_EQ(all.size(), size_t(kJobs));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), size_t(kJobs));
  for (const std::string& id : all) {
    auto job = store_->LoadJob(id, std::nullopt);
    ASSERT_TRUE(job);
    EXPECT_EQ(job.value().attempts, 1);
    EXPECT_EQ(job.value().status, JobStatus::kRunning);
  }
}

// The worker's round trip: finishing the jobs it holds and claiming the
// next ones is one call, and one commit.
TEST_F(WorkerTest, AppendAndClaimFinishesAndFetchesInOneCall) {
  const std::string first = EnqueueIn("q");
  clock_.Advance(1);
  const std::string second = EnqueueIn("q");
  ASSERT_EQ(ClaimIds("q", 1), std::vector<std::string>{first});
  const uint64_t before = store_->Progress().log_position;
  AppendRequest done;
  done.job_id = first;
  done.actor = "w1";
  done.events.push_back(Progressed{50.0, "half", "", {}, std::nullopt});
  done.events.push_back(Completed{R"({"ok":true})", {}});
  AppendRequest bad;  // refused: fails alone, the rest goes on
  bad.job_id = second;
  bad.actor = "w1";
  bad.events.push_back(Completed{"{}", {}});
  auto out = store_->AppendAndClaim({done, bad}, ClaimRequest{"q", "w1", 30000, 5});
  ASSERT_TRUE(out) << out.error().ToString();
  ASSERT_EQ(out.value().appended.size(), 2u);
  ASSERT_TRUE(out.value().appended[0]);
  EXPECT_EQ(out.value().appended[0].value().status, JobStatus::kCompleted);
  ASSERT_FALSE(out.value().appended[1]);
  EXPECT_EQ(out.value().appended[1].error().reason, "INVALID_TRANSITION");
  ASSERT_EQ(out.value().jobs.size(), 1u);
  EXPECT_EQ(out.value().jobs[0].job_id, second);
  EXPECT_EQ(out.value().jobs[0].attempt, 1);
  // progressed, completed, started: three events, nothing of the refusal.
  EXPECT_EQ(store_->Progress().log_position, before + 3);
  EXPECT_EQ(store_->Status(first).value().status, JobStatus::kCompleted);
  EXPECT_EQ(store_->Status(second).value().status, JobStatus::kRunning);
  // Only appends (max_jobs 0): finish without fetching more.
  AppendRequest finish;
  finish.job_id = second;
  finish.actor = "w1";
  finish.events.push_back(Completed{"{}", {}});
  auto last = store_->AppendAndClaim({finish}, ClaimRequest{"q", "w1", 30000, 0});
  ASSERT_TRUE(last);
  EXPECT_TRUE(last.value().jobs.empty());
  EXPECT_TRUE(last.value().appended[0]);
  EXPECT_FALSE(store_->AppendAndClaim({}, ClaimRequest{"q", "w1", 30000, 0}));
}

// The claim index lives in memory: reopening the store rebuilds it from
// the views (ready and delayed jobs alike, a logged-to job included).
TEST_F(WorkerTest, ClaimIndexIsRebuiltOnReopen) {
  const std::string a = EnqueueIn("q");
  clock_.Advance(1);
  const std::string b = EnqueueIn("q", 0, clock_.Now() + 5000);  // delayed
  MustAppend(a, Logged{LogLevel::kInfo, "waiting", "", {}});
  // Reopen: the claim index is rebuilt from the views.
  store_.reset();
  JobStoreOptions options;
  options.data_dir = dir_;
  options.clock = &clock_;
  store_ = JobStore::Open(options).value();
  EXPECT_EQ(ClaimIds("q", 5), std::vector<std::string>{a});
  clock_.Advance(5000);
  EXPECT_EQ(ClaimIds("q", 5), std::vector<std::string>{b});
  EXPECT_TRUE(ClaimIds("q", 5).empty());
}

// Leases live in memory too: reopening the store finds every running job's
// lease again (a heartbeat's, not the claim's), and none of a job that
// ended; maintenance and health then see them as before.
TEST_F(WorkerTest, LeasesAreRefilledOnReopen) {
  const std::string a = EnqueueIn("q");
  const std::string b = EnqueueIn("q");
  const std::string c = EnqueueIn("q");
  ASSERT_EQ(ClaimIds("q", 3, "w1", 30000).size(), 3u);  // all end at 30000
  clock_.Advance(10000);
  ASSERT_TRUE(store_->Heartbeat(HeartbeatRequest{b, "w1", 30000, std::nullopt, ""}));  // 40000
  MustAppend(c, Completed{"", {}});
  store_.reset();
  JobStoreOptions options;
  options.data_dir = dir_;
  options.clock = &clock_;
  store_ = JobStore::Open(options).value();
  clock_.Advance(20000);  // 30000: nothing ran out yet
  EXPECT_EQ(store_->Health().stuck, 0u);
  EXPECT_EQ(store_->RunMaintenance({}).value().leases_expired, 0u);
  clock_.Advance(1);
  HealthReport h = store_->Health();
  EXPECT_EQ(h.stuck, 1u);
  EXPECT_EQ(h.stuck_job_ids, std::vector<std::string>{a});
  EXPECT_EQ(store_->RunMaintenance({}).value().leases_expired, 1u);
  EXPECT_EQ(store_->Status(a).value().status, JobStatus::kRetrying);
  clock_.Advance(10000);
  EXPECT_EQ(store_->RunMaintenance({}).value().leases_expired, 1u);
  EXPECT_EQ(store_->Status(b).value().status, JobStatus::kRetrying);
  EXPECT_EQ(store_->Status(c).value().status, JobStatus::kCompleted);
  EXPECT_EQ(store_->Health().stuck, 0u);
}

// A start fills the index queue by queue, from rows in (queue, priority,
// ready time) order: every queue keeps its own jobs in claim order.
TEST_F(WorkerTest, ClaimIndexIsRebuiltQueueByQueueInClaimOrder) {
  const std::string low = EnqueueIn("q1", 0);
  clock_.Advance(1);
  const std::string high = EnqueueIn("q1", 5);
  clock_.Advance(1);
  const std::string later_low = EnqueueIn("q1", 0);
  const std::string other = EnqueueIn("q2", 0);
  const std::string third = EnqueueIn("q3", -1);
  store_.reset();
  JobStoreOptions options;
  options.data_dir = dir_;
  options.clock = &clock_;
  store_ = JobStore::Open(options).value();
  EXPECT_EQ(ClaimIds("q1", 5), (std::vector<std::string>{high, low, later_low}));
  EXPECT_EQ(ClaimIds("q2", 5), std::vector<std::string>{other});
  EXPECT_EQ(ClaimIds("q3", 5), std::vector<std::string>{third});
}

// POST /v1/batch's store call: every write in one commit, each answered
// as its own Enqueue/Append would be, later writes seeing earlier ones.
TEST_F(WorkerTest, WriteManyAnswersEachCommandInOrder) {
  const std::string existing = EnqueueIn("q");
  std::vector<WriteCommand> commands;
  EnqueueRequest fresh;
  fresh.job_id = "batch-job-1";
  fresh.spec.type = "scrape";
  commands.emplace_back(fresh);
  AppendRequest start;
  start.job_id = "batch-job-1";
  start.events.push_back(Started{0, "w", std::nullopt});
  commands.emplace_back(start);
  AppendRequest done = start;
  done.events = {Completed{"{}", {}}};
  commands.emplace_back(done);
  AppendRequest stale;
  stale.job_id = existing;
  stale.expected_version = 7;
  stale.events.push_back(Cancelled{});
  commands.emplace_back(stale);
  AppendRequest missing;
  missing.job_id = "no-such-job";
  missing.events.push_back(Cancelled{});
  commands.emplace_back(missing);
  commands.emplace_back(fresh);  // the same id again: exists now
  auto results = store_->WriteMany(std::move(commands));
  ASSERT_EQ(results.size(), 6u);
  ASSERT_TRUE(results[0] && results[1] && results[2]);
  EXPECT_EQ(results[2].value().status, JobStatus::kCompleted);
  EXPECT_EQ(results[2].value().version, 3u);
  EXPECT_EQ(results[3].error().reason, "VERSION_CONFLICT");
  EXPECT_EQ(results[4].error().reason, "JOB_NOT_FOUND");
  EXPECT_EQ(results[5].error().reason, "JOB_EXISTS");
  EXPECT_EQ(store_->Status("batch-job-1").value().status, JobStatus::kCompleted);
  EXPECT_EQ(store_->Status(existing).value().version, 1u);
}

}  // namespace
}  // namespace jobtrail::testing
