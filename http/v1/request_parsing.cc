#include "http/v1/request_parsing.h"

#include <fmt/format.h>

#include <limits>

#include "domain/job_id.h"
#include "domain/retry_policy.h"
#include "http/security/crypto.h"
#include "http/server/error_mapping.h"
#include "http/server/ids.h"
#include "http/server/json_reader.h"
#include "http/server/json_writer.h"

namespace jobtrail::http {
namespace {

constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kMaxAttempts = 1000;
constexpr int64_t kMaxCount = std::numeric_limits<int64_t>::max();
// RetryPolicy::kMaxDelayLimitMs: one leap year.
constexpr int64_t kMaxDelayMs = RetryPolicy::kMaxDelayLimitMs;

std::string Indexed(std::string_view path, size_t i) {
  return fmt::format("{}[{}]", path, i);
}

ApiResult<std::string> OptionalUuid(ObjectReader& r, std::string_view key) {
  BOOST_OUTCOME_TRY(id, r.String(key, 64));
  if (!id) return std::string();
  if (!IsUuid(*id)) return InvalidField(r.PathOf(key), "must be a UUID");
  return std::move(*id);
}

ApiResult<ItemCounts> ParseItems(ObjectReader& parent) {
  ItemCounts items;
  const rapidjson::Value* v = parent.Get("items");
  if (v == nullptr) return items;
  BOOST_OUTCOME_TRY(r, ObjectReader::Of(*v, parent.PathOf("items")));
  BOOST_OUTCOME_TRY(processed, r.Int("processed", 0, kMaxCount));
  BOOST_OUTCOME_TRY(total, r.Int("total", 0, kMaxCount));
  BOOST_OUTCOME_TRY(failed, r.Int("failed", 0, kMaxCount));
  BOOST_OUTCOME_TRYV(r.Finish());
  items.processed = processed;
  items.total = total;
  items.failed = failed;
  return items;
}

ApiResult<std::vector<Artifact>> ParseArtifacts(ObjectReader& parent) {
  std::vector<Artifact> out;
  const rapidjson::Value* v = parent.Get("artifacts");
  if (v == nullptr) return out;
  const std::string path = parent.PathOf("artifacts");
  if (!v->IsArray()) return InvalidField(path, "must be an array of artifact objects");
  for (rapidjson::SizeType i = 0; i < v->Size(); ++i) {
    BOOST_OUTCOME_TRY(r, ObjectReader::Of((*v)[i], Indexed(path, i)));
    Artifact a;
    BOOST_OUTCOME_TRY(kind, r.RequiredString("kind", 64));
    BOOST_OUTCOME_TRY(url, r.String("url", 8192));
    BOOST_OUTCOME_TRY(key, r.String("key", 1024));
    BOOST_OUTCOME_TRY(content_type, r.String("content_type", 256));
    BOOST_OUTCOME_TRY(b64, r.String("content_base64", std::numeric_limits<size_t>::max()));
    BOOST_OUTCOME_TRYV(r.Finish());
    a.kind = std::move(kind);
    a.url = url.value_or("");
    a.key = key.value_or("");
    a.content_type = content_type.value_or("");
    if (b64) {
      auto bytes = Base64Decode(*b64);
      if (!bytes) return InvalidField(r.PathOf("content_base64"), "is not valid base64");
      a.bytes = std::move(*bytes);
    }
    if (a.url.empty() && a.key.empty() && a.bytes.empty()) {
      return InvalidField(Indexed(path, i), "needs a url, a key or content_base64");
    }
    out.push_back(std::move(a));
  }
  return out;
}

ApiResult<EventBody> ParseStarted(ObjectReader& r) {
  Started e;
  BOOST_OUTCOME_TRY(attempt, r.Int("attempt", 0, kMaxAttempts));
  BOOST_OUTCOME_TRY(worker, r.String("worker_id", 256));
  BOOST_OUTCOME_TRY(lease, r.Time("lease_deadline"));
  e.attempt = int32_t(attempt.value_or(0));
  e.worker_id = worker.value_or("");
  e.lease_deadline = lease;
  return EventBody(std::move(e));
}

ApiResult<EventBody> ParseProgressed(ObjectReader& r) {
  Progressed e;
  BOOST_OUTCOME_TRY(percent, r.Number("percent", 0, 100));
  BOOST_OUTCOME_TRY(message, r.String("message"));
  BOOST_OUTCOME_TRY(step, r.String("step", 1024));
  BOOST_OUTCOME_TRY(items, ParseItems(r));
  BOOST_OUTCOME_TRY(lease, r.Time("lease_deadline"));
  e.percent = percent;
  e.message = message.value_or("");
  e.step = step.value_or("");
  e.items = items;
  e.lease_deadline = lease;
  return EventBody(std::move(e));
}

ApiResult<EventBody> ParseLogged(ObjectReader& r) {
  Logged e;
  BOOST_OUTCOME_TRY(level_name, r.String("level", 16));
  if (level_name) {
    auto level = ParseLogLevel(*level_name);
    if (!level) {
      return ApiError(
          MakeError(Code::kInvalidArgument, "INVALID_INPUT",
                    fmt::format("{}: unknown log level '{}'", r.PathOf("level"), *level_name)),
          fmt::format(R"({{"field":{},"allowed":{}}})", JsonQuote(r.PathOf("level")),
                      LogLevelsJson()));
    }
    e.level = *level;
  }
  BOOST_OUTCOME_TRY(message, r.RequiredString("message"));
  BOOST_OUTCOME_TRY(details, r.AnyJson("details"));
  BOOST_OUTCOME_TRY(subjects, r.StringMap("subjects"));
  e.message = std::move(message);
  e.details_json = details.value_or("");
  e.subjects = subjects.value_or(Labels{});
  return EventBody(std::move(e));
}

ApiResult<EventBody> ParseErrored(ObjectReader& r) {
  Errored e;
  BOOST_OUTCOME_TRY(attempt, r.Int("attempt", 0, kMaxAttempts));
  BOOST_OUTCOME_TRY(error_type, r.String("error_type", 256));
  BOOST_OUTCOME_TRY(message, r.RequiredString("message"));
  BOOST_OUTCOME_TRY(stack, r.String("stack"));
  BOOST_OUTCOME_TRY(stage, r.String("stage", 256));
  BOOST_OUTCOME_TRY(artifacts, ParseArtifacts(r));
  e.attempt = int32_t(attempt.value_or(0));
  e.error_type = error_type.value_or("");
  e.message = std::move(message);
  e.stack = stack.value_or("");
  e.stage = stage.value_or("");
  e.artifacts = std::move(artifacts);
  return EventBody(std::move(e));
}

ApiResult<EventBody> ParseRetried(ObjectReader& r) {
  Retried e;
  BOOST_OUTCOME_TRY(attempt, r.Int("attempt", 0, kMaxAttempts));
  BOOST_OUTCOME_TRY(next_run_at, r.Time("next_run_at"));
  BOOST_OUTCOME_TRY(backoff, r.Int("backoff_ms", 0, kMaxCount));
  if (!next_run_at) return InvalidField(r.PathOf("next_run_at"), "is required");
  e.attempt = int32_t(attempt.value_or(0));
  e.next_run_at = *next_run_at;
  e.backoff_ms = backoff.value_or(0);
  return EventBody(std::move(e));
}

ApiResult<EventBody> ParseCompleted(ObjectReader& r) {
  Completed e;
  BOOST_OUTCOME_TRY(result, r.AnyJson("result"));
  BOOST_OUTCOME_TRY(items, ParseItems(r));
  e.result_json = result.value_or("");
  e.items = items;
  return EventBody(std::move(e));
}

ApiResult<EventBody> ParseFailed(ObjectReader& r) {
  Failed e;
  BOOST_OUTCOME_TRY(reason, r.String("reason"));
  BOOST_OUTCOME_TRY(error_type, r.String("error_type", 256));
  BOOST_OUTCOME_TRY(stack, r.String("stack"));
  e.reason = reason.value_or("");
  e.error_type = error_type.value_or("");
  e.stack = stack.value_or("");
  return EventBody(std::move(e));
}

ApiResult<Cancelled> ParseCancelFields(ObjectReader& r) {
  Cancelled e;
  BOOST_OUTCOME_TRY(reason, r.String("reason", 4096));
  BOOST_OUTCOME_TRY(by, r.String("by", 256));
  e.reason = reason.value_or("");
  e.by = by.value_or("");
  return e;
}

ApiResult<EventBody> ParseEventData(EventKind kind, ObjectReader& r) {
  switch (kind) {
    case EventKind::kStarted: return ParseStarted(r);
    case EventKind::kProgressed: return ParseProgressed(r);
    case EventKind::kLogged: return ParseLogged(r);
    case EventKind::kErrored: return ParseErrored(r);
    case EventKind::kRetried: return ParseRetried(r);
    case EventKind::kCompleted: return ParseCompleted(r);
    case EventKind::kFailed: return ParseFailed(r);
    case EventKind::kCancelled: {
      BOOST_OUTCOME_TRY(c, ParseCancelFields(r));
      return EventBody(std::move(c));
    }
    case EventKind::kEnqueued: break;
    case EventKind::kExpired: break;
    case EventKind::kWebhookAttempted: break;
  }
  return InvalidField(r.PathOf("type"), "'enqueued' is written by POST /v1/jobs");
}

// {"type": "...", "event_id": "...", "data": {...}}
ApiResult<void> ParseEvent(const rapidjson::Value& value, const std::string& path,
                           ParsedEvents& out) {
  BOOST_OUTCOME_TRY(r, ObjectReader::Of(value, path));
  BOOST_OUTCOME_TRY(type, r.RequiredString("type", 32));
  auto kind = ParseEventKind(type);
  // Clients write neither the job's first event nor its expiry (the
  // store's retention does) nor webhook attempts (its dispatcher does).
  if (!kind || *kind == EventKind::kEnqueued || *kind == EventKind::kExpired ||
      *kind == EventKind::kWebhookAttempted) {
    return ApiError(
        MakeError(Code::kInvalidArgument, "INVALID_INPUT",
                  fmt::format("{}: unknown event type '{}'", r.PathOf("type"), type)),
        fmt::format(R"({{"field":{},"allowed":{}}})", JsonQuote(r.PathOf("type")),
                    EventTypesJson()));
  }
  BOOST_OUTCOME_TRY(event_id, OptionalUuid(r, "event_id"));
  rapidjson::Value empty(rapidjson::kObjectType);
  const rapidjson::Value* data = r.Get("data");
  BOOST_OUTCOME_TRYV(r.Finish());
  BOOST_OUTCOME_TRY(d, ObjectReader::Of(data ? *data : empty, r.PathOf("data")));
  BOOST_OUTCOME_TRY(body, ParseEventData(*kind, d));
  BOOST_OUTCOME_TRYV(d.Finish());
  out.events.push_back(std::move(body));
  out.event_ids.push_back(std::move(event_id));
  return boost::outcome_v2::success();
}

ApiResult<ParsedEvents> ParseEventList(const rapidjson::Value* list,
                                       const std::string& path) {
  if (list == nullptr || !list->IsArray() || list->Empty()) {
    return InvalidField(path, "must be a non-empty array of events");
  }
  if (list->Size() > kMaxEventsPerAppend) {
    return InvalidField(path, fmt::format("holds more than {} events", kMaxEventsPerAppend));
  }
  ParsedEvents out;
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    BOOST_OUTCOME_TRYV(ParseEvent((*list)[i], Indexed(path, i), out));
  }
  return out;
}

// Event ids are all-or-nothing for the store: blanks become fresh UUIDs only
// when at least one was given.
void NormalizeEventIds(ParsedEvents& events) {
  bool any = false;
  for (const auto& id : events.event_ids) any = any || !id.empty();
  if (!any) {
    events.event_ids.clear();
    return;
  }
  for (auto& id : events.event_ids) {
    if (id.empty()) id = NewUuid();
  }
}

ApiResult<BatchOperation> ParseOperation(const rapidjson::Value& value,
                                         const std::string& path) {
  BOOST_OUTCOME_TRY(r, ObjectReader::Of(value, path));
  BOOST_OUTCOME_TRY(op, r.RequiredString("op", 16));
  BatchOperation out;
  if (op == "enqueue") {
    BOOST_OUTCOME_TRY(key, r.String("idempotency_key", 256));
    const rapidjson::Value* job = r.Get("job");
    BOOST_OUTCOME_TRYV(r.Finish());
    if (job == nullptr) return InvalidField(r.PathOf("job"), "is required");
    BOOST_OUTCOME_TRY(request, ParseEnqueue(*job, r.PathOf("job")));
    if (key) request.spec.idempotency_key = std::move(*key);
    out.kind = BatchOperation::Kind::kEnqueue;
    out.enqueue = std::move(request);
    return out;
  }
  if (op != "append" && op != "cancel") {
    return ApiError(MakeError(Code::kInvalidArgument, "INVALID_INPUT",
                              fmt::format("{}: unknown operation '{}'", r.PathOf("op"), op)),
                    fmt::format(R"({{"field":{},"allowed":["enqueue","append","cancel"]}})",
                                JsonQuote(r.PathOf("op"))));
  }
  out.kind = BatchOperation::Kind::kAppend;
  BOOST_OUTCOME_TRY(job_id, r.RequiredString("job_id", kMaxJobIdLength));
  if (!IsValidJobId(job_id)) {
    return InvalidField(r.PathOf("job_id"), fmt::format("must be {}", kJobIdRule));
  }
  BOOST_OUTCOME_TRY(expected, r.Int("expected_version", 0, kMaxCount));
  out.append.job_id = std::move(job_id);
  if (expected) out.append.expected_version = uint64_t(*expected);
  if (op == "cancel") {
    BOOST_OUTCOME_TRY(cancel, ParseCancelFields(r));
    BOOST_OUTCOME_TRYV(r.Finish());
    out.append.events.emplace_back(std::move(cancel));
    return out;
  }
  BOOST_OUTCOME_TRY(events, ParseEventList(r.Get("events"), r.PathOf("events")));
  BOOST_OUTCOME_TRYV(r.Finish());
  NormalizeEventIds(events);
  out.append.events = std::move(events.events);
  out.append.event_ids = std::move(events.event_ids);
  return out;
}

}  // namespace

