#include "projections/job_json.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace jobtrail {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void Str(Writer& w, std::string_view s) { w.String(s.data(), rapidjson::SizeType(s.size())); }
void Key(Writer& w, std::string_view k) { w.Key(k.data(), rapidjson::SizeType(k.size())); }

void KeyStr(Writer& w, std::string_view k, std::string_view v) {
  Key(w, k);
  Str(w, v);
}
// Empty strings render as null: "not set" is not the same as "".
void KeyStrOrNull(Writer& w, std::string_view k, std::string_view v) {
  Key(w, k);
  if (v.empty()) {
    w.Null();
  } else {
    Str(w, v);
  }
}
void FormatTimeTo(Millis ms, char* out);
void KeyTime(Writer& w, std::string_view k, std::optional<Millis> t) {
  Key(w, k);
  if (t) {
    char buf[24];
    FormatTimeTo(*t, buf);
    Str(w, std::string_view(buf, sizeof(buf)));
  } else {
    w.Null();
  }
}
void KeyInt(Writer& w, std::string_view k, std::optional<int64_t> v) {
  Key(w, k);
  if (v) {
    w.Int64(*v);
  } else {
    w.Null();
  }
}
// JSON text that was validated when it was written (payload, result,
// details) is embedded as is; empty means absent.
void KeyRaw(Writer& w, std::string_view k, const std::string& json) {
  Key(w, k);
  if (json.empty()) {
    w.Null();
  } else {
    w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  }
}
void Pairs(Writer& w, std::string_view k, const Labels& pairs) {
  Key(w, k);
  w.StartObject();
  for (const auto& [name, value] : pairs) KeyStr(w, name, value);
  w.EndObject();
}
void Items(Writer& w, const ItemCounts& items) {
  Key(w, "items");
  w.StartObject();
  KeyInt(w, "processed", items.processed);
  KeyInt(w, "total", items.total);
  KeyInt(w, "failed", items.failed);
  w.EndObject();
}
void Artifacts(Writer& w, const std::vector<Artifact>& artifacts,
               const InlineBytesEncoder* encode_bytes = nullptr) {
  Key(w, "artifacts");
  w.StartArray();
  for (const Artifact& a : artifacts) {
    w.StartObject();
    KeyStr(w, "kind", a.kind);
    KeyStrOrNull(w, "url", a.url);
    KeyStrOrNull(w, "key", a.key);
    KeyStrOrNull(w, "content_type", a.content_type);
    Key(w, "size");
    w.Uint64(a.bytes.size());
    if (encode_bytes != nullptr && *encode_bytes && !a.bytes.empty()) {
      KeyStr(w, "content_base64", (*encode_bytes)(a.bytes));
    }
    w.EndObject();
  }
  w.EndArray();
}
void ErrorObject(Writer& w, const ErrorEntry& e) {
  w.StartObject();
  KeyTime(w, "timestamp", e.timestamp);
  Key(w, "attempt");
  w.Int(e.attempt);
  KeyStrOrNull(w, "type", e.error_type);
  KeyStr(w, "message", e.message);
  KeyStrOrNull(w, "stack", e.stack);
  KeyStrOrNull(w, "stage", e.stage);
  Artifacts(w, e.artifacts);
  w.EndObject();
}

