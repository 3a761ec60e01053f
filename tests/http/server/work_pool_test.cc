// WorkPool: runs everything submitted, refuses beyond its queue bound, and
// Stop() runs what was queued before joining.
#include "http/server/work_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>

namespace jobtrail::http {
namespace {

TEST(WorkPoolTest, RunsEveryTaskAndDrainsOnStop) {
  std::atomic<int> ran{0};
  WorkPool pool(4, 10000);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(pool.Submit([&] { ran.fetch_add(1); }));
  pool.Stop();
  EXPECT_EQ(ran.load(), 1000);
  EXPECT_FALSE(pool.Submit([] {}));
}

TEST(WorkPoolTest, RefusesWhenTheQueueIsFull) {
  WorkPool pool(1, 2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(pool.Submit([&] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();  // the only thread is busy now
  EXPECT_TRUE(pool.Submit([] {}));
  EXPECT_TRUE(pool.Submit([] {}));
  EXPECT_FALSE(pool.Submit([] {})) << "a third queued task exceeds the bound of 2";
  release.set_value();
  pool.Stop();
}

}  // namespace
}  // namespace jobtrail::http