ApiResult<EnqueueRequest> ParseEnqueue(const rapidjson::Value& value,
                                       const std::string& path) {
  BOOST_OUTCOME_TRY(r, ObjectReader::Of(value, path));
  EnqueueRequest req;
  Enqueued& s = req.spec;
  BOOST_OUTCOME_TRY(type, r.RequiredString("type", 256));
  BOOST_OUTCOME_TRY(queue, r.String("queue", 256));
  BOOST_OUTCOME_TRY(owner, r.String("owner", 256));
  BOOST_OUTCOME_TRY(external_ref, r.String("external_ref", 1024));
  BOOST_OUTCOME_TRY(payload, r.AnyJson("payload"));
  BOOST_OUTCOME_TRY(priority, r.Int("priority", kInt32Min, kInt32Max));
  BOOST_OUTCOME_TRY(max_attempts, r.Int("max_attempts", 1, kMaxAttempts));
  BOOST_OUTCOME_TRY(run_at, r.Time("run_at"));
  BOOST_OUTCOME_TRY(labels, r.StringMap("labels"));
  BOOST_OUTCOME_TRY(unique_key, r.String("unique_key", 256));
  BOOST_OUTCOME_TRY(idempotency_key, r.String("idempotency_key", 256));
  BOOST_OUTCOME_TRY(job_id, r.String("job_id", kMaxJobIdLength));
  // Checked further (scheme, host, addresses) by the webhooks module
  // (ApiContext::check_callback_url) on the routes that enqueue.
  BOOST_OUTCOME_TRY(callback_url, r.String("callback_url", 2048));
  if (job_id && !IsValidJobId(*job_id)) {
    return InvalidField(r.PathOf("job_id"), fmt::format("must be {}", kJobIdRule));
  }
  // Seed 001's routes /v1/jobs/status, /v1/jobs/runs and /v1/jobs/trigger
  // sit where /v1/jobs/{id} would: a job with such an id could never be read.
  if (job_id && (*job_id == "status" || *job_id == "runs" || *job_id == "trigger")) {
    return InvalidField(r.PathOf("job_id"),
                        "is reserved: /v1/jobs/" + *job_id + " is a route of seed 001's API");
  }
  BOOST_OUTCOME_TRY(backoff, r.String("retry_backoff", 16));
  BOOST_OUTCOME_TRY(base_delay, r.Int("retry_base_delay_ms", 0, kMaxDelayMs));
  BOOST_OUTCOME_TRY(max_delay, r.Int("retry_max_delay_ms", 0, kMaxDelayMs));
  BOOST_OUTCOME_TRYV(r.Finish());
  if (backoff && *backoff != "fixed" && *backoff != "exponential") {
    return ApiError(MakeError(Code::kInvalidArgument, "INVALID_INPUT",
                              fmt::format("{}: unknown backoff '{}'",
                                          r.PathOf("retry_backoff"), *backoff)),
                    fmt::format(R"({{"field":{},"allowed":["fixed","exponential"]}})",
                                JsonQuote(r.PathOf("retry_backoff"))));
  }
  if (base_delay && max_delay && *max_delay < *base_delay) {
    return InvalidField(r.PathOf("retry_max_delay_ms"),
                        "must not be below retry_base_delay_ms");
  }
  s.retry_backoff = backoff.value_or("");
  s.retry_base_delay_ms = base_delay;
  s.retry_max_delay_ms = max_delay;
  s.type = std::move(type);
  if (queue) {
    if (queue->empty()) return InvalidField(r.PathOf("queue"), "must not be empty");
    s.queue = std::move(*queue);
  }
  s.owner = owner.value_or("");
  s.external_ref = external_ref.value_or("");
  if (payload) s.payload_json = std::move(*payload);
  if (priority) s.priority = int32_t(*priority);
  if (max_attempts) s.max_attempts = int32_t(*max_attempts);
  s.run_at = run_at;
  s.labels = labels.value_or(Labels{});
  s.unique_key = unique_key.value_or("");
  s.idempotency_key = idempotency_key.value_or("");
  s.callback_url = callback_url.value_or("");
  req.job_id = job_id.value_or("");
  return req;
}