struct BodyWriter {
  Writer& w;
  const InlineBytesEncoder* encode_bytes = nullptr;
  void operator()(const Enqueued& e) {
    KeyStr(w, "type", e.type);
    KeyStr(w, "queue", e.queue);
    KeyStrOrNull(w, "owner", e.owner);
    KeyStrOrNull(w, "external_ref", e.external_ref);
    KeyRaw(w, "payload", e.payload_json);
    Key(w, "priority");
    w.Int(e.priority);
    Key(w, "max_attempts");
    w.Int(e.max_attempts);
    KeyTime(w, "run_at", e.run_at);
    Pairs(w, "labels", e.labels);
    KeyStrOrNull(w, "idempotency_key", e.idempotency_key);
    KeyStrOrNull(w, "unique_key", e.unique_key);
    KeyStrOrNull(w, "retry_backoff", e.retry_backoff);
    KeyInt(w, "retry_base_delay_ms", e.retry_base_delay_ms);
    KeyInt(w, "retry_max_delay_ms", e.retry_max_delay_ms);
    // Only when set: older enqueued events render exactly as they always did.
    if (!e.callback_url.empty()) KeyStr(w, "callback_url", e.callback_url);
  }
  void operator()(const Started& e) {
    Key(w, "attempt");
    w.Int(e.attempt);
    KeyStrOrNull(w, "worker_id", e.worker_id);
    KeyTime(w, "lease_deadline", e.lease_deadline);
  }
  void operator()(const Progressed& e) {
    Key(w, "percent");
    if (e.percent) {
      w.Double(*e.percent);
    } else {
      w.Null();
    }
    KeyStrOrNull(w, "message", e.message);
    KeyStrOrNull(w, "step", e.step);
    Items(w, e.items);
    KeyTime(w, "lease_deadline", e.lease_deadline);
  }
  void operator()(const Logged& e) {
    KeyStr(w, "level", LogLevelName(e.level));
    KeyStr(w, "message", e.message);
    KeyRaw(w, "details", e.details_json);
    Pairs(w, "subjects", e.subjects);
  }
  void operator()(const Errored& e) {
    Key(w, "attempt");
    w.Int(e.attempt);
    KeyStrOrNull(w, "error_type", e.error_type);
    KeyStr(w, "message", e.message);
    KeyStrOrNull(w, "stack", e.stack);
    KeyStrOrNull(w, "stage", e.stage);
    Artifacts(w, e.artifacts, encode_bytes);
  }
  void operator()(const Retried& e) {
    Key(w, "attempt");
    w.Int(e.attempt);
    KeyTime(w, "next_run_at", e.next_run_at);
    Key(w, "backoff_ms");
    w.Int64(e.backoff_ms);
  }
  void operator()(const Completed& e) {
    KeyRaw(w, "result", e.result_json);
    Items(w, e.items);
  }
  void operator()(const Failed& e) {
    KeyStrOrNull(w, "reason", e.reason);
    KeyStrOrNull(w, "error_type", e.error_type);
    KeyStrOrNull(w, "stack", e.stack);
  }
  void operator()(const Cancelled& e) {
    KeyStrOrNull(w, "reason", e.reason);
    KeyStrOrNull(w, "by", e.by);
  }
  void operator()(const Expired& e) { KeyStrOrNull(w, "reason", e.reason); }
  void operator()(const WebhookAttempted& e) {
    KeyStr(w, "delivery_id", e.delivery_id);
    KeyStrOrNull(w, "webhook_id", e.webhook_id);
    Key(w, "event_version");
    w.Uint64(e.event_version);
    KeyStr(w, "event_type", e.event_type);
    Key(w, "attempt");
    w.Int(e.attempt);
    KeyInt(w, "status_code", e.status_code == 0 ? std::nullopt : std::optional<int64_t>(e.status_code));
    KeyStrOrNull(w, "error", e.error);
    Key(w, "duration_ms");
    w.Int64(e.duration_ms);
    KeyStr(w, "outcome", WebhookOutcomeName(e.outcome));
    KeyTime(w, "next_attempt_at", e.next_attempt_at);
  }
};

}  // namespace

namespace {

constexpr size_t kTimeChars = 24;  // "2024-01-15T10:30:45.123Z"

// FormatTime into `out` without a string or printf: a status document
// holds up to 11 times, and rendering them with snprintf was half the cost
// of rendering the document (rebuild profile).
void FormatTimeTo(Millis ms, char* out) {
  // Clamped first: no arithmetic below can overflow, and the year has four
  // digits as RFC 3339 requires.
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds(std::clamp(ms, kEarliestTime, kLatestTime))};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<milliseconds> hms{t - day};
  auto put = [&out](unsigned v, int digits) {
    for (int i = digits - 1; i >= 0; --i, v /= 10) out[i] = char('0' + v % 10);
    out += digits;
  };
  auto sep = [&out](char c) { *out++ = c; };
  put(unsigned(int(ymd.year())), 4);
  sep('-');
  put(unsigned(ymd.month()), 2);
  sep('-');
  put(unsigned(ymd.day()), 2);
  sep('T');
  put(unsigned(hms.hours().count()), 2);
  sep(':');
  put(unsigned(hms.minutes().count()), 2);
  sep(':');
  put(unsigned(hms.seconds().count()), 2);
  sep('.');
  put(unsigned(hms.subseconds().count()), 3);
  sep('Z');
}

}  // namespace

std::string FormatTime(Millis ms) {
  char buf[kTimeChars];
  FormatTimeTo(ms, buf);
  return std::string(buf, kTimeChars);
}

std::optional<Millis> ParseTime(std::string_view text) {
  if (text.empty()) return std::nullopt;
  // Plain integers are milliseconds since the epoch.
  Millis ms = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (ms < kEarliestTime || ms > kLatestTime) return std::nullopt;
    return ms;
  }

  std::tm tm{};
  int year, month, day, hour = 0, minute = 0, second = 0, consumed = 0;
  const std::string s(text);
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 60) {
    return std::nullopt;
  }
  std::string_view rest = text.substr(size_t(consumed));
  int frac_ms = 0;
  if (!rest.empty() && rest[0] == '.') {
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && rest[0] >= '0' && rest[0] <= '9') {
      if (digits < 3) frac_ms = frac_ms * 10 + (rest[0] - '0');
      ++digits;
      rest.remove_prefix(1);
    }
    if (digits == 0) return std::nullopt;
    for (int d = digits; d < 3; ++d) frac_ms *= 10;
  }
  int offset_minutes = 0;
  if (rest == "Z" || rest == "z") {
    rest = {};
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    const int oh = (rest[1] - '0') * 10 + (rest[2] - '0');
    const int om = (rest[4] - '0') * 10 + (rest[5] - '0');
    offset_minutes = (rest[0] == '-' ? -1 : 1) * (oh * 60 + om);
    rest = {};
  }
  if (!rest.empty()) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t t = timegm(&tm);
  const Millis parsed = Millis(t) * 1000 + frac_ms - Millis(offset_minutes) * 60000;
  // An offset can move a time of year 0000 or 9999 outside what FormatTime writes.
  if (parsed < kEarliestTime || parsed > kLatestTime) return std::nullopt;
  return parsed;
}

