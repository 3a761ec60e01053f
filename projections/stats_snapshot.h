#pragma once
// What the stats and health read models answer (SPEC §4).
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "domain/job_event.h"
#include "domain/job_status.h"

namespace jobtrail {

inline constexpr size_t kStatusSlots = 7;  // indexed by int(JobStatus)

struct DurationSummary {
  uint64_t count = 0;
  double mean_ms = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  double p99_ms = 0;
};

struct TypeStats {
  uint64_t total = 0;
  std::array<uint64_t, kStatusSlots> by_status{};
  DurationSummary processing;  // first start to final event, finished jobs
};

struct StatsSnapshot {
  uint64_t total = 0;
  std::array<uint64_t, kStatusSlots> by_status{};
  // Sum of attempts of the jobs in each status; divide by by_status.
  std::array<uint64_t, kStatusSlots> attempts_by_status{};
  std::map<std::string, TypeStats> by_type;
  DurationSummary processing;
  // Jobs finished (completed or failed) per hour / day, keyed by the start
  // of the hour / day in ms since the epoch. Kept for the last 48 h / 30 d.
  std::map<Millis, uint64_t> finished_per_hour;
  std::map<Millis, uint64_t> finished_per_day;
  uint64_t events_total = 0;
  uint64_t errors_total = 0;  // errored events

  double SuccessRate() const;  // completed / (completed + failed), 0..1
  double AverageAttempts(JobStatus s) const;
};

enum class HealthLevel { kHealthy, kWarning, kCritical };
std::string_view HealthLevelName(HealthLevel level);  // "healthy", ...

struct HealthReport {
  HealthLevel level = HealthLevel::kHealthy;
  Millis now = 0;
  uint64_t queue_depth = 0;                  // pending + retrying
  std::optional<Millis> oldest_pending_age;  // ms
  uint64_t running = 0;
  uint64_t stuck = 0;  // running with an overdue lease
  std::vector<std::string> stuck_job_ids;  // first few
  double error_rate = 0;     // errored events / started events, last hour
  uint64_t errors_last_hour = 0;
  uint64_t finished_last_hour = 0;
  std::vector<std::string> alerts;
  std::vector<std::string> recommendations;
};

}  // namespace jobtrail
