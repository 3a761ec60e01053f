#include "projections/stats_state.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>

namespace jobtrail {
namespace {

constexpr double kBucketGrowth = 1.1;
constexpr Millis kKeepHours = 48;
constexpr Millis kKeepDays = 30;

int BucketOf(Millis ms) {
  if (ms <= 1) return 0;
  return 1 + int(std::floor(std::log(double(ms)) / std::log(kBucketGrowth)));
}
double BucketMid(int bucket) {
  if (bucket == 0) return 1.0;
  const double lo = std::pow(kBucketGrowth, bucket - 1);
  return lo * std::sqrt(kBucketGrowth);
}

size_t Slot(JobStatus s) { return size_t(s); }

void Dec(uint64_t& v, uint64_t by = 1) { v = v >= by ? v - by : 0; }

}  // namespace

void DurationHistogram::Add(Millis ms) {
  if (ms < 0) ms = 0;
  ++buckets_[BucketOf(ms)];
  sum_ms_ += double(ms);
  ++count_;
}

DurationSummary DurationHistogram::Summarize() const {
  DurationSummary s;
  s.count = count_;
  if (count_ == 0) return s;
  s.mean_ms = sum_ms_ / double(count_);
  auto percentile = [&](double p) {
    const double rank = p * double(count_);
    uint64_t seen = 0;
    for (const auto& [bucket, n] : buckets_) {
      seen += n;
      if (double(seen) >= rank) return BucketMid(bucket);
    }
    return BucketMid(buckets_.rbegin()->first);
  };
  s.p50_ms = percentile(0.50);
  s.p95_ms = percentile(0.95);
  s.p99_ms = percentile(0.99);
  return s;
}

void DurationHistogram::Restore(std::map<int, uint64_t> buckets, double sum_ms, uint64_t count) {
  buckets_ = std::move(buckets);
  sum_ms_ = sum_ms;
  count_ = count;
}

void DurationHistogram::Merge(const DurationHistogram& other) {
  for (const auto& [bucket, n] : other.buckets_) buckets_[bucket] += n;
  sum_ms_ += other.sum_ms_;
  count_ += other.count_;
}

void StatsState::MergeFrom(const StatsState& other) {
  auto add = [](auto& into, const auto& from) {
    for (size_t i = 0; i < into.size(); ++i) into[i] += from[i];
  };
  auto add_map = [](std::map<Millis, uint64_t>& into, const std::map<Millis, uint64_t>& from) {
    for (const auto& [t, n] : from) into[t] += n;
  };
  total_ += other.total_;
  add(by_status_, other.by_status_);
  add(attempts_by_status_, other.attempts_by_status_);
  for (const auto& [name, t] : other.by_type_) {
    TypeTotals& into = by_type_[name];
    into.total += t.total;
    add(into.by_status, t.by_status);
    into.processing.Merge(t.processing);
  }
  changed_types_.insert(other.changed_types_.begin(), other.changed_types_.end());
  processing_.Merge(other.processing_);
  add_map(finished_per_hour_, other.finished_per_hour_);
  add_map(finished_per_day_, other.finished_per_day_);
  add_map(started_per_hour_, other.started_per_hour_);
  add_map(errored_per_hour_, other.errored_per_hour_);
  events_total_ += other.events_total_;
  errors_total_ += other.errors_total_;
  latest_event_ = std::max(latest_event_, other.latest_event_);
  Prune();
}

void StatsState::Apply(JobStatus before_status, int32_t before_attempts, const JobView& after,
                       const RecordedEvent& event) {
  ++events_total_;
  latest_event_ = std::max(latest_event_, event.timestamp);
  TypeTotals& type = by_type_[after.spec.type];
  changed_types_.insert(after.spec.type);
  if (after.expired_at) {
    // The job leaves the read models: the counts forget it; the throughput
    // and duration history it contributed to stays true.
    Dec(total_);
    Dec(type.total);
    Dec(by_status_[Slot(before_status)]);
    Dec(attempts_by_status_[Slot(before_status)], uint64_t(before_attempts));
    Dec(type.by_status[Slot(before_status)]);
    Prune();
    return;
  }
  if (before_status == JobStatus::kNone) {
    ++total_;
    ++type.total;
  } else {
    Dec(by_status_[Slot(before_status)]);
    Dec(attempts_by_status_[Slot(before_status)], uint64_t(before_attempts));
    Dec(type.by_status[Slot(before_status)]);
  }
  ++by_status_[Slot(after.status)];
  attempts_by_status_[Slot(after.status)] += uint64_t(after.attempts);
  ++type.by_status[Slot(after.status)];

  switch (KindOf(event.body)) {
    case EventKind::kStarted:
      ++started_per_hour_[HourStart(event.timestamp)];
      break;
    case EventKind::kErrored:
      ++errors_total_;
      ++errored_per_hour_[HourStart(event.timestamp)];
      break;
    case EventKind::kCompleted:
    case EventKind::kFailed:
      ++finished_per_hour_[HourStart(event.timestamp)];
      ++finished_per_day_[DayStart(event.timestamp)];
      if (auto t = after.ProcessingTime()) {
        processing_.Add(*t);
        type.processing.Add(*t);
      }
      break;
    default:
      break;
  }
  Prune();
}

void StatsState::Prune() {
  auto prune = [](std::map<Millis, uint64_t>& m, Millis keep_from) {
    m.erase(m.begin(), m.lower_bound(keep_from));
  };
  const Millis hour_floor = HourStart(latest_event_) - (kKeepHours - 1) * kHourMs;
  prune(finished_per_hour_, hour_floor);
  prune(started_per_hour_, hour_floor);
  prune(errored_per_hour_, hour_floor);
  prune(finished_per_day_, DayStart(latest_event_) - (kKeepDays - 1) * kDayMs);
}

uint64_t StatsState::StartedInHour(Millis h) const {
  auto it = started_per_hour_.find(h);
  return it == started_per_hour_.end() ? 0 : it->second;
}
uint64_t StatsState::ErroredInHour(Millis h) const {
  auto it = errored_per_hour_.find(h);
  return it == errored_per_hour_.end() ? 0 : it->second;
}
uint64_t StatsState::FinishedInHour(Millis h) const {
  auto it = finished_per_hour_.find(h);
  return it == finished_per_hour_.end() ? 0 : it->second;
}

StatsSnapshot StatsState::Snapshot() const {
  StatsSnapshot s;
  s.total = total_;
  s.by_status = by_status_;
  s.attempts_by_status = attempts_by_status_;
  for (const auto& [name, t] : by_type_) {
    TypeStats ts;
    ts.total = t.total;
    ts.by_status = t.by_status;
    ts.processing = t.processing.Summarize();
    s.by_type.emplace(name, ts);
  }
  s.processing = processing_.Summarize();
  s.finished_per_hour = finished_per_hour_;
  s.finished_per_day = finished_per_day_;
  s.events_total = events_total_;
  s.errors_total = errors_total_;
  return s;
}

namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteArray(JsonWriter& w, const char* key, const std::array<uint64_t, kStatusSlots>& a) {
  w.Key(key);
  w.StartArray();
  for (uint64_t v : a) w.Uint64(v);
  w.EndArray();
}
void WriteTimeMap(JsonWriter& w, const char* key, const std::map<Millis, uint64_t>& m) {
  w.Key(key);
  w.StartArray();
  for (const auto& [t, n] : m) {
    w.StartArray();
    w.Int64(t);
    w.Uint64(n);
    w.EndArray();
  }
  w.EndArray();
}
void WriteHistogram(JsonWriter& w, const char* key, const DurationHistogram& h) {
  w.Key(key);
  w.StartObject();
  w.Key("sum");
  w.Double(h.sum_ms());
  w.Key("count");
  w.Uint64(h.count());
  w.Key("buckets");
  w.StartArray();
  for (const auto& [b, n] : h.buckets()) {
    w.StartArray();
    w.Int(b);
    w.Uint64(n);
    w.EndArray();
  }
  w.EndArray();
  w.EndObject();
}

bool ReadArray(const rapidjson::Value& v, std::array<uint64_t, kStatusSlots>& out) {
  if (!v.IsArray() || v.Size() != kStatusSlots) return false;
  for (rapidjson::SizeType i = 0; i < v.Size(); ++i) {
    if (!v[i].IsUint64()) return false;
    out[i] = v[i].GetUint64();
  }
  return true;
}
bool ReadTimeMap(const rapidjson::Value& v, std::map<Millis, uint64_t>& out) {
  if (!v.IsArray()) return false;
  for (const auto& pair : v.GetArray()) {
    if (!pair.IsArray() || pair.Size() != 2 || !pair[0].IsInt64() || !pair[1].IsUint64()) {
      return false;
    }
    out[pair[0].GetInt64()] = pair[1].GetUint64();
  }
  return true;
}
bool ReadHistogram(const rapidjson::Value& v, DurationHistogram& out) {
  if (!v.IsObject() || !v.HasMember("sum") || !v.HasMember("count") || !v.HasMember("buckets")) {
    return false;
  }
  std::map<int, uint64_t> buckets;
  const auto& list = v["buckets"];
  if (!list.IsArray() || !v["sum"].IsNumber() || !v["count"].IsUint64()) return false;
  for (const auto& pair : list.GetArray()) {
    if (!pair.IsArray() || pair.Size() != 2 || !pair[0].IsInt() || !pair[1].IsUint64()) {
      return false;
    }
    buckets[pair[0].GetInt()] = pair[1].GetUint64();
  }
  out.Restore(std::move(buckets), v["sum"].GetDouble(), v["count"].GetUint64());
  return true;
}

}  // namespace

