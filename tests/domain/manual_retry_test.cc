// A manual retry (SPEC §3: an operator re-runs a failed or cancelled job):
// a `retried` event with manual=true. The table covers every state; the
// other tests show what the re-run keeps and what it grants.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "domain/job_event.h"
#include "domain/job_view.h"
#include "tests/domain/job_test_util.h"

namespace jobtrail {
namespace {

using testing_util::MakeEnqueued;
using testing_util::MakeErrored;
using testing_util::MakeStream;

Retried Manual(int32_t attempt = 0) {
  Retried r;
  r.attempt = attempt;
  r.next_run_at = 500'000;
  r.manual = true;
  return r;
}

struct Case {
  std::string name;
  std::vector<EventBody> history;
  std::optional<JobStatus> accepted;  // the status after, or rejected
  std::string reason;                 // the rejection's reason
};

std::vector<Case> Cases() {
  return {
      {"Pending", {MakeEnqueued()}, std::nullopt, "INVALID_TRANSITION"},
      {"Running", {MakeEnqueued(), Started{}}, std::nullopt, "INVALID_TRANSITION"},
      {"RunningAfterError", {MakeEnqueued(), Started{}, MakeErrored()}, std::nullopt,
       "INVALID_TRANSITION"},
      {"Retrying",
       {MakeEnqueued(), Started{}, MakeErrored(), Retried{0, 60'000, 5'000}},
       std::nullopt,
       "INVALID_TRANSITION"},
      {"Completed", {MakeEnqueued(), Started{}, Completed{"{}", {}}}, std::nullopt,
       "INVALID_TRANSITION"},
      {"Failed", {MakeEnqueued(), Started{}, Failed{"gave up", "", ""}}, JobStatus::kRetrying, ""},
      {"FailedOutOfAttempts",
       {MakeEnqueued(1), Started{}, MakeErrored(), Failed{}},
       JobStatus::kRetrying,
       ""},
      {"CancelledWhilePending", {MakeEnqueued(), Cancelled{"no", "ops"}}, JobStatus::kRetrying, ""},
      {"CancelledWhileRunning", {MakeEnqueued(), Started{}, Cancelled{"stop", "ops"}},
       JobStatus::kRetrying, ""},
  };
}

class ManualRetryTable : public ::testing::TestWithParam<Case> {};

TEST_P(ManualRetryTable, AcceptsOnlyFailedOrCancelled) {
  const Case& c = GetParam();
  Result<JobView> built = FoldEvents(MakeStream(c.history));
  ASSERT_TRUE(built) << built.error().ToString();
  JobView job = built.value();
  const JobView before = job;
  testing_util::JobStream stream;
  stream.mutable_job() = job;
  Result<void> applied = ApplyEvent(job, stream.Next(Manual(), job.updated_at + 10));
  if (c.accepted) {
    ASSERT_TRUE(applied) << applied.error().ToString();
    EXPECT_EQ(job.status, *c.accepted);
    EXPECT_EQ(job.manual_retries, 1);
  } else {
    ASSERT_FALSE(applied);
    EXPECT_EQ(applied.error().code, Code::kFailedPrecondition);
    EXPECT_EQ(applied.error().reason, c.reason);
    EXPECT_TRUE(job == before);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryState, ManualRetryTable, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

TEST(ManualRetryTest, AWorkersRetryCannotReopenAFinalJob) {
  for (const auto& history : std::vector<std::vector<EventBody>>{
           {MakeEnqueued(), Started{}, MakeErrored(), Failed{}},
           {MakeEnqueued(), Cancelled{"no", "ops"}}}) {
    Result<JobView> job = FoldEvents(MakeStream(history));
    ASSERT_TRUE(job);
    Result<void> checked = CheckTransition(job.value(), Retried{0, 60'000, 0});
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error().reason, "INVALID_TRANSITION");
  }
}

TEST(ManualRetryTest, ReopensTheJobAndKeepsItsHistory) {
  testing_util::JobStream s;
  ASSERT_TRUE(s.Append(MakeEnqueued(2), 1000));
  ASSERT_TRUE(s.Append(Started{}, 2000));
  ASSERT_TRUE(s.Append(MakeErrored("first"), 3000));
  ASSERT_TRUE(s.Append(Retried{0, 4000, 1000}, 3000));
  ASSERT_TRUE(s.Append(Started{}, 4000));
  ASSERT_TRUE(s.Append(MakeErrored("second"), 5000));
  ASSERT_TRUE(s.Append(Failed{}, 5000));
  ASSERT_EQ(s.job().RetriesLeft(), 0);
  ASSERT_TRUE(s.job().final_error);

  ASSERT_TRUE(s.Append(Manual(3), 9000));
  const JobView& job = s.job();
  EXPECT_EQ(job.status, JobStatus::kRetrying);
  EXPECT_EQ(job.next_retry_at, 500'000);
  // Out of attempts: the retry grants the one it starts.
  EXPECT_EQ(job.spec.max_attempts, 3);
  EXPECT_EQ(job.RetriesLeft(), 1);
  // The status forgets the failure; the error log keeps both errors.
  EXPECT_FALSE(job.final_error);
  EXPECT_FALSE(job.failed_at);
  EXPECT_FALSE(job.finished_at);
  ASSERT_EQ(job.errors.size(), 2u);
  EXPECT_EQ(job.errors[1].message, "second");

  // The new attempt runs like any other and may complete.
  ASSERT_TRUE(s.Append(Started{3, "w", std::nullopt}, 10'000));
  ASSERT_TRUE(s.Append(Completed{"{}", {}}, 11'000));
  EXPECT_EQ(s.job().status, JobStatus::kCompleted);
  EXPECT_EQ(s.job().attempts, 3);
}

TEST(ManualRetryTest, ACancelledJobForgetsItsCancellation) {
  testing_util::JobStream s;
  ASSERT_TRUE(s.Append(MakeEnqueued(), 1000));
  ASSERT_TRUE(s.Append(Cancelled{"not now", "ops"}, 2000));
  ASSERT_TRUE(s.Append(Manual(), 3000));
  EXPECT_EQ(s.job().status, JobStatus::kRetrying);
  EXPECT_TRUE(s.job().cancel_reason.empty());
  EXPECT_FALSE(s.job().cancelled_at);
  EXPECT_EQ(s.job().spec.max_attempts, 3);  // attempts were left: unchanged
  ASSERT_TRUE(s.Append(Started{1, "w", std::nullopt}, 4000));
  // Retried by hand twice over its life.
  ASSERT_TRUE(s.Append(Cancelled{"again", "ops"}, 5000));
  ASSERT_TRUE(s.Append(Manual(), 6000));
  EXPECT_EQ(s.job().manual_retries, 2);
}

TEST(ManualRetryTest, AWrongAttemptNumberIsRefused) {
  Result<JobView> job = FoldEvents(MakeStream({MakeEnqueued(), Cancelled{"no", "ops"}}));
  ASSERT_TRUE(job);
  Result<void> checked = CheckTransition(job.value(), Manual(5));
  ASSERT_FALSE(checked);
  EXPECT_EQ(checked.error().reason, "ATTEMPT_MISMATCH");
  EXPECT_TRUE(CheckTransition(job.value(), Manual(1)));
}

}  // namespace
}  // namespace jobtrail
