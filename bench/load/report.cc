#include "bench/load/report.h"

#include <rapidjson/filewritestream.h>
#include <rapidjson/prettywriter.h>

#include <algorithm>
#include <cmath>

namespace jobtrail::load {
namespace {

constexpr size_t kMaxSamples = 5;

// Nearest-rank percentile of sorted values.
double Percentile(const std::vector<float>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t rank = size_t(std::ceil(p / 100.0 * double(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

double PerSecond(int64_t n, double seconds) { return seconds > 0 ? double(n) / seconds : 0; }

}  // namespace

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kEnqueue: return "enqueue";
    case Kind::kClaim: return "claim";
    case Kind::kClaimAppend: return "claim+append";
    case Kind::kHeartbeat: return "heartbeat";
    case Kind::kProgress: return "progress";
    case Kind::kComplete: return "complete";
    case Kind::kError: return "error";
    case Kind::kBatch: return "batch";
    case Kind::kPoll: return "poll";
    case Kind::kCount: break;
  }
  return "?";
}

void Recorder::Add(Kind kind, double ms, bool ok) {
  latencies[size_t(kind)].push_back(float(ms));
  if (!ok) ++errors[size_t(kind)];
}

void Recorder::Note(const std::string& what) {
  if (samples.size() < kMaxSamples) samples.push_back(what.substr(0, 300));
}

void Recorder::Merge(const Recorder& other) {
  for (size_t k = 0; k < size_t(Kind::kCount); ++k) {
    latencies[k].insert(latencies[k].end(), other.latencies[k].begin(), other.latencies[k].end());
    errors[k] += other.errors[k];
  }
  for (const auto& s : other.samples) Note(s);
}

std::vector<KindSummary> Summarize(Recorder& merged) {
  std::vector<KindSummary> out;
  for (size_t k = 0; k < size_t(Kind::kCount); ++k) {
    auto& v = merged.latencies[k];
    if (v.empty() && merged.errors[k] == 0) continue;
    std::sort(v.begin(), v.end());
    KindSummary s;
    s.name = KindName(Kind(k));
    s.count = int64_t(v.size());
    s.errors = merged.errors[k];
    s.p50_ms = Percentile(v, 50);
    s.p95_ms = Percentile(v, 95);
    s.p99_ms = Percentile(v, 99);
    s.max_ms = v.empty() ? 0 : v.back();
    out.push_back(s);
  }
  return out;
}

bool ServerAgrees(const Report& r) {
  return r.server_completed < 0 || r.server_completed >= r.completed;
}

bool Clean(const Report& r) {
  return r.completed == r.jobs && r.errors == 0 && !r.timed_out && ServerAgrees(r);
}

void PrintTable(const Report& r, std::FILE* out) {
  std::fprintf(out, "jobtrail_load: mode %s (claims of %d), %lld jobs, %d workers, %d pollers, progress x%d, error every %d\n",
               r.mode.c_str(), r.claim_batch, static_cast<long long>(r.jobs), r.workers, r.pollers, r.progress,
               r.error_every);
  std::fprintf(out, "enqueue:   %lld jobs in %.2f s = %.0f jobs/s\n", static_cast<long long>(r.enqueued),
               r.enqueue_seconds, PerSecond(r.enqueued, r.enqueue_seconds));
  std::fprintf(out, "lifecycle: %lld/%lld jobs completed in %.2f s%s\n", static_cast<long long>(r.completed),
               static_cast<long long>(r.jobs), r.seconds, r.timed_out ? " (TIMED OUT)" : "");
  std::fprintf(out, "  %10.0f jobs/s\n  %10.0f events/s (%lld events)\n  %10.0f requests/s (%lld)\n",
               PerSecond(r.completed, r.seconds), PerSecond(r.events, r.seconds),
               static_cast<long long>(r.events), PerSecond(r.requests, r.seconds),
               static_cast<long long>(r.requests));
  std::fprintf(out, "  %10.0f polls/s (%lld)\n  %10lld errored jobs (retried)\n  %10lld errors\n",
               PerSecond(r.polls, r.seconds), static_cast<long long>(r.polls),
               static_cast<long long>(r.errored), static_cast<long long>(r.errors));
  if (r.server_completed >= 0) {
    std::fprintf(out, "  %10lld completed by the server's count%s\n", static_cast<long long>(r.server_completed),
                 ServerAgrees(r) ? "" : " (FEWER than it acknowledged: its read models lag or lost writes)");
  }
  if (r.per_second.size() >= 2) {
    // Tenths of the run (whole seconds only), so a decaying rate is visible.
    const size_t n = r.per_second.size(), parts = std::min<size_t>(10, n);
    std::fprintf(out, "  jobs/s by tenth of the run:");
    for (size_t p = 0; p < parts; ++p) {
      const size_t from = p * n / parts, to = (p + 1) * n / parts;
      int64_t sum = 0;
      for (size_t i = from; i < to; ++i) sum += r.per_second[i];
      std::fprintf(out, " %.0f", double(sum) / double(to - from));
    }
    std::fputc('\n', out);
  }
  std::fprintf(out, "%-13s %9s %7s %9s %9s %9s %9s\n", "request", "count", "errors", "p50 ms", "p95 ms",
               "p99 ms", "max ms");
  for (const auto& k : r.kinds) {
    std::fprintf(out, "%-13s %9lld %7lld %9.2f %9.2f %9.2f %9.2f\n", k.name.c_str(),
                 static_cast<long long>(k.count), static_cast<long long>(k.errors), k.p50_ms, k.p95_ms,
                 k.p99_ms, k.max_ms);
  }
}

bool WriteJson(const Report& r, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  char buffer[4096];
  rapidjson::FileWriteStream stream(f, buffer, sizeof buffer);
  rapidjson::PrettyWriter<rapidjson::FileWriteStream> w(stream);
  w.StartObject();
  w.Key("mode"); w.String(r.mode.c_str());
  w.Key("url"); w.String(r.url.c_str());
  w.Key("queue"); w.String(r.queue.c_str());
  w.Key("jobs"); w.Int64(r.jobs);
  w.Key("workers"); w.Int(r.workers);
  w.Key("pollers"); w.Int(r.pollers);
  w.Key("progress"); w.Int(r.progress);
  w.Key("claim_batch"); w.Int(r.claim_batch);
  w.Key("error_every"); w.Int(r.error_every);
  w.Key("enqueue");
  w.StartObject();
  w.Key("jobs"); w.Int64(r.enqueued);
  w.Key("seconds"); w.Double(r.enqueue_seconds);
  w.Key("jobs_per_s"); w.Double(PerSecond(r.enqueued, r.enqueue_seconds));
  w.EndObject();
  w.Key("lifecycle");
  w.StartObject();
  w.Key("seconds"); w.Double(r.seconds);
  w.Key("completed"); w.Int64(r.completed);
  w.Key("all_completed"); w.Bool(r.completed == r.jobs && !r.timed_out);
  w.Key("server_agrees"); w.Bool(ServerAgrees(r));
  w.Key("server_completed"); w.Int64(r.server_completed);
  w.Key("errored_jobs"); w.Int64(r.errored);
  w.Key("events"); w.Int64(r.events);
  w.Key("requests"); w.Int64(r.requests);
  w.Key("polls"); w.Int64(r.polls);
  w.Key("errors"); w.Int64(r.errors);
  w.Key("timed_out"); w.Bool(r.timed_out);
  w.Key("jobs_per_s"); w.Double(PerSecond(r.completed, r.seconds));
  w.Key("events_per_s"); w.Double(PerSecond(r.events, r.seconds));
  w.Key("requests_per_s"); w.Double(PerSecond(r.requests, r.seconds));
  w.Key("polls_per_s"); w.Double(PerSecond(r.polls, r.seconds));
  w.Key("completed_per_second");
  w.StartArray();
  for (const int64_t n : r.per_second) w.Int64(n);
  w.EndArray();
  w.EndObject();
  w.Key("requests");
  w.StartObject();
  for (const auto& k : r.kinds) {
    w.Key(k.name.c_str());
    w.StartObject();
    w.Key("count"); w.Int64(k.count);
    w.Key("errors"); w.Int64(k.errors);
    w.Key("p50_ms"); w.Double(k.p50_ms);
    w.Key("p95_ms"); w.Double(k.p95_ms);
    w.Key("p99_ms"); w.Double(k.p99_ms);
    w.Key("max_ms"); w.Double(k.max_ms);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  stream.Put('\n');
  stream.Flush();
  return std::fclose(f) == 0;
}

}  // namespace jobtrail::load
