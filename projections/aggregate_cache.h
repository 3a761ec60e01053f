#pragma once
// The write side's folded jobs: the newest JobView of recently written
// jobs, so that an append checks its transition against the job without
// reading and folding the job's whole stream (which made the 20,000th
// append to one job 18x slower than the first). A miss, or a cached view
// behind the log, is completed from the log: the cache never decides
// anything the log does not say, so it needs nothing after a crash.
//
// Bounded (least recently used out), sharded to keep writers of different
// jobs off one lock. Thread-safe.
#include <cstddef>
#include <list>
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
  struct Shard {
    std::mutex mu;
    std::list<std::string> order;  // most recently used first
    struct Slot {
      std::shared_ptr<const JobView> job;
      std::list<std::string>::iterator in_order;
    };
    std::unordered_map<std::string, Slot> slots;  // GUARDED_BY(mu)
  };
  Shard& ShardOf(std::string_view job_id);

  const size_t per_shard_;
  Shard shards_[kShards];
};

}  // namespace jobtrail
