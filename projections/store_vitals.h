#pragma once
// What the store says about its own health, for /metrics and /readyz: can
// the log and the read models write (a full disk, I/O errors), is the
// projection running, how big are group commits and how long do syncs
// take, how many jobs are claimed.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "eventstore/log_stats.h"
#include "eventstore/rocks_recovery.h"

namespace jobtrail {

// The projection thread's state.
enum class ProjectionState {
  kRunning,  // applying the log as it grows
  kBlocked,  // the read models cannot be written (storage); retried until
             // they can, the log's events wait, nothing is lost
  kFailed,   // stopped for good (an event it cannot apply, a damaged view);
             // logged, counted, reported not ready: restart after fixing
};
std::string_view ProjectionStateName(ProjectionState state);

struct StoreVitals {
  eventstore::StorageHealth log_storage;    // the event log's database
  eventstore::StorageHealth views_storage;  // the read models' database
  eventstore::HistogramSnapshot group_events;  // events per group commit
  eventstore::HistogramSnapshot sync_seconds;  // WAL sync latency
  size_t pending_appends = 0;      // appends queued or committing in the log
  uint64_t jobs_claimed = 0;       // jobs handed out by claims since start
  double claims_per_second = 0;    // over the last RateWindow::kSeconds
  uint64_t projection_errors = 0;  // batches the projection failed to apply
};

// Events per second over the last kSeconds whole seconds (a claim rate).
// Thread-safe; a short lock per Add.
class RateWindow {
 public:
  static constexpr int64_t kSeconds = 10;
  using Clock = std::chrono::steady_clock;

  void Add(uint64_t n, Clock::time_point now = Clock::now()) {
    const int64_t second = Seconds(now);
    std::lock_guard lock(mu_);
    Slot& s = slots_[size_t(second % kSlots)];
    if (s.second != second) s = {second, 0};
    s.count += n;
  }
  double PerSecond(Clock::time_point now = Clock::now()) const {
    const int64_t second = Seconds(now);
    uint64_t sum = 0;
    std::lock_guard lock(mu_);
    for (const Slot& s : slots_) {
      // The seconds before the current one: that one is still filling.
      if (s.second < second && s.second >= second - kSeconds) sum += s.count;
    }
    return double(sum) / double(kSeconds);
  }

 private:
  static constexpr int64_t kSlots = kSeconds + 1;
  struct Slot {
    int64_t second = -1;
    uint64_t count = 0;
  };
  static int64_t Seconds(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  }
  mutable std::mutex mu_;
  Slot slots_[kSlots];
};

}  // namespace jobtrail
