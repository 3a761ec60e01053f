// The state machine (SPEC §3) as a table: every (state, event kind) pair and
// what must happen — accepted into which status, or rejected with which
// reason. Each starting state is reached by applying real events.
#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "domain/job_event.h"
#include "domain/job_status.h"
#include "domain/job_view.h"
#include "tests/domain/job_test_util.h"

namespace jobtrail {
namespace {

using testing_util::MakeEnqueued;
using testing_util::MakeErrored;
using testing_util::MakeStream;

// Starting points. Running has three variants because whether a retry is
// allowed depends on more than the status: an error in the current attempt,
// and attempts left.
enum class Start {
  kNone,
  kPending,
  kRunning,                // attempt 1 of 3, no error yet
  kRunningAfterError,      // attempt 1 of 3, errored
  kRunningLastAttemptErr,  // attempt 1 of 1, errored
  kRetrying,
  kCompleted,
  kFailed,
  kCancelled,
};

constexpr Start kAllStarts[] = {Start::kNone,
                                Start::kPending,
                                Start::kRunning,
                                Start::kRunningAfterError,
                                Start::kRunningLastAttemptErr,
                                Start::kRetrying,
                                Start::kCompleted,
                                Start::kFailed,
                                Start::kCancelled};

std::string StartName(Start start) {
  switch (start) {
    case Start::kNone:
      return "None";
    case Start::kPending:
      return "Pending";
    case Start::kRunning:
      return "Running";
    case Start::kRunningAfterError:
      return "RunningAfterError";
    case Start::kRunningLastAttemptErr:
      return "RunningLastAttemptErrored";
    case Start::kRetrying:
      return "Retrying";
    case Start::kCompleted:
      return "Completed";
    case Start::kFailed:
      return "Failed";
    case Start::kCancelled:
      return "Cancelled";
  }
  return "?";
}

JobStatus StatusOf(Start start) {
  switch (start) {
    case Start::kNone:
      return JobStatus::kNone;
    case Start::kPending:
      return JobStatus::kPending;
    case Start::kRunning:
    case Start::kRunningAfterError:
    case Start::kRunningLastAttemptErr:
      return JobStatus::kRunning;
    case Start::kRetrying:
      return JobStatus::kRetrying;
    case Start::kCompleted:
      return JobStatus::kCompleted;
    case Start::kFailed:
      return JobStatus::kFailed;
    case Start::kCancelled:
      return JobStatus::kCancelled;
  }
  return JobStatus::kNone;
}

std::vector<EventBody> StartBodies(Start start) {
  switch (start) {
    case Start::kNone:
      return {};
    case Start::kPending:
      return {MakeEnqueued()};
    case Start::kRunning:
      return {MakeEnqueued(), Started{}};
    case Start::kRunningAfterError:
      return {MakeEnqueued(), Started{}, MakeErrored()};
    case Start::kRunningLastAttemptErr:
      return {MakeEnqueued(1), Started{}, MakeErrored()};
    case Start::kRetrying:
      return {MakeEnqueued(), Started{}, MakeErrored(),
              Retried{0, 60'000, 5'000}};
    case Start::kCompleted:
      return {MakeEnqueued(), Started{}, Completed{R"({"ok":true})", {}}};
    case Start::kFailed:
      return {MakeEnqueued(), Started{}, Failed{"gave up", "", ""}};
    case Start::kCancelled:
      return {MakeEnqueued(), Cancelled{"not needed", "alice"}};
  }
  return {};
}

// A well-formed event of each kind, one a state that allows the kind accepts.
EventBody SampleBody(EventKind kind) {
  switch (kind) {
    case EventKind::kEnqueued:
      return MakeEnqueued();
    case EventKind::kStarted:
      return Started{0, "worker-1", 90'000};
    case EventKind::kProgressed: {
      Progressed p;
      p.percent = 50.0;
      p.message = "half way";
      return p;
    }
    case EventKind::kLogged:
      return Logged{LogLevel::kInfo, "hello", "", {}};
    case EventKind::kErrored:
      return MakeErrored("boom");
    case EventKind::kRetried:
      return Retried{0, 120'000, 10'000};
    case EventKind::kCompleted:
      return Completed{R"({"pages":3})", {}};
    case EventKind::kFailed:
      return Failed{"gave up", "Fatal", ""};
    case EventKind::kCancelled:
      return Cancelled{"user asked", "bob"};
    case EventKind::kExpired:
      return Expired{"retention"};
    case EventKind::kWebhookAttempted: {
      WebhookAttempted w;
      w.delivery_id = "d-1";
      w.webhook_id = "wh_1";
      w.event_version = 1;
      w.event_type = "enqueued";
      w.status_code = 500;
      w.error = "HTTP 500";
      w.outcome = WebhookOutcome::kRetrying;
      w.next_attempt_at = 200'000;
      return w;
    }
  }
  return Logged{};
}

struct Expect {
  std::optional<JobStatus> status;  // set: accepted, the resulting status
  std::string reason;               // otherwise: the rejection's reason
};
Expect Accept(JobStatus status) { return Expect{status, ""}; }
Expect Reject(std::string reason) { return Expect{std::nullopt, reason}; }

struct TransitionCase {
  Start start;
  EventKind kind;
  Expect expect;
};

void PrintTo(const TransitionCase& c, std::ostream* os) {
  *os << StartName(c.start) << " + " << EventKindName(c.kind) << " -> "
      << (c.expect.status ? std::string(StatusName(*c.expect.status))
                          : c.expect.reason);
}

using K = EventKind;
using S = JobStatus;
const Expect kIllegal = Reject("INVALID_TRANSITION");

// clang-format off
const TransitionCase kTable[] = {
  // A job that does not exist yet can only be enqueued.
  {Start::kNone, K::kEnqueued,   Accept(S::kPending)},
  {Start::kNone, K::kStarted,    kIllegal},
  {Start::kNone, K::kProgressed, kIllegal},
  {Start::kNone, K::kLogged,     kIllegal},
  {Start::kNone, K::kErrored,    kIllegal},
  {Start::kNone, K::kRetried,    kIllegal},
  {Start::kNone, K::kCompleted,  kIllegal},
  {Start::kNone, K::kFailed,     kIllegal},
  {Start::kNone, K::kCancelled,  kIllegal},
  {Start::kNone, K::kExpired,    kIllegal},
  {Start::kNone, K::kWebhookAttempted, kIllegal},

  {Start::kPending, K::kEnqueued,   kIllegal},
  {Start::kPending, K::kStarted,    Accept(S::kRunning)},
  {Start::kPending, K::kProgressed, kIllegal},
  {Start::kPending, K::kLogged,     Accept(S::kPending)},
  {Start::kPending, K::kErrored,    kIllegal},
  {Start::kPending, K::kRetried,    kIllegal},
  {Start::kPending, K::kCompleted,  kIllegal},
  {Start::kPending, K::kFailed,     kIllegal},
  {Start::kPending, K::kCancelled,  Accept(S::kCancelled)},
  {Start::kPending, K::kExpired,    Accept(S::kPending)},
  {Start::kPending, K::kWebhookAttempted, Accept(S::kPending)},

  {Start::kRunning, K::kEnqueued,   kIllegal},
  {Start::kRunning, K::kStarted,    kIllegal},
  {Start::kRunning, K::kProgressed, Accept(S::kRunning)},
  {Start::kRunning, K::kLogged,     Accept(S::kRunning)},
  {Start::kRunning, K::kErrored,    Accept(S::kRunning)},
  // A retry must follow an error in the current attempt.
  {Start::kRunning, K::kRetried,    kIllegal},
  {Start::kRunning, K::kCompleted,  Accept(S::kCompleted)},
  {Start::kRunning, K::kFailed,     Accept(S::kFailed)},
  {Start::kRunning, K::kCancelled,  Accept(S::kCancelled)},
  {Start::kRunning, K::kExpired,    Accept(S::kRunning)},
  {Start::kRunning, K::kWebhookAttempted, Accept(S::kRunning)},

  {Start::kRunningAfterError, K::kEnqueued,   kIllegal},
  {Start::kRunningAfterError, K::kStarted,    kIllegal},
  {Start::kRunningAfterError, K::kProgressed, Accept(S::kRunning)},
  {Start::kRunningAfterError, K::kLogged,     Accept(S::kRunning)},
  {Start::kRunningAfterError, K::kErrored,    Accept(S::kRunning)},
  {Start::kRunningAfterError, K::kRetried,    Accept(S::kRetrying)},
  {Start::kRunningAfterError, K::kCompleted,  Accept(S::kCompleted)},
  {Start::kRunningAfterError, K::kFailed,     Accept(S::kFailed)},
  {Start::kRunningAfterError, K::kCancelled,  Accept(S::kCancelled)},
  {Start::kRunningAfterError, K::kExpired,    Accept(S::kRunning)},
  {Start::kRunningAfterError, K::kWebhookAttempted, Accept(S::kRunning)},

  {Start::kRunningLastAttemptErr, K::kEnqueued,   kIllegal},
  {Start::kRunningLastAttemptErr, K::kStarted,    kIllegal},
  {Start::kRunningLastAttemptErr, K::kProgressed, Accept(S::kRunning)},
  {Start::kRunningLastAttemptErr, K::kLogged,     Accept(S::kRunning)},
  {Start::kRunningLastAttemptErr, K::kErrored,    Accept(S::kRunning)},
  {Start::kRunningLastAttemptErr, K::kRetried,    Reject("NO_ATTEMPTS_LEFT")},
  {Start::kRunningLastAttemptErr, K::kCompleted,  Accept(S::kCompleted)},
  {Start::kRunningLastAttemptErr, K::kFailed,     Accept(S::kFailed)},
  {Start::kRunningLastAttemptErr, K::kCancelled,  Accept(S::kCancelled)},
  {Start::kRunningLastAttemptErr, K::kExpired,    Accept(S::kRunning)},
  {Start::kRunningLastAttemptErr, K::kWebhookAttempted, Accept(S::kRunning)},

  {Start::kRetrying, K::kEnqueued,   kIllegal},
  {Start::kRetrying, K::kStarted,    Accept(S::kRunning)},
  {Start::kRetrying, K::kProgressed, kIllegal},
  {Start::kRetrying, K::kLogged,     Accept(S::kRetrying)},
  {Start::kRetrying, K::kErrored,    kIllegal},
  {Start::kRetrying, K::kRetried,    kIllegal},
  {Start::kRetrying, K::kCompleted,  kIllegal},
  {Start::kRetrying, K::kFailed,     kIllegal},
  {Start::kRetrying, K::kCancelled,  Accept(S::kCancelled)},
  {Start::kRetrying, K::kExpired,    Accept(S::kRetrying)},
  {Start::kRetrying, K::kWebhookAttempted, Accept(S::kRetrying)},

  // Final states accept nothing but expiry (retention, cleanup).
  {Start::kCompleted, K::kEnqueued,   kIllegal},
  {Start::kCompleted, K::kStarted,    kIllegal},
  {Start::kCompleted, K::kProgressed, kIllegal},
  {Start::kCompleted, K::kLogged,     kIllegal},
  {Start::kCompleted, K::kErrored,    kIllegal},
  {Start::kCompleted, K::kRetried,    kIllegal},
  {Start::kCompleted, K::kCompleted,  kIllegal},
  {Start::kCompleted, K::kFailed,     kIllegal},
  {Start::kCompleted, K::kCancelled,  kIllegal},
  {Start::kCompleted, K::kExpired,    Accept(S::kCompleted)},
  {Start::kCompleted, K::kWebhookAttempted, Accept(S::kCompleted)},

  {Start::kFailed, K::kEnqueued,   kIllegal},
  {Start::kFailed, K::kStarted,    kIllegal},
  {Start::kFailed, K::kProgressed, kIllegal},
  {Start::kFailed, K::kLogged,     kIllegal},
  {Start::kFailed, K::kErrored,    kIllegal},
  {Start::kFailed, K::kRetried,    kIllegal},
  {Start::kFailed, K::kCompleted,  kIllegal},
  {Start::kFailed, K::kFailed,     kIllegal},
  {Start::kFailed, K::kCancelled,  kIllegal},
  {Start::kFailed, K::kExpired,    Accept(S::kFailed)},
  {Start::kFailed, K::kWebhookAttempted, Accept(S::kFailed)},

  {Start::kCancelled, K::kEnqueued,   kIllegal},
  {Start::kCancelled, K::kStarted,    kIllegal},
  {Start::kCancelled, K::kProgressed, kIllegal},
  {Start::kCancelled, K::kLogged,     kIllegal},
  {Start::kCancelled, K::kErrored,    kIllegal},
  {Start::kCancelled, K::kRetried,    kIllegal},
  {Start::kCancelled, K::kCompleted,  kIllegal},
  {Start::kCancelled, K::kFailed,     kIllegal},
  {Start::kCancelled, K::kCancelled,  kIllegal},
  {Start::kCancelled, K::kExpired,    Accept(S::kCancelled)},
  {Start::kCancelled, K::kWebhookAttempted, Accept(S::kCancelled)},
};
// clang-format on

TEST(TransitionTableTest, CoversEveryStateAndEventKind) {
  std::set<std::pair<Start, EventKind>> rows;
  std::set<std::pair<JobStatus, EventKind>> pairs;
  for (const TransitionCase& c : kTable) {
    EXPECT_TRUE(rows.emplace(c.start, c.kind).second)
        << "duplicate row " << ::testing::PrintToString(c);
    pairs.emplace(StatusOf(c.start), c.kind);
  }
  // Every start has a row for every kind...
  EXPECT_EQ(rows.size(), std::size(kAllStarts) * kEventKindCount);
  // ...and the starts reach every status, kNone included.
  EXPECT_EQ(pairs.size(), (std::size(kAllStatuses) + 1) * kEventKindCount);
}

TEST(TransitionTableTest, AnExpiredJobAcceptsNothingAndIsNotFound) {
  for (Start start : kAllStarts) {
    if (start == Start::kNone) continue;
    Result<JobView> built = FoldEvents(MakeStream(StartBodies(start)));
    ASSERT_TRUE(built) << built.error().ToString();
    testing_util::JobStream stream;
    stream.mutable_job() = built.value();
    JobView job = built.value();
    RecordedEvent expired = stream.Next(Expired{"cleanup"}, job.updated_at + 500);
    ASSERT_TRUE(ApplyEvent(job, expired));
    EXPECT_EQ(job.status, StatusOf(start));
    EXPECT_EQ(job.expired_at, job.updated_at);
    EXPECT_EQ(job.expired_reason, "cleanup");
    for (int k = 0; k < kEventKindCount; ++k) {
      Result<void> checked = CheckTransition(job, SampleBody(EventKind(k)));
      ASSERT_FALSE(checked) << EventKindName(EventKind(k));
      EXPECT_EQ(checked.error().reason, "JOB_NOT_FOUND");
    }
  }
}

// A webhook attempt is audit only: the job is the same but for its version
// (and the time of its last change), in every state.
TEST(TransitionTableTest, AWebhookAttemptChangesNothingButTheVersion) {
  for (Start start : kAllStarts) {
    if (start == Start::kNone) continue;
    Result<JobView> built = FoldEvents(MakeStream(StartBodies(start)));
    ASSERT_TRUE(built) << built.error().ToString();
    testing_util::JobStream stream;
    stream.mutable_job() = built.value();
    JobView job = built.value();
    RecordedEvent attempt =
        stream.Next(SampleBody(EventKind::kWebhookAttempted), job.updated_at + 500);
    ASSERT_TRUE(ApplyEvent(job, attempt)) << StartName(start);
    JobView expected = built.value();
    expected.version = attempt.version;
    expected.last_position = attempt.position;
    expected.updated_at = attempt.timestamp;
    EXPECT_TRUE(job == expected) << StartName(start);
  }
}

TEST(TransitionTableTest, AWebhookAttemptMustBeWellFormed) {
  Result<JobView> built = FoldEvents(MakeStream(StartBodies(Start::kCompleted)));
  ASSERT_TRUE(built);
  const JobView job = built.value();
  auto refused = [&](auto change) {
    WebhookAttempted w = std::get<WebhookAttempted>(SampleBody(EventKind::kWebhookAttempted));
    change(w);
    Result<void> checked = CheckTransition(job, w);
    return !checked && checked.error().code == Code::kInvalidArgument;
  };
  EXPECT_FALSE(refused([](WebhookAttempted&) {}));
  EXPECT_TRUE(refused([](WebhookAttempted& w) { w.delivery_id.clear(); }));
  EXPECT_TRUE(refused([](WebhookAttempted& w) { w.attempt = 0; }));
  EXPECT_TRUE(refused([](WebhookAttempted& w) { w.event_version = 0; }));
  EXPECT_TRUE(refused([&](WebhookAttempted& w) { w.event_version = job.version + 1; }));
  EXPECT_TRUE(refused([](WebhookAttempted& w) { w.status_code = -1; }));
  EXPECT_TRUE(refused([](WebhookAttempted& w) { w.duration_ms = -5; }));
  EXPECT_TRUE(refused([](WebhookAttempted& w) { w.next_attempt_at.reset(); }));
  EXPECT_TRUE(refused([](WebhookAttempted& w) { w.outcome = WebhookOutcome::kDelivered; }));
}

class TransitionTableTest : public ::testing::TestWithParam<TransitionCase> {};

TEST_P(TransitionTableTest, AcceptsOrRejects) {
  const TransitionCase& c = GetParam();
  Result<JobView> built = FoldEvents(MakeStream(StartBodies(c.start)));
  ASSERT_TRUE(built) << built.error().ToString();
  JobView job = std::move(built).value();
  ASSERT_EQ(job.status, StatusOf(c.start));

  const JobView before = job;
  testing_util::JobStream stream;
  stream.mutable_job() = job;
  RecordedEvent event = stream.Next(SampleBody(c.kind), job.updated_at + 500);

  Result<void> checked = CheckTransition(job, event.body);
  Result<void> applied = ApplyEvent(job, event);
  if (c.expect.status) {
    ASSERT_TRUE(checked) << checked.error().ToString();
    ASSERT_TRUE(applied) << applied.error().ToString();
    EXPECT_EQ(job.status, *c.expect.status);
    EXPECT_EQ(job.version, before.version + 1);
    EXPECT_EQ(job.last_position, event.position);
    EXPECT_EQ(job.updated_at, event.timestamp);
  } else {
    ASSERT_FALSE(checked);
    EXPECT_EQ(checked.error().code, Code::kFailedPrecondition);
    EXPECT_EQ(checked.error().reason, c.expect.reason);
    EXPECT_FALSE(checked.error().message.empty());
    ASSERT_FALSE(applied);
    // ApplyEvent reports exactly what CheckTransition does.
    EXPECT_EQ(applied.error().code, Code::kFailedPrecondition);
    EXPECT_EQ(applied.error().reason, c.expect.reason);
    EXPECT_TRUE(job == before) << "a rejected event changed the job";
  }
}

std::string CaseName(const ::testing::TestParamInfo<TransitionCase>& info) {
  return StartName(info.param.start) + "_" +
         std::string(EventKindName(info.param.kind));
}

INSTANTIATE_TEST_SUITE_P(AllPairs, TransitionTableTest,
                         ::testing::ValuesIn(kTable), CaseName);

}  // namespace
}  // namespace jobtrail
