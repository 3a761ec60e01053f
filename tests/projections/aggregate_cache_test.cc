// The caches of folded jobs make room for a backlog larger than themselves
// by dropping final jobs, then the jobs enqueued last (backlog_eviction.h):
// claims take the oldest first, so those are the ones kept.
#include <gtest/gtest.h>

#include <string>
#include <unordered_map>

#include "projections/aggregate_cache.h"
#include "projections/backlog_eviction.h"

namespace jobtrail {
namespace {

JobView Job(int n, JobStatus status) {
  JobView j;
  j.job_id = "job-" + std::to_string(n);
  j.status = status;
  j.version = 1;
  j.created_position = uint64_t(n);
  return j;
}

const JobView& Self(const JobView& j) { return j; }

TEST(BacklogEvictionTest, UnderTheBoundOnlyFinalJobsGo) {
  std::unordered_map<std::string, JobView> cache;
  for (int n = 1; n <= 10; ++n) {
    const JobStatus s = n % 2 == 0 ? JobStatus::kCompleted : JobStatus::kPending;
    cache[Job(n, s).job_id] = Job(n, s);
  }
  EvictForBacklog(cache, 5, 2, Self);
  ASSERT_EQ(cache.size(), 5u);  // the five pending ones, no more dropped
  for (const auto& [id, job] : cache) EXPECT_EQ(job.status, JobStatus::kPending) << id;
}

TEST(BacklogEvictionTest, OverTheBoundTheJobsEnqueuedFirstStay) {
  std::unordered_map<std::string, JobView> cache;
  // Inserted newest first, and running, retrying and pending mixed: the
  // enqueue position decides, not the order of insertion or the status.
  for (int n = 100; n >= 1; --n) {
    const JobStatus s = n % 3 == 0   ? JobStatus::kRunning
                        : n % 3 == 1 ? JobStatus::kRetrying
                                     : JobStatus::kPending;
    cache[Job(n, s).job_id] = Job(n, s);
  }
  cache["final"] = Job(0, JobStatus::kFailed);
  EvictForBacklog(cache, 60, 40, Self);
  ASSERT_EQ(cache.size(), 40u);
  for (int n = 1; n <= 40; ++n) EXPECT_TRUE(cache.contains("job-" + std::to_string(n))) << n;
  EXPECT_FALSE(cache.contains("final"));
}

// Views without an enqueue position (all 0, as the writer's folds were
// before their positions were set) cannot be ordered: the bound holds all
// the same, and those ahead of the tie stay.
TEST(BacklogEvictionTest, TiedEnqueuePositionsStillMakeRoom) {
  std::unordered_map<std::string, JobView> cache;
  for (int n = 1; n <= 100; ++n) {
    JobView j = Job(n, JobStatus::kPending);
    j.created_position = n <= 10 ? uint64_t(n) : 50;
    cache[j.job_id] = j;
  }
  EvictForBacklog(cache, 60, 40, Self);
  ASSERT_EQ(cache.size(), 40u);
  for (int n = 1; n <= 10; ++n) EXPECT_TRUE(cache.contains("job-" + std::to_string(n))) << n;
}

TEST(BacklogEvictionTest, KeepingNothingEmptiesTheCache) {
  std::unordered_map<std::string, JobView> cache;
  for (int n = 1; n <= 3; ++n) cache[Job(n, JobStatus::kPending).job_id] = Job(n, JobStatus::kPending);
  EvictForBacklog(cache, 1, 0, Self);
  EXPECT_TRUE(cache.empty());
}

// A backlog ten times the cache, enqueued in order: the first jobs of it
// (the next to be claimed) are still there at the end, the cache stays
// within its bound, and a newer version replaces an older one.
TEST(AggregateCacheTest, ABacklogLargerThanTheCacheKeepsItsOldestJobs) {
  constexpr int kCapacity = 1600;  // 100 a shard
  AggregateCache cache(kCapacity);
  for (int n = 1; n <= 10 * kCapacity; ++n) {
    cache.Put(std::make_shared<const JobView>(Job(n, JobStatus::kPending)));
  }
  int cached = 0;
  for (int n = 1; n <= 10 * kCapacity; ++n) cached += cache.Get("job-" + std::to_string(n)) != nullptr;
  EXPECT_LE(cached, kCapacity + 16);
  EXPECT_GE(cached, kCapacity / 2);
  // Each shard kept its oldest half at every eviction: the 200 oldest jobs
  // (a dozen or so a shard, well under half a shard) are all there.
  for (int n = 1; n <= 200; ++n) EXPECT_NE(cache.Get("job-" + std::to_string(n)), nullptr) << n;

  JobView running = Job(1, JobStatus::kRunning);
  running.version = 2;
  cache.Put(std::make_shared<const JobView>(running));
  cache.Put(std::make_shared<const JobView>(Job(1, JobStatus::kPending)));  // older: ignored
  ASSERT_NE(cache.Get("job-1"), nullptr);
  EXPECT_EQ(cache.Get("job-1")->version, 2u);
  EXPECT_EQ(cache.Get("job-1")->status, JobStatus::kRunning);
}

TEST(AggregateCacheTest, ABacklogWithoutEnqueuePositionsStaysWithinTheBound) {
  constexpr int kCapacity = 1600;
  AggregateCache cache(kCapacity);
  for (int n = 1; n <= 10 * kCapacity; ++n) {
    JobView j = Job(n, JobStatus::kPending);
    j.created_position = 0;
    cache.Put(std::make_shared<const JobView>(j));
  }
  int cached = 0;
  for (int n = 1; n <= 10 * kCapacity; ++n) cached += cache.Get("job-" + std::to_string(n)) != nullptr;
  EXPECT_LE(cached, kCapacity + 16);
  EXPECT_GE(cached, kCapacity / 2);
}

TEST(AggregateCacheTest, FinalJobsMakeRoomFirst) {
  constexpr int kCapacity = 1600;  // 101 a shard
  AggregateCache cache(kCapacity);
  for (int n = 1; n <= 1500; ++n) {
    cache.Put(std::make_shared<const JobView>(Job(n, JobStatus::kCompleted)));
  }
  for (int n = 1501; n <= 1900; ++n) {
    cache.Put(std::make_shared<const JobView>(Job(n, JobStatus::kPending)));
  }
  int completed = 0;
  int pending = 0;
  for (int n = 1; n <= 1500; ++n) completed += cache.Get("job-" + std::to_string(n)) != nullptr;
  for (int n = 1501; n <= 1900; ++n) pending += cache.Get("job-" + std::to_string(n)) != nullptr;
  // The shards overflowed (1,900 jobs in 1,616 slots): the completed jobs
  // went, every pending one (about 25 a shard) stayed.
  EXPECT_LT(completed, 1500);
  EXPECT_EQ(pending, 400);
}

}  // namespace
}  // namespace jobtrail
