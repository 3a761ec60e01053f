#pragma once
// The claimable jobs of every queue, in memory: pending jobs and retries,
// ordered as claims hand them out (highest priority first, then earliest
// ready time, then log order). The projector keeps it in step with the
// claim rows of the read models (view_keys::ClaimKey), from which it is
// rebuilt when the store opens.
//
// Why in memory: a claim that seeks the RocksDB claim rows steps over the
// tombstones of every job claimed since the last compaction, so claims got
// slower the more jobs were claimed. Here a claim costs O(log n).
//
// Entries may be stale (a job claimed or cancelled meanwhile): claimers
// check each job against its current state before they start it, so the
// index only proposes. Thread-safe.
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "domain/clock.h"

namespace jobtrail {

class ClaimIndex {
 public:
  struct Entry {
    std::string job_id;
    int32_t priority = 0;
    Millis ready_at = 0;
    uint64_t seq = 0;  // log position of the job's enqueue: ties by age
  };

  // Adds the job to the queue, or moves it if it is there already.
  void Upsert(std::string_view queue, Entry entry);
  // Adds many jobs of one queue that it does not hold yet (a start, from
  // the claim rows), under one lock. Cheapest in the rows' order (priority,
  // then ready time), where the waiting order mostly agrees: each insert
  // is then hinted at the end.
  void AddAll(std::string_view queue, std::vector<Entry> entries);
  void Remove(std::string_view queue, std::string_view job_id);
  // Removes and returns up to `max` jobs of the queue that are ready by
  // `now`, in claim order.
  std::vector<Entry> Take(std::string_view queue, Millis now, size_t max);
  // Jobs in the queue, ready or not (stale entries included).
  size_t Size(std::string_view queue);
  void Clear();

 private:
  // Claim order: priority descending, then ready time, log order, id.
  using ReadyKey = std::tuple<int64_t, Millis, uint64_t, std::string>;
  // Waiting order: ready time first, so due jobs are found from the front.
  using WaitingKey = std::tuple<Millis, int64_t, uint64_t, std::string>;
  struct Queue {
    std::set<ReadyKey> ready;
    std::set<WaitingKey> waiting;
    std::unordered_map<std::string, Entry> by_id;
  };
  static void Unlink(Queue& q, const Entry& e);

  std::mutex mu_;
  std::map<std::string, Queue, std::less<>> queues_;  // GUARDED_BY(mu_)
};

}  // namespace jobtrail
