// Bulk actions over everything a filter matches (projections/bulk_action.h).
#include <gtest/gtest.h>

#include "projections/bulk_action.h"
#include "tests/projections/store_fixture.h"

namespace jobtrail::testing {
namespace {

class BulkTest : public StoreTest {
 protected:
  // 1,200 jobs of type "sync" (more than two bulk pages) in three states,
  // plus others that no filter below matches.
  void WriteJobs() {
    std::vector<WriteCommand> batch;
    for (int i = 0; i < 1200; ++i) {
      EnqueueRequest r;
      r.spec.type = i < 1100 ? "sync" : "other";
      r.spec.owner = "alice";
      r.spec.payload_json = i % 2 ? R"({"shop":"north"})" : R"({"shop":"south"})";
      r.actor = "api";
      batch.emplace_back(std::move(r));
    }
    for (auto& w : store_->WriteMany(std::move(batch))) {
      ASSERT_TRUE(w);
      ids_.push_back(w.value().job_id);
    }
    for (int i = 0; i < 30; ++i) {
      MustAppend(ids_[i], Started{});
      MustAppend(ids_[i], i < 10 ? EventBody(Completed{"{}", {}}) : EventBody(Failed{"x", "", ""}));
    }
  }
  BulkReport Run(BulkRequest request) {
    request.actor = "ops";
    auto report = RunBulkAction(*store_, *store_, request);
    EXPECT_TRUE(report) << report.error().ToString();
    return report ? report.value() : BulkReport{};
  }
  uint64_t Count(JobStatus status) {
    auto page = store_->List(ListQuery{.statuses = {status}, .type = "sync", .limit = 1});
    return page ? page.value().total : 0;
  }
  std::vector<std::string> ids_;
};

TEST_F(BulkTest, DryRunOnlyCounts) {
  WriteJobs();
  const BulkReport r = Run(BulkRequest{.filter = {.type = "sync"},
                                       .action = BulkActionKind::kCancel,
                                       .dry_run = true});
  EXPECT_EQ(r.matched, 1100u);
  EXPECT_EQ(r.changed, 1070u);
  EXPECT_EQ(r.skipped, 30u);
  EXPECT_EQ((r.skipped_by.at({"INVALID_TRANSITION", "completed"})), 10u);
  EXPECT_EQ((r.skipped_by.at({"INVALID_TRANSITION", "failed"})), 20u);
  EXPECT_EQ(Count(JobStatus::kCancelled), 0u);
}

TEST_F(BulkTest, CancelsEveryMatchEachAsItsOwnEvent) {
  WriteJobs();
  const BulkReport r = Run(BulkRequest{.filter = {.type = "sync"},
                                       .action = BulkActionKind::kCancel,
                                       .reason = "shop closed"});
  EXPECT_EQ(r.changed, 1070u);
  EXPECT_EQ(r.skipped, 30u);
  EXPECT_EQ(Count(JobStatus::kCancelled), 1070u);
  auto history = store_->History(ids_[500]);
  ASSERT_TRUE(history);
  ASSERT_EQ(history.value().size(), 2u);
  EXPECT_EQ(history.value()[1].actor, "ops");
  EXPECT_EQ(std::get<Cancelled>(history.value()[1].body).reason, "shop closed");
  // The others are untouched.
  auto other = store_->Status(ids_[1150]);
  ASSERT_TRUE(other);
  EXPECT_EQ(other.value().status, JobStatus::kPending);
}

TEST_F(BulkTest, RetriesBySearchAndStatus) {
  WriteJobs();
  const BulkReport r = Run(BulkRequest{
      .filter = {.statuses = {JobStatus::kFailed}, .text = "north"},
      .action = BulkActionKind::kRetry});
  EXPECT_EQ(r.matched, 10u);  // the odd ones of the 20 failed
  EXPECT_EQ(r.changed, 10u);
  EXPECT_EQ(Count(JobStatus::kFailed), 10u);
  EXPECT_EQ(Count(JobStatus::kRetrying), 10u);
  auto job = store_->LoadJob(ids_[11], std::nullopt);
  ASSERT_TRUE(job);
  EXPECT_EQ(job.value().status, JobStatus::kRetrying);
  EXPECT_EQ(job.value().manual_retries, 1);
  // Again: nothing is failed and north any more.
  EXPECT_EQ(Run(BulkRequest{.filter = {.statuses = {JobStatus::kFailed}, .text = "north"},
                            .action = BulkActionKind::kRetry})
                .matched,
            0u);
}

}  // namespace
}  // namespace jobtrail::testing
