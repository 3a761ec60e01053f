// jobtrail_fill_log: writes N five-event job lifecycles (enqueued, started
// with a lease, progressed, logged, completed) straight into a data
// directory's event log, fast, so that `jobtrail rebuild` and restarts can
// be measured on logs of millions of events (bench/rebuild/README.md).
//
// Events are made as the store makes them (RecordedEvent, EncodeEvent,
// random UUIDs for job and event ids) and appended with
// EventLog::AppendMany, one commit per round of a window of jobs, unsynced
// (a clean close makes them durable). Jobs interleave as a pool of workers
// would: a window of W jobs is enqueued, then all of them start, progress,
// log and complete. The read models are not written: run `jobtrail
// rebuild` (or start the server) afterwards.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "eventstore/rocks_event_log.h"
#include "projections/uuid.h"
#include "schemas/event_codec.h"

namespace {

using namespace jobtrail;

EventBody BodyOf(int step, uint64_t n, Millis now) {
  switch (step) {
    case 0: {
      Enqueued e;
      e.type = n % 2 ? "pdf" : "email";
      e.queue = "default";
      e.owner = "owner-" + std::to_string(n % 16);
      e.payload_json =
          R"({"formData":{"firstName":"John","lastName":"Doe","email":"john@example.com"}})";
      return e;
    }
    case 1:
      return Started{1, "worker-" + std::to_string(n % 50), now + 60000};
    case 2:
      return Progressed{50.0, "half", "filling form", {}, std::nullopt};
    case 3:
      return Logged{LogLevel::kInfo, "page 2 of 5 done", "", {}};
    default:
      return Completed{R"({"ok":true,"confirmation":"ABC123"})", {}};
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Appends N five-event job lifecycles to a jobtrail data directory's log");
  std::string data_dir;
  uint64_t jobs = 200000;
  uint64_t window = 1000;
  app.add_option("--data-dir", data_dir, "data directory (created if missing)")->required();
  app.add_option("--jobs", jobs, "lifecycles to append")->check(CLI::PositiveNumber);
  app.add_option("--window", window, "jobs in flight together (interleaving)")
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  std::filesystem::permissions(data_dir, std::filesystem::perms::owner_all, ec);
  eventstore::RocksEventLogOptions options;
  options.durability = eventstore::Durability::kNoSync;
  options.max_group_events = 1 << 20;
  options.max_group_bytes = size_t{1} << 30;
  auto opened = eventstore::RocksEventLog::Open(data_dir + "/log", options);
  if (!opened) {
    std::cerr << "jobtrail_fill_log: " << opened.error().message << "\n";
    return 1;
  }
  auto log = std::move(opened).value();

  const auto start = std::chrono::steady_clock::now();
  Millis now = 1'760'000'000'000;
  std::vector<std::string> ids;
  for (uint64_t done = 0; done < jobs;) {
    const uint64_t n = std::min(window, jobs - done);
    ids.clear();
    for (uint64_t i = 0; i < n; ++i) ids.push_back(RandomUuid());
    for (int step = 0; step < 5; ++step) {
      std::vector<eventstore::StreamAppend> parts(n);
      for (uint64_t i = 0; i < n; ++i) {
        RecordedEvent e;
        e.event_id = RandomUuid();
        e.job_id = ids[i];
        e.version = uint64_t(step) + 1;
        e.timestamp = now + Millis(i / 50);
        e.actor = step == 0 ? "api" : "worker-" + std::to_string((done + i) % 50);
        e.body = BodyOf(step, done + i, e.timestamp);
        parts[i].stream = ids[i];
        parts[i].expected_version = uint64_t(step);
        parts[i].events.push_back({e.event_id, EncodeEvent(e)});
      }
      for (const auto& r : log->AppendMany(std::move(parts))) {
        if (!r) {
          std::cerr << "jobtrail_fill_log: append failed: " << r.error().message << "\n";
          return 1;
        }
      }
      now += 7;
    }
    done += n;
    now += 1000;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << fmt::format("appended {} jobs ({} events) in {:.1f} s ({:.0f} events/s); log head {}\n",
                           jobs, jobs * 5, seconds, double(jobs * 5) / seconds,
                           log->LastPosition());
  return 0;
}
