// The live module's parts that need no socket: timers on a manual clock,
// which events a feed filter and ownership let through, the SSE frames.
#include <gtest/gtest.h>

#include <vector>

#include "http/live/event_stream.h"
#include "http/live/live_event.h"
#include "http/live/live_options.h"
#include "http/live/timers.h"
#include "tests/http/live/sse_client.h"

namespace jobtrail::http::live {
namespace {

TEST(TimersTest, FireInDeadlineOrderWhenTheClockGetsThere) {
  ManualClock clock(1000);
  Timers timers(&clock);
  std::vector<int> fired;
  timers.At(1300, [&] { fired.push_back(3); });
  timers.At(1100, [&] { fired.push_back(1); });
  timers.At(1200, [&] { fired.push_back(2); });
  timers.At(1200, [&] { fired.push_back(22); });  // same deadline: in arming order
  timers.Tick();
  EXPECT_TRUE(fired.empty());
  clock.Set(1200);
  timers.Tick();
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 22}));
  EXPECT_EQ(timers.pending(), 1u);
  clock.Set(5000);
  timers.Tick();
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 22, 3}));
}

TEST(TimersTest, ACallbackMayArmTheNextOne) {
  ManualClock clock(0);
  Timers timers(&clock);
  int beats = 0;
  std::function<void()> beat = [&] {
    ++beats;
    timers.At(clock.Now() + 10, beat);
  };
  timers.At(10, beat);
  for (int i = 1; i <= 5; ++i) {
    clock.Set(i * 10);
    timers.Tick();
  }
  EXPECT_EQ(beats, 5);
}

TEST(TimersTest, TheThreadFiresOnTheSteadyClock) {
  Timers timers(nullptr);
  timers.Start();
  std::mutex mu;
  std::condition_variable cv;
  bool fired = false;
  timers.At(timers.Now(), [&] {
    std::lock_guard lock(mu);
    fired = true;
    cv.notify_all();
  });
  std::unique_lock lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return fired; }));
  lock.unlock();
  timers.Stop();
}

LiveEvent Event(EventBody body, JobFacts facts, uint64_t position = 7) {
  LiveEvent e;
  e.event.job_id = "j1";
  e.event.position = position;
  e.event.version = 2;
  e.event.body = std::move(body);
  e.facts = std::move(facts);
  e.json = R"({"position":7})";
  return e;
}

TEST(EventFilterTest, StatusMeansTheStatusTheEventMovesItsJobInto) {
  EXPECT_EQ(StatusEntered(Enqueued{}), JobStatus::kPending);
  EXPECT_EQ(StatusEntered(Started{}), JobStatus::kRunning);
  EXPECT_EQ(StatusEntered(Retried{}), JobStatus::kRetrying);
  EXPECT_EQ(StatusEntered(Completed{}), JobStatus::kCompleted);
  EXPECT_EQ(StatusEntered(Failed{}), JobStatus::kFailed);
  EXPECT_EQ(StatusEntered(Cancelled{}), JobStatus::kCancelled);
  EXPECT_FALSE(StatusEntered(Progressed{}));
  EXPECT_FALSE(StatusEntered(Logged{}));
  EXPECT_FALSE(StatusEntered(Errored{}));
  EXPECT_FALSE(StatusEntered(Expired{}));
  EXPECT_TRUE(EndsJob(Completed{}) && EndsJob(Failed{}) && EndsJob(Cancelled{}) &&
              EndsJob(Expired{}));
  EXPECT_FALSE(EndsJob(Retried{}) || EndsJob(Errored{}));
}

TEST(EventFilterTest, EveryListMatchesAnyOfItsValues) {
  const JobFacts facts{true, "alice", "forms", "form-fill"};
  EventFilter none;
  EXPECT_TRUE(none.Matches(Event(Logged{}, facts)));
  EventFilter f;
  f.queues = {"other", "forms"};
  f.statuses = {JobStatus::kCompleted, JobStatus::kFailed};
  EXPECT_TRUE(f.Matches(Event(Completed{}, facts)));
  EXPECT_FALSE(f.Matches(Event(Logged{}, facts)));
  EXPECT_FALSE(f.Matches(Event(Completed{}, JobFacts{true, "alice", "q", "form-fill"})));
  EventFilter owner;
  owner.owners = {"bob"};
  EXPECT_FALSE(owner.Matches(Event(Logged{}, facts)));
  // Facts that could not be read match no filter on them.
  EventFilter type;
  type.types = {"form-fill"};
  EXPECT_FALSE(type.Matches(Event(Logged{}, JobFacts{})));
}

TEST(EventFilterTest, TheFeedShowsANonAdminItsOwnJobsOnly) {
  Principal admin{Role::kAdmin, "ops", "", "", CredentialKind::kApiKey};
  Principal alice{Role::kReader, "alice", "", "", CredentialKind::kApiKey};
  Principal worker{Role::kWorker, "svc", "", "", CredentialKind::kApiKey};
  Principal link{Role::kReader, "alice", "", "j1", CredentialKind::kShareLink};
  const JobFacts alices{true, "alice", "q", "t"};
  EXPECT_TRUE(MayReadInFeed(admin, alices));
  EXPECT_TRUE(MayReadInFeed(admin, JobFacts{}));
  EXPECT_TRUE(MayReadInFeed(alice, alices));
  EXPECT_FALSE(MayReadInFeed(alice, JobFacts{true, "bob", "q", "t"}));
  EXPECT_FALSE(MayReadInFeed(alice, JobFacts{}));
  EXPECT_FALSE(MayReadInFeed(worker, alices));
  EXPECT_FALSE(MayReadInFeed(link, alices));
  EXPECT_FALSE(MayReadInFeed(Principal{}, alices));
}

TEST(SseFramesTest, EventsCarryTheirPositionAsIdAndControlsNone) {
  const LiveEvent e = Event(Logged{}, JobFacts{}, 42);
  EXPECT_EQ(EventFrame(e), "id: 42\ndata: {\"position\":7}\n\n");
  EXPECT_EQ(ControlFrame("end", "{}"), "event: end\ndata: {}\n\n");
  // What a client parses back (the tests' parser).
  testing::SseParser parser;
  std::vector<testing::SseEvent> got;
  parser.Feed(": hello\nretry: 2000\n\n" + EventFrame(e) + ControlFrame("end", "{}") +
                  ": keep-alive\n\n",
              [&](const testing::SseEvent& ev) {
                got.push_back(ev);
                return true;
              });
  ASSERT_EQ(got.size(), 4u);
  EXPECT_TRUE(got[0].comment);
  EXPECT_EQ(got[1].id, "42");
  EXPECT_EQ(got[2].event, "end");
  EXPECT_TRUE(got[2].id.empty());
  EXPECT_TRUE(got[3].comment);
}

TEST(LiveOptionsTest, TheLongPollCeilingIsSixtySeconds) {
  LiveOptions o;
  EXPECT_TRUE(CheckLiveOptions(o));
  o.max_wait_ms = 60'001;
  EXPECT_FALSE(CheckLiveOptions(o));
  o = LiveOptions{};
  o.heartbeat_ms = 0;
  EXPECT_FALSE(CheckLiveOptions(o));
}

}  // namespace
}  // namespace jobtrail::http::live
