// The per-minute history read model (GET /v1/stats/series below HTTP).
#include <gtest/gtest.h>

#include "projections/stats_state.h"
#include "tests/projections/store_fixture.h"

namespace jobtrail::testing {
namespace {

class SeriesTest : public StoreTest {
 protected:
  Millis Minute() const { return clock_.Now() - clock_.Now() % kMinuteMs; }
  std::vector<SeriesPoint> Series(const std::string& type, Millis from, Millis to,
                                  Millis step = kMinuteMs) {
    auto points = store_->Series(SeriesQuery{type, from, to, step});
    EXPECT_TRUE(points) << points.error().ToString();
    return points ? points.value() : std::vector<SeriesPoint>{};
  }
  // A job of `type` that runs `ms` and then completes (or fails).
  std::string Run(const std::string& type, Millis ms, bool fail = false) {
    const std::string id = Enqueue(type);
    MustAppend(id, Started{});
    clock_.Advance(ms);
    if (fail) {
      MustAppend(id, Failed{"no", "", ""});
    } else {
      MustAppend(id, Completed{"{}", {}});
    }
    return id;
  }
};

TEST_F(SeriesTest, CountsPerMinuteAndType) {
  const Millis m0 = Minute();
  Run("email", 1000);
  Run("email", 3000, /*fail=*/true);
  Run("pdf", 2000);
  clock_.Advance(kMinuteMs);
  const std::string id = Enqueue("email");
  MustAppend(id, Cancelled{"no", "ops"});
  MustAppend(id, Retried{0, clock_.Now(), 0, /*manual=*/true});

  const auto email = Series("email", m0, m0 + 3 * kMinuteMs);
  ASSERT_EQ(email.size(), 3u);
  EXPECT_EQ(email[0].start, m0);
  EXPECT_EQ(email[0].counts.enqueued, 2u);
  EXPECT_EQ(email[0].counts.started, 2u);
  EXPECT_EQ(email[0].counts.completed, 1u);
  EXPECT_EQ(email[0].counts.failed, 1u);
  EXPECT_EQ(email[0].processing.count, 2u);
  EXPECT_NEAR(email[0].processing.p50_ms, 1000, 100);
  EXPECT_NEAR(email[0].processing.p99_ms, 3000, 300);
  EXPECT_EQ(email[1].counts.enqueued, 1u);
  EXPECT_EQ(email[1].counts.cancelled, 1u);
  EXPECT_EQ(email[1].counts.retried, 1u);
  EXPECT_EQ(email[2].counts.enqueued, 0u);  // every step, zeros included

  const auto all = Series("", m0, m0 + 2 * kMinuteMs, 2 * kMinuteMs);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].counts.enqueued, 4u);
  EXPECT_EQ(all[0].counts.completed, 2u);
  EXPECT_EQ(all[0].processing.count, 3u);
  EXPECT_TRUE(Series("nothing", m0, m0 + kMinuteMs)[0].counts.enqueued == 0);
}

TEST_F(SeriesTest, KeepsAtLeastSevenDays) {
  const Millis m0 = Minute();
  Run("email", 10);
  clock_.Advance(7 * kDayMs);
  Run("email", 10);
  auto week = Series("email", m0, Minute() + kMinuteMs, kDayMs);
  ASSERT_EQ(week.size(), 8u);
  EXPECT_EQ(week.front().counts.completed, 1u);  // 7 days ago: still there
  clock_.Advance(3 * kDayMs);
  Run("email", 10);
  week = Series("email", m0, Minute() + kMinuteMs, kDayMs);
  EXPECT_EQ(week.front().counts.completed, 0u);  // 10 days ago: dropped
  EXPECT_EQ(week[7].counts.completed, 1u);
  auto verified = store_->Verify(nullptr);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified.value().ok()) << verified.value().problems.front();
}

TEST_F(SeriesTest, BadRangesAreRefused) {
  const Millis m0 = Minute();
  EXPECT_FALSE(store_->Series(SeriesQuery{"", m0, m0, kMinuteMs}));
  EXPECT_FALSE(store_->Series(SeriesQuery{"", m0, m0 + kMinuteMs, 1000}));
  EXPECT_FALSE(store_->Series(SeriesQuery{"", m0 + 1, m0 + kMinuteMs, kMinuteMs}));
  EXPECT_FALSE(store_->Series(SeriesQuery{"", m0, m0 + 30 * kDayMs, kMinuteMs}));
}

}  // namespace
}  // namespace jobtrail::testing
