#include "http/v1/render.h"

#include "domain/job_status.h"
#include "http/server/json_writer.h"
#include "projections/job_json.h"

namespace jobtrail::http {
namespace {

void Durations(JsonWriter& w, std::string_view key, const DurationSummary& d) {
  w.Key(key).StartObject()
      .Field("count", d.count)
      .Field("mean_ms", d.mean_ms)
      .Field("p50_ms", d.p50_ms)
      .Field("p95_ms", d.p95_ms)
      .Field("p99_ms", d.p99_ms)
      .EndObject();
}

void ByStatus(JsonWriter& w, std::string_view key,
              const std::array<uint64_t, kStatusSlots>& counts) {
  w.Key(key).StartObject();
  for (JobStatus s : kAllStatuses) w.Field(StatusName(s), counts[size_t(s)]);
  w.EndObject();
}

void Throughput(JsonWriter& w, std::string_view key, const std::map<Millis, uint64_t>& m) {
  w.Key(key).StartArray();
  for (const auto& [start, n] : m) {
    w.StartObject().Field("start", FormatTime(start)).Field("finished", n).EndObject();
  }
  w.EndArray();
}

void Strings(JsonWriter& w, std::string_view key, const std::vector<std::string>& v) {
  w.Key(key).StartArray();
  for (const std::string& s : v) w.String(s);
  w.EndArray();
}

}  // namespace

std::string RenderListPage(const ListPage& page, const ListQuery& query) {
  JsonWriter w;
  w.StartObject().Key("items").StartArray();
  for (const std::string& item : page.items_json) w.Raw(item);
  w.EndArray()
      .Field("total", page.total)
      .Field("has_more", page.has_more)
      .StringOrNull("next_cursor", page.next_cursor)
      .Field("limit", uint64_t{query.limit})
      .Field("skip", uint64_t{query.cursor.empty() ? query.skip : 0})
      .EndObject();
  return w.Take();
}

std::string RenderStats(const StatsSnapshot& stats) {
  JsonWriter w;
  w.StartObject().Field("total", stats.total);
  ByStatus(w, "by_status", stats.by_status);
  w.Key("average_attempts").StartObject();
  for (JobStatus s : kAllStatuses) w.Field(StatusName(s), stats.AverageAttempts(s));
  w.EndObject();
  w.Field("success_rate", stats.SuccessRate());
  Durations(w, "processing_time", stats.processing);
  w.Key("by_type").StartObject();
  for (const auto& [type, t] : stats.by_type) {
    w.Key(type).StartObject().Field("total", t.total);
    ByStatus(w, "by_status", t.by_status);
    Durations(w, "processing_time", t.processing);
    w.EndObject();
  }
  w.EndObject();
  Throughput(w, "finished_per_hour", stats.finished_per_hour);
  Throughput(w, "finished_per_day", stats.finished_per_day);
  w.Field("events_total", stats.events_total).Field("errors_total", stats.errors_total);
  w.EndObject();
  return w.Take();
}

std::string RenderHealth(const HealthReport& h) {
  JsonWriter w;
  w.StartObject()
      .Field("status", HealthLevelName(h.level))
      .Field("checked_at", FormatTime(h.now))
      .Field("queue_depth", h.queue_depth)
      .Field("oldest_pending_age_ms", h.oldest_pending_age)
      .Field("running", h.running)
      .Field("stuck", h.stuck);
  Strings(w, "stuck_job_ids", h.stuck_job_ids);
  w.Field("error_rate", h.error_rate)
      .Field("errors_last_hour", h.errors_last_hour)
      .Field("finished_last_hour", h.finished_last_hour);
  Strings(w, "alerts", h.alerts);
  Strings(w, "recommendations", h.recommendations);
  w.EndObject();
  return w.Take();
}

std::string RenderHistory(std::string_view job_id, const EventPage& page,
                          const std::optional<std::string>& next) {
  JsonWriter w;
  w.StartObject().Field("job_id", job_id).Field("version", page.version).Key("events").StartArray();
  for (const RecordedEvent& e : page.events) w.Raw(RenderEventJson(e));
  w.EndArray().Field("has_more", page.has_more).Key("next");
  if (next) {
    w.String(*next);
  } else {
    w.Null();
  }
  w.EndObject();
  return w.Take();
}

std::string RenderFeed(const std::vector<RecordedEvent>& events, uint64_t after,
                       bool has_more) {
  JsonWriter w;
  w.StartObject().Key("events").StartArray();
  for (const RecordedEvent& e : events) w.Raw(RenderEventJson(e));
  w.EndArray()
      .Field("next_after", events.empty() ? after : events.back().position)
      .Field("has_more", has_more)
      .EndObject();
  return w.Take();
}

std::string RenderLogs(std::string_view job_id, const JobLogs& logs, LogLevel min_level) {
  JsonWriter w;
  w.StartObject()
      .Field("job_id", job_id)
      .Field("version", logs.version)
      .Field("min_level", LogLevelName(min_level))
      .Key("logs")
      .StartArray();
  for (const std::string& line : logs.lines_json) w.Raw(line);
  w.EndArray().EndObject();
  return w.Take();
}

}  // namespace jobtrail::http
