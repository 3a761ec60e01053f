// String names of the domain's enums (part of the public API and the export
// format, so they never change once released), and the rule for the names
// users give (names.h).
#include <algorithm>
#include <cctype>
#include <string>

#include <fmt/format.h>

#include "domain/job_event.h"
#include "domain/job_status.h"
#include "domain/names.h"

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
    "retried",  "completed", "failed",     "cancelled", "expired",
    "webhook_attempted"};
constexpr std::string_view kOutcomeNames[] = {"delivered", "retrying", "gave_up"};
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

std::string_view WebhookOutcomeName(WebhookOutcome outcome) {
  return kOutcomeNames[static_cast<int>(outcome)];
}

std::optional<WebhookOutcome> ParseWebhookOutcome(std::string_view name) {
  for (int i = 0; i < 3; ++i) {
    if (kOutcomeNames[i] == name) return static_cast<WebhookOutcome>(i);
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

namespace jobtrail {

bool IsValidName(std::string_view name) {
  if (name.size() > kMaxNameLength) return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    const auto b = static_cast<unsigned char>(c);
    return b < 0x20 || b == 0x7F;
  });
}

Result<void> CheckName(std::string_view field, std::string_view value) {
  if (IsValidName(value)) return Ok();
  return InvalidArgument(fmt::format(
      "{} must be at most {} bytes without control characters (0x00-0x1F, 0x7F)", field,
      kMaxNameLength));
}

Result<void> CheckEnqueuedNames(const Enqueued& spec) {
  BOOST_OUTCOME_TRYV(CheckName("type", spec.type));
  BOOST_OUTCOME_TRYV(CheckName("queue", spec.queue));
  BOOST_OUTCOME_TRYV(CheckName("owner", spec.owner));
  BOOST_OUTCOME_TRYV(CheckName("external_ref", spec.external_ref));
  BOOST_OUTCOME_TRYV(CheckName("unique_key", spec.unique_key));
  return Ok();
}

}  // namespace jobtrail