std::string RenderJobJson(const JobView& job) {
  // Sized for a typical document, so it is written without regrowing.
  rapidjson::StringBuffer buf(nullptr, 2048);
  Writer w(buf);
  w.StartObject();
  KeyStr(w, "id", job.job_id);
  KeyStr(w, "type", job.spec.type);
  KeyStr(w, "queue", job.spec.queue);
  KeyStrOrNull(w, "owner", job.spec.owner);
  KeyStrOrNull(w, "external_ref", job.spec.external_ref);
  KeyStr(w, "status", StatusName(job.status));
  Key(w, "version");
  w.Uint64(job.version);
  Key(w, "priority");
  w.Int(job.spec.priority);
  KeyRaw(w, "payload", job.spec.payload_json);
  Pairs(w, "labels", job.spec.labels);
  KeyStrOrNull(w, "unique_key", job.spec.unique_key);
  Key(w, "attempts");
  w.Int(job.attempts);
  Key(w, "max_attempts");
  w.Int(job.spec.max_attempts);
  Key(w, "retries_left");
  w.Int(job.RetriesLeft());
  KeyStrOrNull(w, "worker_id", job.worker_id);
  KeyTime(w, "lease_deadline", job.lease_deadline);
  Key(w, "progress");
  if (job.progress) {
    w.Double(*job.progress);
  } else {
    w.Null();
  }
  KeyStrOrNull(w, "message", job.message);
  KeyStrOrNull(w, "current_step", job.step);
  Items(w, job.items);
  Key(w, "error_count");
  w.Uint64(job.errors.size());
  Key(w, "errors");
  w.StartArray();
  for (const ErrorEntry& e : job.errors) ErrorObject(w, e);
  w.EndArray();
  Key(w, "last_error");
  if (const ErrorEntry* last = job.LastError()) {
    ErrorObject(w, *last);
  } else {
    w.Null();
  }
  Key(w, "final_error");
  if (job.final_error) {
    w.StartObject();
    KeyTime(w, "timestamp", job.final_error->timestamp);
    KeyStr(w, "reason", job.final_error->reason);
    KeyStrOrNull(w, "type", job.final_error->error_type);
    KeyStrOrNull(w, "stack", job.final_error->stack);
    w.EndObject();
  } else {
    w.Null();
  }
  KeyRaw(w, "result", job.result_json);
  Key(w, "cancellation");
  if (job.status == JobStatus::kCancelled) {
    w.StartObject();
    KeyStrOrNull(w, "reason", job.cancel_reason);
    KeyStrOrNull(w, "by", job.cancelled_by);
    w.EndObject();
  } else {
    w.Null();
  }
  Key(w, "log_count");
  w.Uint64(job.log_count);
  KeyTime(w, "created_at", job.created_at);
  KeyTime(w, "updated_at", job.updated_at);
  KeyTime(w, "run_at", job.spec.run_at);
  KeyTime(w, "started_at", job.started_at);
  KeyTime(w, "last_attempt_at", job.last_attempt_at);
  KeyTime(w, "next_retry_at", job.next_retry_at);
  KeyTime(w, "completed_at", job.completed_at);
  KeyTime(w, "failed_at", job.failed_at);
  KeyTime(w, "cancelled_at", job.cancelled_at);
  KeyTime(w, "finished_at", job.finished_at);
  KeyTime(w, "estimated_completion_at", job.estimated_completion_at);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string RenderEventJson(const RecordedEvent& e, const InlineBytesEncoder& encode_bytes) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  KeyStr(w, "event_id", e.event_id);
  KeyStr(w, "job_id", e.job_id);
  Key(w, "version");
  w.Uint64(e.version);
  Key(w, "position");
  w.Uint64(e.position);
  KeyStr(w, "timestamp", FormatTime(e.timestamp));
  KeyStr(w, "actor", e.actor);
  KeyStr(w, "type", EventKindName(KindOf(e.body)));
  Key(w, "data");
  w.StartObject();
  std::visit(BodyWriter{w, &encode_bytes}, e.body);
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string RenderWebhookAttemptJson(const RecordedEvent& e, const WebhookAttempted& attempt) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  KeyStr(w, "job_id", e.job_id);
  Key(w, "version");
  w.Uint64(e.version);
  Key(w, "position");
  w.Uint64(e.position);
  KeyStr(w, "attempted_at", FormatTime(e.timestamp));
  BodyWriter{w}(attempt);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string RenderLogLineJson(const LogLine& line) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Key(w, "id");
  w.Uint64(line.seq);
  Key(w, "version");
  w.Uint64(line.version);
  KeyStr(w, "timestamp", FormatTime(line.timestamp));
  KeyStr(w, "level", LogLevelName(line.level));
  KeyStr(w, "message", line.message);
  KeyRaw(w, "details", line.details_json);
  Pairs(w, "subjects", line.subjects);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace jobtrail
