#include "projections/aggregate_cache.h"

#include <functional>

#include "projections/backlog_eviction.h"

namespace jobtrail {

AggregateCache::Shard& AggregateCache::ShardOf(std::string_view job_id) {
  return shards_[std::hash<std::string_view>{}(job_id) % kShards];
}

std::shared_ptr<const JobView> AggregateCache::Get(std::string_view job_id) {
  Shard& shard = ShardOf(job_id);
  std::lock_guard lock(shard.mu);
  auto it = shard.jobs.find(job_id);
  return it == shard.jobs.end() ? nullptr : it->second;
}

void AggregateCache::Put(std::shared_ptr<const JobView> job) {
  Shard& shard = ShardOf(job->job_id);
  std::lock_guard lock(shard.mu);
  auto it = shard.jobs.find(std::string_view(job->job_id));
  if (it != shard.jobs.end()) {
    if (it->second->version < job->version) it->second = std::move(job);
    return;
  }
  if (shard.jobs.size() >= per_shard_) {
    EvictForBacklog(shard.jobs, per_shard_ * 3 / 4, per_shard_ / 2,
                    [](const std::shared_ptr<const JobView>& j) -> const JobView& { return *j; });
  }
  std::string id = job->job_id;
  shard.jobs.emplace(std::move(id), std::move(job));
}

void AggregateCache::Clear() {
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    shard.jobs.clear();
  }
}

}  // namespace jobtrail
