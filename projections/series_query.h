#pragma once
// A question to the per-minute history read model (series_index.h) and its
// answer: counts of what happened and processing-time percentiles, per step,
// for one job type or all of them.
#include <cstdint>
#include <string>
#include <vector>

#include "domain/job_event.h"
#include "projections/stats_snapshot.h"

namespace jobtrail {

inline constexpr Millis kMinuteMs = 60 * 1000;
// The history kept: at least 7 days back from the newest event (rows are
// dropped by whole days, so 7 to 8 days).
inline constexpr Millis kSeriesKeepDays = 8;
inline constexpr size_t kMaxSeriesPoints = 20160;  // 14 days of minutes

struct SeriesQuery {
  std::string type;  // empty: every type
  Millis from = 0;   // inclusive; a multiple of a minute
  Millis to = 0;     // exclusive
  Millis step = kMinuteMs;  // a multiple of a minute
};

struct SeriesCounts {
  uint64_t enqueued = 0;
  uint64_t started = 0;
  uint64_t completed = 0;
  uint64_t failed = 0;
  uint64_t retried = 0;  // retries after errors and manual retries
  uint64_t cancelled = 0;
};

struct SeriesPoint {
  Millis start = 0;  // the step starting here
  SeriesCounts counts;
  DurationSummary processing;  // jobs that finished in the step
};

}  // namespace jobtrail
