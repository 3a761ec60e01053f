#pragma once
// The running totals behind the stats and health read models. Updated per
// event by the projector from (job before, job after), persisted with every
// checkpoint, so neither a request nor a restart scans all jobs: the global
// totals as one JSON value, and each job type's totals as a value of its
// own, written only when that type changed (a store with 20,000 job types
// does not rewrite all of them for every batch). Deterministic: the same
// events give the same bytes.
//
// Not thread-safe; the projector owns it and publishes snapshots.
#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "domain/error.h"
#include "domain/job_view.h"
#include "projections/stats_snapshot.h"

namespace jobtrail {

// Durations in log-spaced buckets (10% wide): percentiles within 5%.
class DurationHistogram {
 public:
  void Add(Millis ms);
  DurationSummary Summarize() const;
  const std::map<int, uint64_t>& buckets() const { return buckets_; }
  double sum_ms() const { return sum_ms_; }
  uint64_t count() const { return count_; }
  void Restore(std::map<int, uint64_t> buckets, double sum_ms, uint64_t count);
  // Adds `other`'s durations (sums of whole milliseconds: exact).
  void Merge(const DurationHistogram& other);

 private:
  std::map<int, uint64_t> buckets_;
  double sum_ms_ = 0;
  uint64_t count_ = 0;
};

class StatsState {
 public:
  // Accounts for one event that turned `before` into `after`.
  void Apply(const JobView& before, const JobView& after, const RecordedEvent& event) {
    Apply(before.status, before.attempts, after, event);
  }
  // The same, given the only things Apply reads of the job before the
  // event (so that a caller need not copy the whole job per event).
  void Apply(JobStatus before_status, int32_t before_attempts, const JobView& after,
             const RecordedEvent& event);
  StatsSnapshot Snapshot() const;
  // Adds what `other` accounted for (the events of other jobs: a rebuild
  // folds jobs in partitions), as if this state had applied them too.
  void MergeFrom(const StatsState& other);

  // The global totals (every type's are separate: SerializeType).
  std::string Serialize() const;
  static Result<StatsState> Parse(std::string_view json);
  std::string SerializeType(const std::string& type) const;
  Result<void> RestoreType(std::string type, std::string_view json);
  // The types whose totals changed since the last call.
  std::vector<std::string> TakeChangedTypes();

  // Started and errored events in the hour starting at `hour_start`.
  uint64_t StartedInHour(Millis hour_start) const;
  uint64_t ErroredInHour(Millis hour_start) const;
  uint64_t FinishedInHour(Millis hour_start) const;

 private:
  struct TypeTotals {
    uint64_t total = 0;
    std::array<uint64_t, kStatusSlots> by_status{};
    DurationHistogram processing;
  };
  void Prune();

  uint64_t total_ = 0;
  std::array<uint64_t, kStatusSlots> by_status_{};
  std::array<uint64_t, kStatusSlots> attempts_by_status_{};
  std::map<std::string, TypeTotals> by_type_;
  std::set<std::string> changed_types_;
  DurationHistogram processing_;
  std::map<Millis, uint64_t> finished_per_hour_;
  std::map<Millis, uint64_t> finished_per_day_;
  std::map<Millis, uint64_t> started_per_hour_;
  std::map<Millis, uint64_t> errored_per_hour_;
  uint64_t events_total_ = 0;
  uint64_t errors_total_ = 0;
  Millis latest_event_ = 0;  // pruning is relative to this, not to "now"
};

inline constexpr Millis kHourMs = 3600 * 1000;
inline constexpr Millis kDayMs = 24 * kHourMs;
inline Millis HourStart(Millis t) { return t - ((t % kHourMs) + kHourMs) % kHourMs; }
inline Millis DayStart(Millis t) { return t - ((t % kDayMs) + kDayMs) % kDayMs; }

}  // namespace jobtrail
