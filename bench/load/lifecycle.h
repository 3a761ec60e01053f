// The simulated workers, pollers and the pre-enqueue of jobtrail_load.
#pragma once

#include "bench/load/report.h"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace jobtrail::load {

enum class Mode {
  kPerTransition,  // claim 1; one POST /events per progress and for the end
  kBatch,          // claim 10; one POST /v1/batch with each job's events
  kProtocol,       // claim 1 carrying the previous job's end; progress by heartbeat
  kProtocolBatch,  // claim 10 carrying the previous 10 jobs' progress and end
};

struct Options {
  std::string url = "http://127.0.0.1:8080";
  std::string token;
  std::string queue = "bench";
  std::string mode_name = "per-transition";
  Mode mode = Mode::kPerTransition;
  int64_t jobs = 1000;
  int workers = 50;
  int pollers = 0;
  int progress = 1;
  int error_every = 0;
  int lease_ms = 30000;
  int retry_delay_ms = 0;
  int idle_ms = 20;
  int enqueue_batch = 500;
  int claim_batch = 10;  // jobs a claim asks for in batch and protocol-batch modes
  int enqueue_threads = 4;
  double timeout_s = 600;
  std::string json;
};

// Counters every thread updates; what the progress line and report read.
struct Shared {
  explicit Shared(const Options& o) : opt(o) {}
  const Options& opt;
  std::string queue_escaped;        // percent-encoded, for paths and queries
  std::string queue_path;           // "/v1/queues/<queue_escaped>"
  std::vector<std::string> ids;     // enqueued job ids (pollers pick from them)
  std::atomic<int64_t> completed{0};
  std::atomic<int64_t> errored{0};
  std::atomic<int64_t> events{0};
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> polls{0};
  std::atomic<int64_t> errors{0};
  std::atomic<int64_t> first_claims{0};     // first attempts handed out
  std::atomic<int64_t> retries_pending{0};  // errored jobs not claimed again yet
  std::atomic<bool> stop{false};            // time is up, or a fatal answer
  std::atomic<bool> stop_pollers{false};
  std::mutex fatal_mu;
  std::string fatal;                        // why the run was abandoned

  bool Done() const { return stop.load() || completed.load() >= opt.jobs; }
  void Fatal(const std::string& why);
};

// Enqueues opt.jobs jobs with POST /v1/batch into shared.ids; false on failure.
bool Enqueue(Shared& shared, Recorder& recorder);
// One simulated worker in opt.mode, until every job is completed or stop.
void RunWorker(Shared& shared, int index, Recorder& recorder);
// GET /v1/jobs/{id} of random enqueued jobs until stop_pollers.
void RunPoller(Shared& shared, int index, Recorder& recorder);
// The server's count of completed jobs in the queue (-1 if it cannot say).
int64_t ServerCompleted(const Shared& shared);

}  // namespace jobtrail::load
