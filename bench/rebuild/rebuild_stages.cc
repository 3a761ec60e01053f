// rebuild_stages: how fast each stage of a rebuild can go on its own, over
// an existing data directory's log (bench/rebuild/README.md): a scan of the
// log alone, plus decoding every event, plus folding every job, plus
// rendering every job's status document. The gaps between the rows say
// where a rebuild's time goes; the first row is the ceiling.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <unordered_map>

#include "eventstore/rocks_event_log.h"
#include "projections/job_json.h"
#include "schemas/event_codec.h"

namespace {

using namespace jobtrail;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Times the stages of a rebuild over a data directory's log");
  std::string data_dir;
  app.add_option("--data-dir", data_dir, "data directory (its log is only read)")->required();
  CLI11_PARSE(app, argc, argv);
  eventstore::RocksEventLogOptions options;
  options.create_if_missing = false;
  auto opened = eventstore::RocksEventLog::Open(data_dir + "/log", options);
  if (!opened) {
    std::cerr << "rebuild_stages: " << opened.error().message << "\n";
    return 1;
  }
  auto log = std::move(opened).value();
  const uint64_t last = log->LastPosition();
  auto report = [&](const char* stage, Clock::time_point start, uint64_t n) {
    const double s = Seconds(start);
    std::cout << fmt::format("{:<36} {:>10} events {:>7.2f} s {:>12.0f} events/s\n", stage, n, s,
                             double(n) / s);
  };
  bool failed = false;
  auto run = [&](const char* stage, const std::function<bool(const eventstore::EventRef&)>& fn) {
    const auto start = Clock::now();
    uint64_t n = 0;
    auto scanned = log->Scan(1, last, [&](const eventstore::EventRef& e) {
      ++n;
      return fn(e);
    });
    if (!scanned) {
      std::cerr << stage << ": " << scanned.error().message << "\n";
      failed = true;
      return;
    }
    report(stage, start, n);
  };
  uint64_t bytes = 0;
  run("scan (warm-up)", [&](const eventstore::EventRef& e) {
    bytes += e.data.size();
    return true;
  });
  run("scan", [&](const eventstore::EventRef& e) {
    bytes += e.data.size();
    return true;
  });
  run("scan + decode", [&](const eventstore::EventRef& e) {
    auto decoded = DecodeEvent(e.data);
    return bool(decoded);
  });
  std::unordered_map<std::string, JobView> jobs;
  run("scan + decode + fold", [&](const eventstore::EventRef& e) {
    auto decoded = DecodeEvent(e.data);
    if (!decoded) return false;
    decoded.value().position = e.position;
    JobView& job = jobs[decoded.value().job_id];
    return bool(ApplyEvent(job, decoded.value()));
  });
  const auto start = Clock::now();
  size_t json_bytes = 0;
  for (const auto& [id, job] : jobs) json_bytes += RenderJobJson(job).size();
  report("render status documents (per event)", start, last);
  std::cout << fmt::format("{} jobs, {:.0f} bytes of event data and {:.0f} of status JSON per job\n",
                           jobs.size(), double(bytes) / 2 / double(jobs.size()),
                           double(json_bytes) / double(jobs.size()));
  return failed ? 1 : 0;
}
