// Latency recording per request kind, and the final report (a table on
// stdout, JSON for scripts).
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace jobtrail::load {

enum class Kind {
  kEnqueue,      // POST /v1/batch of enqueue operations (before timing)
  kClaim,        // POST /v1/queues/{q}/claim without append
  kClaimAppend,  // the same carrying the previous jobs' events (protocol modes)
  kHeartbeat,    // POST /v1/jobs/{id}/heartbeat
  kProgress,     // POST /v1/jobs/{id}/events progressed
  kComplete,     // POST /v1/jobs/{id}/events completed
  kError,        // POST /v1/jobs/{id}/events errored (with a screenshot)
  kBatch,        // POST /v1/batch of append operations
  kPoll,         // GET /v1/jobs/{id}
  kCount
};
const char* KindName(Kind kind);

// One per thread (no locking on the hot path); merged after the threads end.
class Recorder {
 public:
  void Add(Kind kind, double ms, bool ok);
  // Keeps the first few error descriptions for the operator.
  void Note(const std::string& what);
  void Merge(const Recorder& other);

  std::array<std::vector<float>, size_t(Kind::kCount)> latencies;
  std::array<int64_t, size_t(Kind::kCount)> errors{};
  std::vector<std::string> samples;
};

struct KindSummary {
  std::string name;
  int64_t count = 0;
  int64_t errors = 0;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0;
};
std::vector<KindSummary> Summarize(Recorder& merged);  // sorts the latencies

struct Report {
  std::string mode, url, queue;
  int64_t jobs = 0;
  int workers = 0, pollers = 0, progress = 0, error_every = 0;
  int claim_batch = 0;  // jobs a claim asks for (batch and protocol-batch modes)
  // Enqueue phase (untimed for the lifecycle figures, reported on its own).
  int64_t enqueued = 0;
  double enqueue_seconds = 0;
  // Lifecycle phase.
  double seconds = 0;
  int64_t completed = 0;        // jobs the server answered as completed
  int64_t errored = 0;          // errored events (each followed by a retry)
  int64_t events = 0;           // events appended, the store's retried ones included
  int64_t requests = 0;         // worker requests (polls not included)
  int64_t polls = 0;
  int64_t errors = 0;           // failed requests or operations, all kinds
  int64_t server_completed = -1;  // the server's own count afterwards (-1: unknown)
  bool timed_out = false;
  // Jobs completed in each whole second of the lifecycle: shows whether the
  // rate holds as the store fills up, or decays.
  std::vector<int64_t> per_second;
  std::vector<KindSummary> kinds;
};

// Whether the server's own count, read after the run, holds every job it
// acknowledged as completed (or could not be read): a store that answers
// writes before its read models have them would otherwise look faster than
// it is (the count lags, and the jobs/s are not sustained).
bool ServerAgrees(const Report& report);
// The run finished every job, without errors, and the server agrees.
bool Clean(const Report& report);

void PrintTable(const Report& report, std::FILE* out);
bool WriteJson(const Report& report, const std::string& path);

}  // namespace jobtrail::load
