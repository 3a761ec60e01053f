// Subscriptions, on every backend (log_backend.h): catch up from a
// position, then follow live appends; Cancel wakes a blocked Next.
#include <gtest/gtest.h>

#include <thread>

#include "tests/eventstore/log_backend.h"
#include "tests/eventstore/test_util.h"

namespace jobtrail::eventstore {
namespace {

using namespace std::chrono_literals;
using testing_util::Events;
using testing_util::SubscriptionTest;

TEST_P(SubscriptionTest, CatchesUpThenFollowsLive) {
  EventLog* log = log_.get();
  ASSERT_TRUE(log->Append("a", kNoStream, Events("a", 5)));

  auto sub = log->Subscribe(2);
  auto caught_up = sub->Next(100, 0ms);
  ASSERT_TRUE(caught_up);
  ASSERT_EQ(caught_up.value().size(), 3u);
  EXPECT_EQ(caught_up.value().front().position, 3u);
  EXPECT_EQ(sub->position(), 5u);

  // Nothing new: Next waits out its timeout and returns nothing.
  auto idle = sub->Next(100, 10ms);
  ASSERT_TRUE(idle);
  EXPECT_TRUE(idle.value().empty());

  // Live: events appended by another thread arrive in order, without gaps,
  // whether they come before or while Next waits.
  constexpr int kAppends = 200;
  std::thread writer([&] {
    for (int i = 0; i < kAppends; ++i) {
      ASSERT_TRUE(log->Append("b" + std::to_string(i % 7), kAnyVersion,
                              Events("live-" + std::to_string(i), 1)));
    }
  });
  uint64_t expected = 6;
  while (expected <= 5 + kAppends) {
    auto next = sub->Next(16, 30s);
    ASSERT_TRUE(next);
    ASSERT_FALSE(next.value().empty()) << "timed out at " << expected;
    EXPECT_LE(next.value().size(), 16u);
    for (const auto& e : next.value()) ASSERT_EQ(e.position, expected++);
  }
  writer.join();
  EXPECT_EQ(sub->position(), uint64_t(5 + kAppends));
}

TEST_P(SubscriptionTest, NextBlockedInAnotherThreadWakesForAnAppend) {
  EventLog* log = log_.get();
  auto sub = log->Subscribe(0);
  StoreResult<std::vector<StoredEvent>> got = StoreError{};
  std::thread reader([&] { got = sub->Next(10, 60s); });
  ASSERT_TRUE(log->Append("a", kNoStream, Events("a", 2)));
  reader.join();  // returns on the append, not after 60 s
  ASSERT_TRUE(got);
  ASSERT_FALSE(got.value().empty());
  EXPECT_EQ(got.value().front().event_id, "a-0");
}

TEST_P(SubscriptionTest, CancelWakesABlockedNext) {
  EventLog* log = log_.get();
  auto sub = log->Subscribe(0);
  StoreResult<std::vector<StoredEvent>> got = StoreError{};
  std::thread reader([&] { got = sub->Next(10, 600s); });
  sub->Cancel();
  reader.join();  // returns on Cancel, not after 600 s
  ASSERT_TRUE(got);
  EXPECT_TRUE(got.value().empty());
  EXPECT_EQ(sub->position(), 0u);

  // The subscription goes on working after a cancel.
  ASSERT_TRUE(log->Append("a", kNoStream, Events("a", 1)));
  auto next = sub->Next(10, 30s);
  ASSERT_TRUE(next);
  ASSERT_EQ(next.value().size(), 1u);
}

TEST_P(SubscriptionTest, SubscribingAtTheHeadSeesOnlyNewEvents) {
  EventLog* log = log_.get();
  ASSERT_TRUE(log->Append("a", kNoStream, Events("old", 3)));
  auto sub = log->Subscribe(log->LastPosition());
  ASSERT_TRUE(log->Append("a", 3, Events("new", 1)));
  auto next = sub->Next(10, 30s);
  ASSERT_TRUE(next);
  ASSERT_EQ(next.value().size(), 1u);
  EXPECT_EQ(next.value()[0].event_id, "new-0");
}

}  // namespace
}  // namespace jobtrail::eventstore