ApiResult<ParsedEvents> ParseEventsBody(const rapidjson::Value& value) {
  ParsedEvents out;
  if (value.IsObject() && value.HasMember("events")) {
    BOOST_OUTCOME_TRY(r, ObjectReader::Of(value, ""));
    BOOST_OUTCOME_TRY(list, ParseEventList(r.Get("events"), "events"));
    BOOST_OUTCOME_TRYV(r.Finish());
    out = std::move(list);
  } else {
    BOOST_OUTCOME_TRYV(ParseEvent(value, "", out));
  }
  NormalizeEventIds(out);
  return out;
}

ApiResult<AppendRequest> ParseJobAppend(const rapidjson::Value& value, const std::string& path) {
  BOOST_OUTCOME_TRY(r, ObjectReader::Of(value, path));
  AppendRequest out;
  BOOST_OUTCOME_TRY(job_id, r.RequiredString("job_id", kMaxJobIdLength));
  if (!IsValidJobId(job_id)) {
    return InvalidField(r.PathOf("job_id"), fmt::format("must be {}", kJobIdRule));
  }
  BOOST_OUTCOME_TRY(expected, r.Int("expected_version", 0, kMaxCount));
  BOOST_OUTCOME_TRY(events, ParseEventList(r.Get("events"), r.PathOf("events")));
  BOOST_OUTCOME_TRYV(r.Finish());
  NormalizeEventIds(events);
  out.job_id = std::move(job_id);
  if (expected) out.expected_version = uint64_t(*expected);
  out.events = std::move(events.events);
  out.event_ids = std::move(events.event_ids);
  return out;
}

