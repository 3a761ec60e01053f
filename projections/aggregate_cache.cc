#include "projections/aggregate_cache.h"

#include <functional>

namespace jobtrail {

AggregateCache::Shard& AggregateCache::ShardOf(std::string_view job_id) {
  return shards_[std::hash<std::string_view>{}(job_id) % kShards];
}

std::shared_ptr<const JobView> AggregateCache::Get(std::string_view job_id) {
  Shard& shard = ShardOf(job_id);
  std::lock_guard lock(shard.mu);
  auto it = shard.slots.find(std::string(job_id));
  if (it == shard.slots.end()) return nullptr;
  shard.order.splice(shard.order.begin(), shard.order, it->second.in_order);
  return it->second.job;
}

void AggregateCache::Put(std::shared_ptr<const JobView> job) {
  Shard& shard = ShardOf(job->job_id);
  std::lock_guard lock(shard.mu);
  auto it = shard.slots.find(job->job_id);
  if (it != shard.slots.end()) {
    if (it->second.job->version < job->version) it->second.job = std::move(job);
    shard.order.splice(shard.order.begin(), shard.order, it->second.in_order);
    return;
  }
  if (shard.slots.size() >= per_shard_) {
    shard.slots.erase(shard.order.back());
    shard.order.pop_back();
  }
  shard.order.push_front(job->job_id);
  std::string id = job->job_id;
  shard.slots.emplace(std::move(id), Shard::Slot{std::move(job), shard.order.begin()});
}

void AggregateCache::Clear() {
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    shard.slots.clear();
    shard.order.clear();
  }
}

}  // namespace jobtrail
