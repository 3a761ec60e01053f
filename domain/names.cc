// String names of the domain's enums: part of the public API and the export
// format, so they never change once released.
#include <algorithm>
#include <cctype>
#include <string>

#include "domain/job_event.h"
#include "domain/job_status.h"

namespace jobtrail {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

constexpr std::string_view kStatusNames[] = {
    "none", "pending", "running", "retrying", "completed", "failed", "cancelled"};
constexpr std::string_view kKindNames[] = {
    "enqueued", "started",   "progressed", "logged",   "errored",
    "retried",  "completed", "failed",     "cancelled", "expired"};
constexpr std::string_view kLevelNames[] = {"TRACE", "INFO", "WARN", "ERROR",
                                            "FATAL"};

}  // namespace

std::string_view StatusName(JobStatus status) {
  return kStatusNames[static_cast<int>(status)];
}

std::optional<JobStatus> ParseStatus(std::string_view name) {
  for (JobStatus s : kAllStatuses) {
    if (StatusName(s) == name) return s;
  }
  return std::nullopt;
}

std::string_view EventKindName(EventKind kind) {
  return kKindNames[static_cast<int>(kind)];
}

std::optional<EventKind> ParseEventKind(std::string_view name) {
  for (int i = 0; i < kEventKindCount; ++i) {
    if (kKindNames[i] == name) return static_cast<EventKind>(i);
  }
  return std::nullopt;
}

std::string_view LogLevelName(LogLevel level) {
  return kLevelNames[static_cast<int>(level)];
}

std::optional<LogLevel> ParseLogLevel(std::string_view name) {
  for (int i = 0; i < 5; ++i) {
    if (EqualsIgnoreCase(kLevelNames[i], name)) return static_cast<LogLevel>(i);
  }
  if (EqualsIgnoreCase(name, "WARNING")) return LogLevel::kWarn;
  return std::nullopt;
}

}  // namespace jobtrail