ApiResult<Cancelled> ParseCancel(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return Cancelled{};
  rapidjson::Document doc;
  BOOST_OUTCOME_TRYV(ParseJsonBody(body, doc));
  BOOST_OUTCOME_TRY(r, ObjectReader::Of(doc, ""));
  BOOST_OUTCOME_TRY(cancel, ParseCancelFields(r));
  BOOST_OUTCOME_TRYV(r.Finish());
  return cancel;
}

ApiResult<std::vector<ApiResult<BatchOperation>>> ParseBatch(
    const rapidjson::Value& value, size_t max_operations) {
  BOOST_OUTCOME_TRY(r, ObjectReader::Of(value, ""));
  const rapidjson::Value* ops = r.Get("operations");
  BOOST_OUTCOME_TRYV(r.Finish());
  if (ops == nullptr || !ops->IsArray() || ops->Empty()) {
    return InvalidField("operations", "must be a non-empty array of operations");
  }
  if (ops->Size() > max_operations) {
    return ApiError(
        MakeError(Code::kResourceExhausted, "BATCH_TOO_LARGE",
                  fmt::format("a batch holds at most {} operations, got {}", max_operations,
                              ops->Size())),
        fmt::format(R"({{"limit":{},"operations":{}}})", max_operations, ops->Size()));
  }
  std::vector<ApiResult<BatchOperation>> out;
  out.reserve(ops->Size());
  for (rapidjson::SizeType i = 0; i < ops->Size(); ++i) {
    out.push_back(ParseOperation((*ops)[i], Indexed("operations", i)));
  }
  return out;
}

std::string EventTypesJson() {
  JsonWriter w;
  w.StartArray();
  for (int i = 0; i < kEventKindCount; ++i) {
    const auto kind = static_cast<EventKind>(i);
    if (kind != EventKind::kEnqueued && kind != EventKind::kExpired &&
        kind != EventKind::kWebhookAttempted) {
      w.String(EventKindName(kind));
    }
  }
  w.EndArray();
  return w.Take();
}

std::string LogLevelsJson() {
  return R"(["TRACE","INFO","WARN","ERROR","FATAL"])";
}

}  // namespace jobtrail::http
