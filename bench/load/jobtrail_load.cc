// jobtrail_load: drives a running jobtrail server over HTTP the way a fleet
// of workers and status pollers does, and reports throughput and latency.
//
//   jobtrail_load --url http://127.0.0.1:8080 --jobs 30000 --workers 50
//       [--mode per-transition|batch|protocol|protocol-batch] [--pollers N]
//       [--progress K] [--error-every N] [--queue Q] [--token KEY] [--json FILE]
//
// Phase 1 enqueues every job (POST /v1/batch), timed on its own. Phase 2,
// the timed lifecycle: each worker claims, reports progress K times, and
// completes; every Nth first attempt errors with a screenshot instead, the
// store retries it and a worker completes it later. Pollers GET status
// documents of random jobs meanwhile. Exit 0 when every job completed with
// no error, 1 otherwise, 2 on bad arguments.
#include "bench/load/lifecycle.h"
#include "bench/load/report.h"

#include <CLI/CLI.hpp>
#include <curl/curl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

using namespace jobtrail::load;

namespace {

double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The live progress line: rewritten in place on a terminal, one line every
// 5 s otherwise (logs of scripted runs stay short).
void ProgressLine(const Shared& s, double elapsed, int64_t last_completed, double interval) {
  static const bool tty = isatty(STDERR_FILENO) != 0;
  std::fprintf(stderr, "%s[%s] %6.1f s: %lld/%lld completed, %.0f jobs/s now, %.0f req/s, %.0f polls/s, %lld errors%s",
               tty ? "\r" : "", s.opt.mode_name.c_str(), elapsed, static_cast<long long>(s.completed.load()),
               static_cast<long long>(s.opt.jobs), double(s.completed.load() - last_completed) / interval,
               elapsed > 0 ? double(s.requests.load()) / elapsed : 0.0,
               elapsed > 0 ? double(s.polls.load()) / elapsed : 0.0, static_cast<long long>(s.errors.load()),
               tty ? "   " : "\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  CLI::App app{"jobtrail load generator: simulated workers and pollers over HTTP"};
  const std::map<std::string, Mode> modes{{"per-transition", Mode::kPerTransition},
                                          {"batch", Mode::kBatch},
                                          {"protocol", Mode::kProtocol},
                                          {"protocol-batch", Mode::kProtocolBatch}};
  app.add_option("--url", opt.url, "Server base URL")->capture_default_str();
  app.add_option("--token", opt.token, "API key or JWT (Authorization: Bearer); none for --insecure-no-auth");
  app.add_option("--jobs", opt.jobs, "Jobs to enqueue and run")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--workers", opt.workers, "Simulated workers (one thread and connection each)")
      ->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--pollers", opt.pollers, "Status pollers (GET /v1/jobs/{id} in a loop)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--progress", opt.progress, "Progress reports per job")->capture_default_str()
      ->check(CLI::Range(0, 98));
  app.add_option("--error-every", opt.error_every,
                 "Every Nth first attempt errors with a screenshot and is retried (0: never)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--queue", opt.queue, "Queue name")->capture_default_str();
  app.add_option("--mode", opt.mode_name, "per-transition, batch, protocol or protocol-batch")
      ->capture_default_str()->check(CLI::IsMember({"per-transition", "batch", "protocol", "protocol-batch"}));
  app.add_option("--lease-ms", opt.lease_ms, "Lease asked for by claims and heartbeats")->capture_default_str();
  app.add_option("--retry-delay-ms", opt.retry_delay_ms,
                 "Fixed backoff of the enqueued jobs' retries (short, so retries finish within the run)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  app.add_option("--idle-ms", opt.idle_ms, "Pause after a claim that found nothing")->capture_default_str();
  app.add_option("--enqueue-batch", opt.enqueue_batch, "Jobs per enqueue batch")->capture_default_str()
      ->check(CLI::Range(1, 1000));
  // The server takes at most 100 appends a claim: protocol-batch carries
  // (progress + 1) events a job.
  app.add_option("--claim-batch", opt.claim_batch,
                 "Jobs a claim asks for in batch and protocol-batch modes")
      ->capture_default_str()->check(CLI::Range(1, 100));
  app.add_option("--enqueue-threads", opt.enqueue_threads, "Connections enqueueing")->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--timeout", opt.timeout_s, "Give up on the lifecycle after this many seconds")
      ->capture_default_str();
  app.add_option("--json", opt.json, "Also write the report as JSON to this file");
  CLI11_PARSE(app, argc, argv);
  opt.mode = modes.at(opt.mode_name);
  if (opt.mode == Mode::kProtocolBatch && opt.claim_batch * (opt.progress + 1) > 100) {
    std::fprintf(stderr, "--claim-batch x (--progress + 1) must be at most 100 in protocol-batch "
                         "mode (the server takes at most 100 appends a claim)\n");
    return 2;
  }
  while (!opt.url.empty() && opt.url.back() == '/') opt.url.pop_back();

  curl_global_init(CURL_GLOBAL_DEFAULT);
  Shared shared(opt);
  {
    char* escaped = curl_easy_escape(nullptr, opt.queue.c_str(), int(opt.queue.size()));
    shared.queue_escaped = escaped;
    curl_free(escaped);
  }
  shared.queue_path = "/v1/queues/" + shared.queue_escaped;

  Recorder merged;
  Report report;
  report.mode = opt.mode_name;
  report.url = opt.url;
  report.queue = opt.queue;
  report.jobs = opt.jobs;
  report.workers = opt.workers;
  report.pollers = opt.pollers;
  report.progress = opt.progress;
  report.claim_batch = opt.mode == Mode::kBatch || opt.mode == Mode::kProtocolBatch ? opt.claim_batch : 1;
  report.error_every = opt.error_every;

  std::fprintf(stderr, "enqueueing %lld jobs on queue %s at %s ...\n", static_cast<long long>(opt.jobs),
               opt.queue.c_str(), opt.url.c_str());
  auto start = std::chrono::steady_clock::now();
  const bool enqueued = Enqueue(shared, merged);
  report.enqueue_seconds = Since(start);
  report.enqueued = enqueued ? opt.jobs : 0;
  if (!enqueued) {
    // Still a report (0 completed), so a script's table says what happened.
    std::fprintf(stderr, "stopped: enqueue failed: %s\n",
                 merged.samples.empty() ? "?" : merged.samples.front().c_str());
    for (const auto& s : merged.samples) std::fprintf(stderr, "error: %s\n", s.c_str());
    report.errors = int64_t(merged.samples.size());
    report.kinds = Summarize(merged);
    PrintTable(report, stdout);
    if (!opt.json.empty()) WriteJson(report, opt.json);
    return 1;
  }

  // Recorders are per thread: no lock on the request path.
  std::vector<Recorder> recorders(size_t(opt.workers + opt.pollers));
  std::vector<std::thread> workers, pollers;
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < opt.pollers; ++i) {
    pollers.emplace_back(RunPoller, std::ref(shared), i, std::ref(recorders[size_t(opt.workers + i)]));
  }
  for (int i = 0; i < opt.workers; ++i) {
    workers.emplace_back(RunWorker, std::ref(shared), i, std::ref(recorders[size_t(i)]));
  }

  const bool tty = isatty(STDERR_FILENO) != 0;
  const double interval = tty ? 1.0 : 5.0;
  int64_t last_completed = 0, last_second_completed = 0;
  auto last_line = start;
  while (!shared.Done()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (Since(start) >= double(report.per_second.size() + 1)) {
      const int64_t now = shared.completed.load();
      report.per_second.push_back(now - last_second_completed);
      last_second_completed = now;
    }
    if (Since(last_line) >= interval) {
      ProgressLine(shared, Since(start), last_completed, Since(last_line));
      last_completed = shared.completed.load();
      last_line = std::chrono::steady_clock::now();
    }
    if (Since(start) > opt.timeout_s) {
      report.timed_out = true;
      shared.stop = true;
    }
  }
  for (auto& t : workers) t.join();
  report.seconds = Since(start);
  shared.stop_pollers = true;
  for (auto& t : pollers) t.join();
  ProgressLine(shared, report.seconds, last_completed, Since(last_line));
  if (tty) std::fputc('\n', stderr);

  for (auto& r : recorders) merged.Merge(r);
  report.completed = shared.completed.load();
  report.errored = shared.errored.load();
  report.events = shared.events.load();
  report.requests = shared.requests.load();
  report.polls = shared.polls.load();
  report.errors = shared.errors.load();
  report.server_completed = ServerCompleted(shared);
  report.kinds = Summarize(merged);

  if (!shared.fatal.empty()) std::fprintf(stderr, "stopped: %s\n", shared.fatal.c_str());
  for (const auto& s : merged.samples) std::fprintf(stderr, "error: %s\n", s.c_str());
  PrintTable(report, stdout);
  if (!opt.json.empty() && !WriteJson(report, opt.json)) {
    std::fprintf(stderr, "cannot write %s\n", opt.json.c_str());
    return 1;
  }
  curl_global_cleanup();
  return Clean(report) ? 0 : 1;
}
