#pragma once
// Request bodies (JSON) to domain commands. Strict: wrong types, unknown
// fields, unknown enum values, bad UUIDs and out-of-range numbers are all
// INVALID_INPUT errors naming the field; malformed JSON is INVALID_JSON.
// Nothing here touches the store.
//
// Shapes (schemas/openapi.yaml has the full list of fields):
//   enqueue   {"type": "...", "queue", "owner", "external_ref", "payload",
//              "priority", "max_attempts", "run_at", "labels", "unique_key",
//              "idempotency_key", "job_id"}
//   event     {"type": "started", "event_id": "<uuid>", "data": {...}}
//   events    one event, or {"events": [event, ...]}
//   cancel    {} or {"reason": "...", "by": "..."}; the body may be empty
//   batch     {"operations": [op, ...]}, op one of
//               {"op": "enqueue", "idempotency_key", "job": <enqueue>}
//               {"op": "append", "job_id", "expected_version", "events": [...]}
//               {"op": "cancel", "job_id", "expected_version", "reason", "by"}
#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/job_event.h"
#include "http/server/api_error.h"
#include "projections/job_commands.h"

namespace jobtrail::http {

inline constexpr size_t kMaxEventsPerAppend = 1000;

ApiResult<EnqueueRequest> ParseEnqueue(const rapidjson::Value& value,
                                       const std::string& path);

struct ParsedEvents {
  std::vector<EventBody> events;
  std::vector<std::string> event_ids;  // empty, or one per event
};
// One event object or {"events": [...]} (the form of POST /v1/jobs/{id}/events).
ApiResult<ParsedEvents> ParseEventsBody(const rapidjson::Value& value);
ApiResult<Cancelled> ParseCancel(std::string_view body);

struct BatchOperation {
  enum class Kind { kEnqueue, kAppend };
  Kind kind = Kind::kEnqueue;
  EnqueueRequest enqueue;  // kEnqueue
  AppendRequest append;    // kAppend (cancel is an append of one Cancelled)
};
// The whole batch fails only if its envelope is wrong (not an object, no
// "operations" array, too many operations); each operation's own errors are
// returned in its slot, so the others still run.
ApiResult<std::vector<ApiResult<BatchOperation>>> ParseBatch(
    const rapidjson::Value& value, size_t max_operations);

// One job's part of a claim's "append" list: {"job_id", "events": [...],
// "expected_version"?} (the shape of a batch's append operation, no "op").
ApiResult<AppendRequest> ParseJobAppend(const rapidjson::Value& value, const std::string& path);

// The allowed values of each enum-like field, as a JSON array (for details).
std::string EventTypesJson();
std::string LogLevelsJson();

}  // namespace jobtrail::http