std::string StatsState::Serialize() const {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("total");
  w.Uint64(total_);
  WriteArray(w, "by_status", by_status_);
  WriteArray(w, "attempts_by_status", attempts_by_status_);
  WriteHistogram(w, "processing", processing_);
  WriteTimeMap(w, "finished_per_hour", finished_per_hour_);
  WriteTimeMap(w, "finished_per_day", finished_per_day_);
  WriteTimeMap(w, "started_per_hour", started_per_hour_);
  WriteTimeMap(w, "errored_per_hour", errored_per_hour_);
  w.Key("events_total");
  w.Uint64(events_total_);
  w.Key("errors_total");
  w.Uint64(errors_total_);
  w.Key("latest_event");
  w.Int64(latest_event_);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<StatsState> StatsState::Parse(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  auto bad = [] { return DataLoss("stored stats do not parse"); };
  if (d.HasParseError() || !d.IsObject()) return bad();
  StatsState s;
  for (const char* key : {"total", "events_total", "errors_total"}) {
    if (!d.HasMember(key) || !d[key].IsUint64()) return bad();
  }
  if (!d.HasMember("latest_event") || !d["latest_event"].IsInt64()) return bad();
  s.total_ = d["total"].GetUint64();
  s.events_total_ = d["events_total"].GetUint64();
  s.errors_total_ = d["errors_total"].GetUint64();
  s.latest_event_ = d["latest_event"].GetInt64();
  for (const char* key : {"by_status", "attempts_by_status", "processing",
                          "finished_per_hour", "finished_per_day", "started_per_hour",
                          "errored_per_hour"}) {
    if (!d.HasMember(key)) return bad();
  }
  if (!ReadArray(d["by_status"], s.by_status_) ||
      !ReadArray(d["attempts_by_status"], s.attempts_by_status_) ||
      !ReadHistogram(d["processing"], s.processing_) ||
      !ReadTimeMap(d["finished_per_hour"], s.finished_per_hour_) ||
      !ReadTimeMap(d["finished_per_day"], s.finished_per_day_) ||
      !ReadTimeMap(d["started_per_hour"], s.started_per_hour_) ||
      !ReadTimeMap(d["errored_per_hour"], s.errored_per_hour_)) {
    return bad();
  }
  return s;
}

std::string StatsState::SerializeType(const std::string& type) const {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  auto it = by_type_.find(type);
  const TypeTotals empty;
  const TypeTotals& t = it == by_type_.end() ? empty : it->second;
  w.StartObject();
  w.Key("total");
  w.Uint64(t.total);
  WriteArray(w, "by_status", t.by_status);
  WriteHistogram(w, "processing", t.processing);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<void> StatsState::RestoreType(std::string type, std::string_view json) {
  rapidjson::Document v;
  v.Parse(json.data(), json.size());
  TypeTotals t;
  if (v.HasParseError() || !v.IsObject() || !v.HasMember("total") || !v["total"].IsUint64() ||
      !v.HasMember("by_status") || !ReadArray(v["by_status"], t.by_status) ||
      !v.HasMember("processing") || !ReadHistogram(v["processing"], t.processing)) {
    return DataLoss("stored stats of a job type do not parse");
  }
  t.total = v["total"].GetUint64();
  by_type_[std::move(type)] = std::move(t);
  return Ok();
}

std::vector<std::string> StatsState::TakeChangedTypes() {
  std::vector<std::string> out(changed_types_.begin(), changed_types_.end());
  changed_types_.clear();
  return out;
}

double StatsSnapshot::SuccessRate() const {
  const uint64_t done = by_status[size_t(JobStatus::kCompleted)];
  const uint64_t failed = by_status[size_t(JobStatus::kFailed)];
  return done + failed == 0 ? 0.0 : double(done) / double(done + failed);
}

double StatsSnapshot::AverageAttempts(JobStatus s) const {
  const uint64_t n = by_status[size_t(s)];
  return n == 0 ? 0.0 : double(attempts_by_status[size_t(s)]) / double(n);
}

std::string_view HealthLevelName(HealthLevel level) {
  switch (level) {
    case HealthLevel::kHealthy: return "healthy";
    case HealthLevel::kWarning: return "warning";
    case HealthLevel::kCritical: return "critical";
  }
  return "unknown";
}

}  // namespace jobtrail
