#include "projections/status_cache.h"

namespace jobtrail {
namespace {

size_t Cost(const std::string& id, const StatusDocument& doc) {
  return id.size() + doc.json.size() + doc.owner.size() + doc.type.size() + doc.queue.size() +
         doc.external_ref.size() + sizeof(StatusDocument) + 64;
}

}  // namespace

std::shared_ptr<const StatusDocument> StatusCache::Get(std::string_view job_id) const {
  Shard& shard = ShardOf(job_id);
  std::lock_guard lock(shard.mu);
  auto it = shard.docs.find(std::string(job_id));
  return it == shard.docs.end() ? nullptr : it->second;
}

void StatusCache::Put(const std::string& job_id, std::shared_ptr<const StatusDocument> doc) {
  Shard& shard = ShardOf(job_id);
  const size_t cost = Cost(job_id, *doc);
  std::lock_guard lock(shard.mu);
  auto [it, inserted] = shard.docs.try_emplace(job_id, nullptr);
  if (!inserted) shard.bytes -= Cost(job_id, *it->second);
  it->second = std::move(doc);
  shard.bytes += cost;
  if (shard.bytes > shard_budget_) {
    shard.docs.clear();
    shard.bytes = 0;
  }
}

void StatusCache::Erase(const std::string& job_id) {
  Shard& shard = ShardOf(job_id);
  std::lock_guard lock(shard.mu);
  auto it = shard.docs.find(job_id);
  if (it == shard.docs.end()) return;
  shard.bytes -= Cost(job_id, *it->second);
  shard.docs.erase(it);
}

void StatusCache::Clear() {
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    shard.docs.clear();
    shard.bytes = 0;
  }
}

}  // namespace jobtrail
