#pragma once
// The write side's folded jobs: the newest JobView of recently written
// jobs, so that an append checks its transition against the job without
// reading and folding the job's whole stream (which made the 20,000th
// append to one job 18x slower than the first). A miss, or a cached view
// behind the log, is completed from the log: the cache never decides
// anything the log does not say, so it needs nothing after a crash.
//
// Bounded: past its size, a shard drops its final jobs, then the jobs
// enqueued last (backlog_eviction.h). Sharded to keep writers of different
// jobs off one lock. Thread-safe.
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "domain/job_view.h"

namespace jobtrail {

class AggregateCache {
 public:
  explicit AggregateCache(size_t capacity) : per_shard_(capacity / kShards + 1) {}

  // The cached view of the job, or null.
  std::shared_ptr<const JobView> Get(std::string_view job_id);
  // Keeps `job` unless a view of a higher version is there already.
  void Put(std::shared_ptr<const JobView> job);
  void Clear();

 private:
  static constexpr size_t kShards = 16;
  // Finds by string_view without building a std::string.
  struct IdHash {
    using is_transparent = void;
    size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, std::shared_ptr<const JobView>, IdHash, std::equal_to<>>
        jobs;  // GUARDED_BY(mu)
  };
  Shard& ShardOf(std::string_view job_id);

  const size_t per_shard_;
  Shard shards_[kShards];
};

}  // namespace jobtrail
