// Stats and health read models, driven by an injected clock.
#include "tests/projections/store_fixture.h"

namespace jobtrail::testing {
namespace {

class StatsHealthTest : public StoreTest {};

TEST_F(StatsHealthTest, CountsAttemptsSuccessRateAndDurations) {
  for (int i = 0; i < 4; ++i) {
    const std::string id = Enqueue("pdf");
    MustAppend(id, Started{});
    clock_.Advance(1000 * (i + 1));
    MustAppend(id, Completed{});
  }
  const std::string bad = Enqueue("pdf", "alice", "", 2);
  MustAppend(bad, Started{});
  MustAppend(bad, Errored{0, "Boom", "exploded", "", "", {}});
  MustAppend(bad, Retried{0, clock_.Now(), 0});
  MustAppend(bad, Started{});
  MustAppend(bad, Errored{0, "Boom", "exploded again", "", "", {}});
  MustAppend(bad, Failed{});
  Enqueue("email");

  StatsSnapshot s = store_->Stats();
  EXPECT_EQ(s.total, 6u);
  EXPECT_EQ(s.by_status[size_t(JobStatus::kCompleted)], 4u);
  EXPECT_EQ(s.by_status[size_t(JobStatus::kFailed)], 1u);
  EXPECT_EQ(s.by_status[size_t(JobStatus::kPending)], 1u);
  EXPECT_DOUBLE_EQ(s.SuccessRate(), 0.8);
  EXPECT_DOUBLE_EQ(s.AverageAttempts(JobStatus::kFailed), 2.0);
  EXPECT_DOUBLE_EQ(s.AverageAttempts(JobStatus::kCompleted), 1.0);
  ASSERT_EQ(s.by_type.count("pdf"), 1u);
  const TypeStats& pdf = s.by_type.at("pdf");
  EXPECT_EQ(pdf.total, 5u);
  EXPECT_EQ(pdf.processing.count, 5u);
  // Durations 0, 1, 2, 3 and 4 s: the median is 2 s, within a bucket (10%).
  EXPECT_NEAR(pdf.processing.p50_ms, 2000, 2000 * 0.06);
  EXPECT_DOUBLE_EQ(pdf.processing.mean_ms, 2000);
  EXPECT_EQ(s.errors_total, 2u);
  uint64_t finished = 0;
  for (const auto& [hour, n] : s.finished_per_hour) finished += n;
  EXPECT_EQ(finished, 5u);
}

TEST_F(StatsHealthTest, StatsSurviveRestart) {
  const std::string id = Enqueue("pdf");
  MustAppend(id, Started{});
  MustAppend(id, Completed{});
  const StatsSnapshot before = store_->Stats();
  Reopen();
  const StatsSnapshot after = store_->Stats();
  EXPECT_EQ(after.total, before.total);
  EXPECT_EQ(after.by_status, before.by_status);
  EXPECT_EQ(after.processing.count, 1u);
}

// Each job type's totals are a row of their own, written when the type
// changes: they come back after a restart whichever batch last wrote them.
TEST_F(StatsHealthTest, PerTypeStatsSurviveRestart) {
  const std::string a = Enqueue("pdf");
  MustAppend(a, Started{});
  MustAppend(a, Completed{});
  Enqueue("email");
  Enqueue("email");  // later batches touch only "email"
  const StatsSnapshot before = store_->Stats();
  ASSERT_EQ(before.by_type.size(), 2u);
  Reopen();
  const StatsSnapshot after = store_->Stats();
  ASSERT_EQ(after.by_type.size(), 2u);
  EXPECT_EQ(after.by_type.at("pdf").total, 1u);
  EXPECT_EQ(after.by_type.at("pdf").processing.count, 1u);
  EXPECT_EQ(after.by_type.at("email").total, 2u);
  EXPECT_EQ(after.by_type.at("email").by_status, before.by_type.at("email").by_status);
  auto verified = store_->Verify(nullptr);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified.value().ok()) << verified.value().problems.front();
}

TEST_F(StatsHealthTest, HealthyWhenIdle) {
  HealthReport h = store_->Health();
  EXPECT_EQ(h.level, HealthLevel::kHealthy);
  EXPECT_TRUE(h.alerts.empty());
  EXPECT_FALSE(h.oldest_pending_age);
}

TEST_F(StatsHealthTest, OverdueLeaseIsStuckAndOldPendingWarns) {
  const std::string running = Enqueue();
  MustAppend(running, Started{1, "w1", clock_.Now() + 30000});
  Enqueue();
  EXPECT_EQ(store_->Health().stuck, 0u);
  clock_.Advance(31000);
  HealthReport h = store_->Health();
  EXPECT_EQ(h.stuck, 1u);
  ASSERT_EQ(h.stuck_job_ids.size(), 1u);
  EXPECT_EQ(h.stuck_job_ids[0], running);
  EXPECT_EQ(h.level, HealthLevel::kWarning);
  EXPECT_EQ(h.queue_depth, 1u);
  EXPECT_EQ(*h.oldest_pending_age, 31000);

  clock_.Advance(2 * 3600 * 1000);
  h = store_->Health();
  EXPECT_EQ(h.level, HealthLevel::kCritical);  // pending for over an hour
  EXPECT_FALSE(h.recommendations.empty());

  MustAppend(running, Completed{});
  EXPECT_EQ(store_->Health().stuck, 0u);
}

}  // namespace
}  // namespace jobtrail::testing
