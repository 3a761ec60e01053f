#pragma once
#include <optional>
#include <string_view>

namespace jobtrail {

// SPEC §3. kNone is the state of a job before its enqueued event.
enum class JobStatus {
  kNone = 0,
  kPending,
  kRunning,
  kRetrying,
  kCompleted,
  kFailed,
  kCancelled,
};
inline constexpr JobStatus kAllStatuses[] = {
    JobStatus::kPending,   JobStatus::kRunning, JobStatus::kRetrying,
    JobStatus::kCompleted, JobStatus::kFailed,  JobStatus::kCancelled};

std::string_view StatusName(JobStatus status);  // "pending", "running", ...
std::optional<JobStatus> ParseStatus(std::string_view name);
inline bool IsFinal(JobStatus s) {
  return s == JobStatus::kCompleted || s == JobStatus::kFailed ||
         s == JobStatus::kCancelled;
}

}  // namespace jobtrail
