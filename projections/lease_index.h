#pragma once
// The running jobs' lease deadlines, in memory: whose lease has run out by
// a given time (maintenance expires them, health counts them as stuck).
// The projector keeps it in step with the jobs it applies, once their rows
// are written; it is refilled from the running jobs when the store opens.
//
// Why in memory: a lease row in the read models cost each claim one row,
// each heartbeat two (the deadline moves) and each end of a job one more,
// a fifth of the rows a job's claim, heartbeat and completion wrote
// (issue 10). The running jobs are few (one per busy worker), so a start
// finds them all in the status index. Thread-safe.
#include <cstddef>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "domain/clock.h"

namespace jobtrail {

class LeaseIndex {
 public:
  // The job now holds a lease until `deadline`; nullopt: it holds none.
  void Set(std::string_view job_id, std::optional<Millis> deadline);

  struct Overdue {
    size_t count = 0;              // leases that ran out, up to the count limit
    std::vector<std::string> ids;  // the earliest of them, up to the list limit
  };
  // Leases whose deadline is before `before`, earliest first.
  Overdue Before(Millis before, size_t count_limit, size_t list_limit) const;
  size_t size() const;
  void Clear();

 private:
  mutable std::mutex mu_;
  std::set<std::pair<Millis, std::string>> by_deadline_;  // GUARDED_BY(mu_)
  std::unordered_map<std::string, Millis> by_job_;        // GUARDED_BY(mu_)
};

}  // namespace jobtrail
