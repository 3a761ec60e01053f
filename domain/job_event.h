#pragma once
// The events of a job's life (SPEC §2). Plain structs: no I/O, no JSON
// parsing. JSON-valued fields (payload, result, details) hold the JSON text
// exactly as the client sent it, already validated by the HTTP layer.
//
// Times are milliseconds since the Unix epoch; std::nullopt means "not set".
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace jobtrail {

using Millis = int64_t;
using Labels = std::vector<std::pair<std::string, std::string>>;

enum class LogLevel { kTrace = 0, kInfo = 1, kWarn = 2, kError = 3, kFatal = 4 };
std::string_view LogLevelName(LogLevel level);  // "TRACE", "INFO", ...
std::optional<LogLevel> ParseLogLevel(std::string_view name);  // case-insensitive

// A file that documents an error: a screenshot, the page source, a log dump.
// Either a reference (url/key into someone's object store) or small inline
// bytes.
struct Artifact {
  std::string kind;  // "screenshot", "page_source", or any other word
  std::string url;
  std::string key;
  std::string content_type;
  std::string bytes;  // inline content, may be empty
  bool operator==(const Artifact&) const = default;
};

struct ItemCounts {
  std::optional<int64_t> processed;
  std::optional<int64_t> total;
  std::optional<int64_t> failed;
  bool operator==(const ItemCounts&) const = default;
};

struct Enqueued {
  std::string type;
  std::string queue = "default";
  std::string owner;
  std::string external_ref;
  std::string payload_json = "{}";
  int32_t priority = 0;
  int32_t max_attempts = 3;
  std::optional<Millis> run_at;
  Labels labels;
  std::string idempotency_key;
  std::string unique_key;
  // Retry backoff for this job; empty/unset: the server's policy for the
  // job's type. Kinds: "fixed", "exponential".
  std::string retry_backoff;
  std::optional<Millis> retry_base_delay_ms;
  std::optional<Millis> retry_max_delay_ms;
  // Where to POST a signed webhook when the job reaches a final state
  // (http/webhooks/); empty: none. An absolute http(s) URL.
  std::string callback_url;
  bool operator==(const Enqueued&) const = default;
};

struct Started {
  int32_t attempt = 0;  // 0: "the next one"; otherwise must be exactly that
  std::string worker_id;
  std::optional<Millis> lease_deadline;
  bool operator==(const Started&) const = default;
};

struct Progressed {
  std::optional<double> percent;  // 0..100
  std::string message;
  std::string step;
  ItemCounts items;
  // A heartbeat: the worker is alive and holds the job until then.
  std::optional<Millis> lease_deadline;
  bool operator==(const Progressed&) const = default;
};

struct Logged {
  LogLevel level = LogLevel::kInfo;
  std::string message;
  std::string details_json;  // empty: none
  Labels subjects;           // related subjects, e.g. {"gameServer","gs-1"}
  bool operator==(const Logged&) const = default;
};

struct Errored {
  int32_t attempt = 0;  // 0: the current attempt
  std::string error_type;
  std::string message;
  std::string stack;
  std::string stage;
  std::vector<Artifact> artifacts;
  bool operator==(const Errored&) const = default;
};

struct Retried {
  int32_t attempt = 0;  // the attempt that will run next; 0: current + 1
  Millis next_run_at = 0;
  Millis backoff_ms = 0;
  bool operator==(const Retried&) const = default;
};

struct Completed {
  std::string result_json;  // empty: no result
  ItemCounts items;
  bool operator==(const Completed&) const = default;
};

struct Failed {
  std::string reason;
  std::string error_type;
  std::string stack;
  bool operator==(const Failed&) const = default;
};

struct Cancelled {
  std::string reason;
  std::string by;
  bool operator==(const Cancelled&) const = default;
};

// The job's retention ran out (its type's retention, or a cleanup of old
// final jobs): the read models forget it, its events stay in the log for
// audit. Appended by the store (actor "system"); nothing follows it.
struct Expired {
  std::string reason;  // "retention" or "cleanup"
  bool operator==(const Expired&) const = default;
};

// How one webhook delivery attempt ended.
enum class WebhookOutcome {
  kDelivered = 0,  // a 2xx answer: the delivery is done
  kRetrying = 1,   // failed; another attempt follows at next_attempt_at
  kGaveUp = 2,     // failed, and it was the last attempt
};
std::string_view WebhookOutcomeName(WebhookOutcome outcome);  // "delivered", ...
std::optional<WebhookOutcome> ParseWebhookOutcome(std::string_view name);

// One attempt to deliver a webhook (a subscription's, or the job's own
// callback_url) about an earlier event of this job. Written by the store's
// webhook dispatcher (actor "system") so that the audit history shows every
// attempt; like a log line it changes nothing of the job but its version.
// Accepted in every state once the job exists (final ones included: most
// deliveries are about the final event), never after expiry.
struct WebhookAttempted {
  std::string delivery_id;     // the same for every attempt of one delivery
  std::string webhook_id;      // the subscription; empty: the job's callback_url
  uint64_t event_version = 0;  // the event of this job the delivery is about
  std::string event_type;      // its kind's name ("completed", ...)
  int32_t attempt = 1;         // 1, 2, ... within the delivery
  int32_t status_code = 0;     // the receiver's HTTP status; 0: no answer
  std::string error;           // why the attempt failed; empty when delivered
  Millis duration_ms = 0;      // from connecting to the end of the answer
  WebhookOutcome outcome = WebhookOutcome::kDelivered;
  std::optional<Millis> next_attempt_at;  // set when kRetrying
  bool operator==(const WebhookAttempted&) const = default;
};

using EventBody = std::variant<Enqueued, Started, Progressed, Logged, Errored,
                               Retried, Completed, Failed, Cancelled, Expired,
                               WebhookAttempted>;

// The order of EventBody's alternatives; the numbers are part of the on-disk
// format (schemas/) and never change.
enum class EventKind {
  kEnqueued = 0,
  kStarted,
  kProgressed,
  kLogged,
  kErrored,
  kRetried,
  kCompleted,
  kFailed,
  kCancelled,
  kExpired,
  kWebhookAttempted,
};
inline constexpr int kEventKindCount = 11;

inline EventKind KindOf(const EventBody& body) {
  return static_cast<EventKind>(body.index());
}
std::string_view EventKindName(EventKind kind);  // "enqueued", "started", ...
std::optional<EventKind> ParseEventKind(std::string_view name);

// An event as stored: the envelope plus the body.
struct RecordedEvent {
  std::string event_id;
  std::string job_id;
  uint64_t version = 0;   // 1, 2, 3... within the job's stream
  uint64_t position = 0;  // 1, 2, 3... over the whole log
  Millis timestamp = 0;
  std::string actor;
  EventBody body;
  bool operator==(const RecordedEvent&) const = default;
};

}  // namespace jobtrail
