#pragma once
// A write-through cache of status documents in front of the views database.
// Polls (GET /v1/jobs/{id}) are the hottest path of the whole system; a hit
// costs a hash lookup instead of a RocksDB read that walks the memtable's
// skip list and the block cache.
//
// Only the projector fills it, after the views batch is written and before
// progress is published, so read-your-writes holds and an entry is never
// older than the views. Misses are not filled by readers (a reader could
// otherwise put back a document the projector just replaced). When a shard
// outgrows its budget it is emptied; its jobs are read from RocksDB until
// they change again. Thread-safe.
#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "projections/job_store.h"

namespace jobtrail {

class StatusCache {
 public:
  explicit StatusCache(size_t budget_bytes) : shard_budget_(budget_bytes / kShards) {}

  std::shared_ptr<const StatusDocument> Get(std::string_view job_id) const;
  void Put(const std::string& job_id, std::shared_ptr<const StatusDocument> doc);
  void Erase(const std::string& job_id);
  void Clear();

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, std::shared_ptr<const StatusDocument>> docs;  // GUARDED_BY(mu)
    size_t bytes = 0;                                                             // GUARDED_BY(mu)
  };
  Shard& ShardOf(std::string_view job_id) const {
    return shards_[std::hash<std::string_view>{}(job_id) % kShards];
  }

  size_t shard_budget_;
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace jobtrail
