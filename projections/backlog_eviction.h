#pragma once
// How the two caches of folded jobs (the writer's AggregateCache and the
// projector's) make room: final jobs first (nothing but their expiry will
// touch them again), then the jobs enqueued last. Claims take jobs oldest
// first (within a priority), so in a backlog larger than a cache the oldest
// are the next to be claimed. A least-recently-used order drops exactly
// those (they were touched longest ago, at their enqueue), and so did
// emptying the cache: every claim of a 200,000-job backlog then read its
// job back from the log, 17.5% of the server's CPU.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <vector>

#include "domain/job_view.h"

namespace jobtrail {

// When `cache` (a map whose values `view` turns into `const JobView&`)
// holds more than `high` jobs once its final ones are gone, keeps the
// `keep` (<= high) enqueued first. Jobs with the same enqueue position
// (only views folded before their enqueue had one) are kept or dropped
// together, and if that leaves more than `high`, any go until `keep` are
// left: the bound holds whatever the views say, so a full cache makes room
// once in (high - keep) insertions, never at every one.
template <typename Map, typename View>
void EvictForBacklog(Map& cache, size_t high, size_t keep, View view) {
  std::erase_if(cache, [&](const auto& entry) { return IsFinal(view(entry.second).status); });
  if (cache.size() <= high) return;
  if (keep == 0) {
    cache.clear();
    return;
  }
  std::vector<uint64_t> positions;
  positions.reserve(cache.size());
  for (const auto& entry : cache) positions.push_back(view(entry.second).created_position);
  const auto nth = positions.begin() + std::ptrdiff_t(keep - 1);
  std::nth_element(positions.begin(), nth, positions.end());
  const uint64_t last_kept = *nth;
  std::erase_if(cache, [&](const auto& entry) {
    return view(entry.second).created_position > last_kept;
  });
  for (auto it = cache.begin(); cache.size() > keep && it != cache.end();) {
    it = view(it->second).created_position == last_kept ? cache.erase(it) : std::next(it);
  }
}

}  // namespace jobtrail
