// The JobView aggregate: what each event does to the job, beyond the status
// (transition_table_test.cc covers which transitions are allowed).
#include "domain/job_view.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "domain/error.h"
#include "domain/job_event.h"
#include "domain/job_status.h"
#include "tests/domain/job_test_util.h"

namespace jobtrail {
namespace {

using testing_util::JobStream;
using testing_util::MakeEnqueued;
using testing_util::MakeErrored;
using testing_util::MakeStream;

#define ASSERT_OK(expr)                                                      \
  do {                                                                       \
    auto ok_result = (expr);                                                 \
    ASSERT_TRUE(ok_result) << #expr << ": " << ok_result.error().ToString(); \
  } while (0)

// Asserts that `body` is rejected with `code`/`reason` and changes nothing.
void ExpectRejected(JobStream& stream, EventBody body, Code code,
                    const std::string& reason) {
  const JobView before = stream.job();
  Result<void> r = stream.Append(std::move(body), before.updated_at + 1);
  ASSERT_FALSE(r) << "accepted, expected " << reason;
  EXPECT_EQ(r.error().code, code) << r.error().ToString();
  EXPECT_EQ(r.error().reason, reason) << r.error().ToString();
  EXPECT_TRUE(stream.job() == before) << "a rejected event changed the job";
}

Artifact Screenshot(std::string name) {
  return Artifact{"screenshot", "https://s3.example/shots/" + name + ".png",
                  "shots/" + name + ".png", "image/png", ""};
}

TEST(JobViewTest, FullLifecycleWithTwoRetries) {
  JobStream s("job-7");
  const Enqueued enqueued = MakeEnqueued(3);
  ASSERT_OK(s.Append(enqueued, 1'000));
  EXPECT_EQ(s.job().job_id, "job-7");
  EXPECT_EQ(s.job().status, JobStatus::kPending);
  EXPECT_EQ(s.job().spec, enqueued);
  EXPECT_EQ(s.job().created_at, 1'000);
  EXPECT_EQ(s.job().attempts, 0);
  EXPECT_EQ(s.job().RetriesLeft(), 3);
  EXPECT_FALSE(s.job().started_at.has_value());

  ASSERT_OK(s.Append(Started{1, "worker-a", 32'000}, 2'000));
  EXPECT_EQ(s.job().status, JobStatus::kRunning);
  EXPECT_EQ(s.job().attempts, 1);
  EXPECT_EQ(s.job().RetriesLeft(), 2);
  EXPECT_EQ(s.job().worker_id, "worker-a");
  EXPECT_EQ(s.job().lease_deadline, 32'000);
  EXPECT_EQ(s.job().started_at, 2'000);
  EXPECT_EQ(s.job().last_attempt_at, 2'000);

  // 25% after 1s of running: 3s more to go.
  Progressed progress;
  progress.percent = 25.0;
  progress.message = "filling the form";
  progress.step = "page-1";
  progress.items.processed = 5;
  progress.items.total = 20;
  ASSERT_OK(s.Append(progress, 3'000));
  EXPECT_EQ(s.job().progress, 25.0);
  EXPECT_EQ(s.job().estimated_completion_at, 6'000);
  EXPECT_EQ(s.job().message, "filling the form");
  EXPECT_EQ(s.job().step, "page-1");
  EXPECT_EQ(s.job().items, (ItemCounts{5, 20, std::nullopt}));

  Errored first = MakeErrored("captcha not solved");
  first.attempt = 1;
  first.artifacts = {Screenshot("a1"),
                     Artifact{"page_source", "", "", "text/html", "<html/>"}};
  ASSERT_OK(s.Append(first, 4'000));
  EXPECT_EQ(s.job().status, JobStatus::kRunning);
  EXPECT_EQ(s.job().message, "captcha not solved");

  ASSERT_OK(s.Append(Retried{2, 10'000, 5'500}, 4'500));
  EXPECT_EQ(s.job().status, JobStatus::kRetrying);
  EXPECT_EQ(s.job().next_retry_at, 10'000);
  EXPECT_EQ(s.job().attempts, 1);
  EXPECT_EQ(s.job().worker_id, "");
  EXPECT_FALSE(s.job().lease_deadline.has_value());

  ASSERT_OK(s.Append(Started{0, "worker-b", 40'000}, 10'000));
  EXPECT_EQ(s.job().status, JobStatus::kRunning);
  EXPECT_EQ(s.job().attempts, 2);
  EXPECT_EQ(s.job().RetriesLeft(), 1);
  EXPECT_EQ(s.job().started_at, 2'000);  // still the first attempt's
  EXPECT_EQ(s.job().last_attempt_at, 10'000);
  EXPECT_FALSE(s.job().next_retry_at.has_value());
  EXPECT_EQ(s.job().worker_id, "worker-b");

  Errored second = MakeErrored("form changed");
  second.artifacts = {Screenshot("a2")};
  ASSERT_OK(s.Append(second, 11'000));
  ASSERT_OK(s.Append(Retried{0, 20'000, 8'500}, 11'500));
  EXPECT_EQ(s.job().next_retry_at, 20'000);
  ASSERT_OK(s.Append(Started{3, "worker-c", 50'000}, 20'000));
  EXPECT_EQ(s.job().attempts, 3);
  EXPECT_EQ(s.job().RetriesLeft(), 0);
  EXPECT_EQ(s.job().last_attempt_at, 20'000);
  EXPECT_FALSE(s.job().next_retry_at.has_value());

  // Only processed changes: the other counts are kept.
  Progressed more;
  more.items.processed = 15;
  ASSERT_OK(s.Append(more, 21'000));
  EXPECT_EQ(s.job().items, (ItemCounts{15, 20, std::nullopt}));
  EXPECT_EQ(s.job().progress, 25.0);

  ASSERT_OK(s.Append(
      Completed{R"({"pages":3})", ItemCounts{20, std::nullopt, 0}}, 25'000));
  const JobView& job = s.job();
  EXPECT_EQ(job.status, JobStatus::kCompleted);
  EXPECT_EQ(job.version, 11u);
  EXPECT_EQ(job.attempts, 3);
  EXPECT_EQ(job.RetriesLeft(), 0);
  EXPECT_EQ(job.result_json, R"({"pages":3})");
  EXPECT_EQ(job.items, (ItemCounts{20, 20, 0}));
  EXPECT_EQ(job.progress, 100.0);
  EXPECT_EQ(job.created_at, 1'000);
  EXPECT_EQ(job.updated_at, 25'000);
  EXPECT_EQ(job.started_at, 2'000);
  EXPECT_EQ(job.last_attempt_at, 20'000);
  EXPECT_EQ(job.completed_at, 25'000);
  EXPECT_EQ(job.finished_at, 25'000);
  EXPECT_FALSE(job.failed_at.has_value());
  EXPECT_FALSE(job.cancelled_at.has_value());
  EXPECT_FALSE(job.next_retry_at.has_value());
  EXPECT_FALSE(job.lease_deadline.has_value());
  EXPECT_FALSE(job.estimated_completion_at.has_value());
  EXPECT_FALSE(job.final_error.has_value());
  EXPECT_EQ(job.ProcessingTime(), 23'000);

  ASSERT_EQ(job.errors.size(), 2u);
  EXPECT_EQ(
      job.errors[0],
      (ErrorEntry{4'000, 1, "TimeoutError", "captcha not solved",
                  "at fill_form (bot.js:12)", "submit", first.artifacts}));
  EXPECT_EQ(
      job.errors[1],
      (ErrorEntry{11'000, 2, "TimeoutError", "form changed",
                  "at fill_form (bot.js:12)", "submit", second.artifacts}));
  ASSERT_NE(job.LastError(), nullptr);
  EXPECT_EQ(job.LastError()->message, "form changed");
}

TEST(JobViewTest, EstimateExtrapolatesFromFirstStart) {
  JobStream s;
  ASSERT_OK(s.Append(MakeEnqueued(), 0));
  ASSERT_OK(s.Append(Started{}, 10'000));
  Progressed p;
  p.percent = 0.0;  // nothing done yet: no rate to extrapolate from
  ASSERT_OK(s.Append(p, 12'000));
  EXPECT_FALSE(s.job().estimated_completion_at.has_value());
  p.percent = 40.0;  // 40% in 4s: 6s to go
  ASSERT_OK(s.Append(p, 14'000));
  EXPECT_EQ(s.job().estimated_completion_at, 20'000);
  p.percent = 100.0;
  ASSERT_OK(s.Append(p, 15'000));
  EXPECT_EQ(s.job().estimated_completion_at, 15'000);
}

TEST(JobViewTest, TinyPercentGivesNoEstimate) {
  JobStream s;
  ASSERT_OK(s.Append(MakeEnqueued(), 0));
  ASSERT_OK(s.Append(Started{}, 1'000));
  Progressed p;
  p.percent = 50.0;
  ASSERT_OK(s.Append(p, 2'000));
  ASSERT_TRUE(s.job().estimated_completion_at.has_value());
  // Extrapolating would overflow Millis; the old estimate is no longer true.
  p.percent = std::numeric_limits<double>::denorm_min();
  ASSERT_OK(s.Append(p, 3'000));
  EXPECT_EQ(s.job().progress, p.percent);
  EXPECT_FALSE(s.job().estimated_completion_at.has_value());
}

TEST(JobViewTest, FailedInheritsTheLastError) {
  JobStream s;
  ASSERT_OK(s.Append(MakeEnqueued(), 1'000));
  ASSERT_OK(s.Append(Started{}, 2'000));
  ASSERT_OK(s.Append(MakeErrored("first"), 3'000));
  Errored last = MakeErrored("upload rejected");
  last.error_type = "HttpError";
  last.stack = "at upload (api.js:99)";
  ASSERT_OK(s.Append(last, 4'000));
  ASSERT_OK(s.Append(Failed{}, 5'000));
  const JobView& job = s.job();
  EXPECT_EQ(job.status, JobStatus::kFailed);
  ASSERT_TRUE(job.final_error.has_value());
  EXPECT_EQ(*job.final_error, (FinalError{5'000, "upload rejected", "HttpError",
                                          "at upload (api.js:99)"}));
  EXPECT_EQ(job.message, "upload rejected");
  EXPECT_EQ(job.failed_at, 5'000);
  EXPECT_EQ(job.finished_at, 5'000);
  EXPECT_FALSE(job.completed_at.has_value());
  EXPECT_EQ(job.ProcessingTime(), 3'000);
  EXPECT_EQ(job.errors.size(), 2u);
}

TEST(JobViewTest, FailedKeepsItsOwnFieldsAndFillsOnlyEmptyOnes) {
  JobStream s;
  ASSERT_OK(s.Append(MakeEnqueued(), 1'000));
  ASSERT_OK(s.Append(Started{}, 2'000));
  ASSERT_OK(s.Append(MakeErrored("timed out"), 3'000));
  ASSERT_OK(s.Append(Failed{"operator gave up", "", ""}, 4'000));
  ASSERT_TRUE(s.job().final_error.has_value());
  EXPECT_EQ(*s.job().final_error,
            (FinalError{4'000, "operator gave up", "TimeoutError",
                        "at fill_form (bot.js:12)"}));
  EXPECT_EQ(s.job().message, "operator gave up");
}

TEST(JobViewTest, FailedWithoutErrorsHasItsOwnFieldsOnly) {
  JobStream s;
  ASSERT_OK(s.Append(MakeEnqueued(), 1'000));
  ASSERT_OK(s.Append(Started{}, 2'000));
  ASSERT_OK(s.Append(Failed{"bad input", "ValidationError", ""}, 3'000));
  ASSERT_TRUE(s.job().final_error.has_value());
  EXPECT_EQ(*s.job().final_error,
            (FinalError{3'000, "bad input", "ValidationError", ""}));
}

TEST(JobViewTest, MaxAttemptsIsEnforced) {
  JobStream s;
  ASSERT_OK(s.Append(MakeEnqueued(2), 1'000));
  ASSERT_OK(s.Append(Started{}, 2'000));
  ASSERT_OK(s.Append(MakeErrored(), 3'000));
  ASSERT_OK(s.Append(Retried{0, 5'000, 2'000}, 3'000));
  ASSERT_OK(s.Append(Started{}, 5'000));
  ASSERT_OK(s.Append(MakeErrored(), 6'000));
  EXPECT_EQ(s.job().attempts, 2);
  EXPECT_EQ(s.job().RetriesLeft(), 0);
  ExpectRejected(s, Retried{0, 9'000, 3'000}, Code::kFailedPrecondition,
                 "NO_ATTEMPTS_LEFT");
  ASSERT_OK(s.Append(Failed{}, 7'000));
  EXPECT_EQ(s.job().status, JobStatus::kFailed);
}

TEST(JobViewTest, StartRefusedWhenAttemptsAreUsedUp) {
  // Events cannot reach "retrying with no attempts left" (the retry is
  // refused first); the start check still holds on its own.
  JobView job;
  job.status = JobStatus::kRetrying;
  job.spec.max_attempts = 2;
  job.attempts = 2;
  Result<void> r = CheckTransition(job, Started{});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kFailedPrecondition);
  EXPECT_EQ(r.error().reason, "NO_ATTEMPTS_LEFT");
}

TEST(JobViewTest, AttemptNumbersMustMatch) {
  JobStream s;
  ASSERT_OK(s.Append(MakeEnqueued(3), 1'000));
  ExpectRejected(s, Started{2, "w", std::nullopt}, Code::kFailedPrecondition,
                 "ATTEMPT_MISMATCH");
  ASSERT_OK(s.Append(Started{1, "w", std::nullopt}, 2'000));

  Errored wrong = MakeErrored();
  wrong.attempt = 2;
  ExpectRejected(s, wrong, Code::kFailedPrecondition, "ATTEMPT_MISMATCH");
  Errored right = MakeErrored();
  right.attempt = 1;
  ASSERT_OK(s.Append(right, 3'000));

  ExpectRejected(s, Retried{3, 9'000, 0}, Code::kFailedPrecondition,
                 "ATTEMPT_MISMATCH");
  ExpectRejected(s, Retried{1, 9'000, 0}, Code::kFailedPrecondition,
                 "ATTEMPT_MISMATCH");
  ASSERT_OK(s.Append(Retried{2, 9'000, 0}, 4'000));

  ExpectRejected(s, Started{3, "w", std::nullopt}, Code::kFailedPrecondition,
                 "ATTEMPT_MISMATCH");
  ExpectRejected(s, Started{1, "w", std::nullopt}, Code::kFailedPrecondition,
                 "ATTEMPT_MISMATCH");
  ASSERT_OK(s.Append(Started{2, "w", std::nullopt}, 9'000));
  EXPECT_EQ(s.job().attempts, 2);
}

TEST(JobViewTest, RetryNeedsAnErrorInTheCurrentAttempt) {
  JobStream s;
  ASSERT_OK(s.Append(MakeEnqueued(3), 1'000));
  ASSERT_OK(s.Append(Started{}, 2'000));
  ASSERT_OK(s.Append(MakeErrored(), 3'000));
  ASSERT_OK(s.Append(Retried{}, 4'000));
  ASSERT_OK(s.Append(Started{}, 5'000));
  // The error belongs to attempt 1; attempt 2 has not failed.
  ExpectRejected(s, Retried{}, Code::kFailedPrecondition, "INVALID_TRANSITION");
}

TEST(JobViewTest, PercentOutOfRangeIsInvalidInput) {
  JobStream s;
  ASSERT_OK(s.Append(MakeEnqueued(), 1'000));
  ASSERT_OK(s.Append(Started{}, 2'000));
  for (double bad : {-0.5, 100.01, 1e9, std::nan(""),
                     std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    SCOPED_TRACE(bad);
    Progressed p;
    p.percent = bad;
    ExpectRejected(s, p, Code::kInvalidArgument, "INVALID_INPUT");
  }
  for (double good : {0.0, 100.0}) {
    Progressed p;
    p.percent = good;
    ASSERT_OK(s.Append(p, 3'000));
    EXPECT_EQ(s.job().progress, good);
  }
}

TEST(JobViewTest, OtherOutOfRangeFieldsAreInvalidInput) {
  JobStream s;
  Enqueued no_type = MakeEnqueued();
  no_type.type.clear();
  ExpectRejected(s, no_type, Code::kInvalidArgument, "INVALID_INPUT");
  ExpectRejected(s, MakeEnqueued(0), Code::kInvalidArgument, "INVALID_INPUT");
  ExpectRejected(s, MakeEnqueued(1001), Code::kInvalidArgument,
                 "INVALID_INPUT");
  ASSERT_OK(s.Append(MakeEnqueued(1000), 1'000));
  ASSERT_OK(s.Append(Started{}, 2'000));

  Progressed negative_items;
  negative_items.items.failed = -1;
  ExpectRejected(s, negative_items, Code::kInvalidArgument, "INVALID_INPUT");
  ExpectRejected(s, Completed{"", ItemCounts{-3, std::nullopt, std::nullopt}},
                 Code::kInvalidArgument, "INVALID_INPUT");
  ASSERT_OK(s.Append(MakeErrored(), 3'000));
  ExpectRejected(s, Retried{0, 9'000, -1}, Code::kInvalidArgument,
                 "INVALID_INPUT");
}

TEST(JobViewTest, RejectedEventLeavesTheJobUnchanged) {
  // A job with something in every part of the view.
  JobStream s;
  ASSERT_OK(s.Append(MakeEnqueued(2), 1'000));
  ASSERT_OK(s.Append(Logged{LogLevel::kWarn, "slow start", "{}", {}}, 1'500));
  ASSERT_OK(s.Append(Started{0, "w", 60'000}, 2'000));
  Progressed p;
  p.percent = 10.0;
  p.items.total = 3;
  ASSERT_OK(s.Append(p, 3'000));
  ASSERT_OK(s.Append(MakeErrored(), 4'000));
  const JobView before = s.job();

  ExpectRejected(s, MakeEnqueued(), Code::kFailedPrecondition,
                 "INVALID_TRANSITION");
  ExpectRejected(s, Started{}, Code::kFailedPrecondition, "INVALID_TRANSITION");
  Progressed bad;
  bad.percent = 101.0;
  bad.message = "must not stick";
  ExpectRejected(s, bad, Code::kInvalidArgument, "INVALID_INPUT");
  Errored mismatch = MakeErrored("must not stick");
  mismatch.attempt = 7;
  ExpectRejected(s, mismatch, Code::kFailedPrecondition, "ATTEMPT_MISMATCH");

  RecordedEvent gap = s.Next(Completed{"{}", {}}, 5'000);
  gap.version += 1;
  JobView job = s.job();
  Result<void> r = ApplyEvent(job, gap);
  ASSERT_FALSE(r);
  EXPECT_TRUE(job == before);
  EXPECT_TRUE(s.job() == before);
}

TEST(JobViewTest, VersionGapIsDataLoss) {
  JobStream s;
  ASSERT_OK(s.Append(MakeEnqueued(), 1'000));
  for (uint64_t version : {0u, 1u, 3u, 100u}) {
    SCOPED_TRACE(version);
    RecordedEvent e = s.Next(Started{}, 2'000);
    e.version = version;
    JobView job = s.job();
    Result<void> r = ApplyEvent(job, e);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Code::kDataLoss);
    EXPECT_TRUE(job == s.job());
  }
}

TEST(JobViewTest, VersionGapIsReportedBeforeTheTransition) {
  // With "started" missing from the stream, "completed" would also be an
  // illegal transition; the stream's damage is the error to report.
  std::vector<RecordedEvent> events =
      MakeStream({MakeEnqueued(), Started{}, Completed{"{}", {}}});
  events.erase(events.begin() + 1);
  Result<JobView> r = FoldEvents(events);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Code::kDataLoss);
}

TEST(JobViewTest, FoldEventsStopsAtTheFirstBadEvent) {
  Result<JobView> empty = FoldEvents({});
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty.value().status, JobStatus::kNone);

  Result<JobView> r = FoldEvents(
      MakeStream({MakeEnqueued(), Started{}, Started{}, Completed{"{}", {}}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "INVALID_TRANSITION");

  Result<JobView> ok =
      FoldEvents(MakeStream({MakeEnqueued(), Started{}, Completed{"{}", {}}}));
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok.value().status, JobStatus::kCompleted);
  EXPECT_EQ(ok.value().version, 3u);
  EXPECT_EQ(ok.value().last_position, 30u);
}

TEST(JobViewTest, LogLinesAreNumberedInOrder) {
  JobStream s;
  ASSERT_OK(s.Append(MakeEnqueued(), 1'000));
  const Labels subjects = {{"gameServer", "gs-1"}, {"user", "u-9"}};
  ASSERT_OK(s.Append(Logged{LogLevel::kInfo, "queued", "", {}}, 1'100));
  ASSERT_OK(s.Append(Started{}, 2'000));
  ASSERT_OK(s.Append(
      Logged{LogLevel::kError, "restart", R"({"code":7})", subjects}, 2'500));
  EXPECT_EQ(s.job().log_count, 2u);
  EXPECT_EQ(s.job().last_log, (LogLine{2, 4, 2'500, LogLevel::kError, "restart",
                                       R"({"code":7})", subjects}));
  const std::vector<LogLine> lines = LogLinesOf(s.events());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], (LogLine{1, 2, 1'100, LogLevel::kInfo, "queued", "", {}}));
  EXPECT_EQ(lines[1], *s.job().last_log);
}

TEST(JobViewTest, CancelRecordsWhoAndWhy) {
  JobStream s;
  ASSERT_OK(s.Append(MakeEnqueued(), 1'000));
  ASSERT_OK(s.Append(Started{0, "w", 60'000}, 2'000));
  ASSERT_OK(s.Append(Cancelled{"duplicate", "ops@example.com"}, 3'000));
  EXPECT_EQ(s.job().status, JobStatus::kCancelled);
  EXPECT_EQ(s.job().cancel_reason, "duplicate");
  EXPECT_EQ(s.job().cancelled_by, "ops@example.com");
  EXPECT_EQ(s.job().cancelled_at, 3'000);
  EXPECT_EQ(s.job().finished_at, 3'000);
  EXPECT_FALSE(s.job().lease_deadline.has_value());
  EXPECT_EQ(s.job().ProcessingTime(), 1'000);
}

TEST(JobViewTest, CancelledBeforeStartHasNoProcessingTime) {
  JobStream s;
  ASSERT_OK(s.Append(MakeEnqueued(), 1'000));
  ASSERT_OK(s.Append(Cancelled{"", ""}, 3'000));
  EXPECT_EQ(s.job().finished_at, 3'000);
  EXPECT_FALSE(s.job().ProcessingTime().has_value());
}

}  // namespace
}  // namespace jobtrail
