// Throughput of the RocksDB event log: appends (1 event and 10-event
// batches, 1 to 64 concurrent appenders, synced and unsynced) and reads.
// Every benchmark gets a fresh log in its own temp dir. Figures and the
// db_bench references they are compared with: bench/RESULTS-eventstore.md.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <stdlib.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <chrono>
#include <thread>

#include "eventstore/rocks_event_log.h"

namespace jobtrail::eventstore {
namespace {

constexpr size_t kPayloadBytes = 200;

std::string MakeTempDir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "eventstore_bench.XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  return pattern;
}

std::string Payload(uint64_t seed) {
  std::string data(kPayloadBytes, 'x');
  // Not constant, so compression (if any) does not flatter the figures.
  std::mt19937_64 rng(seed);
  for (char& c : data) c = char('a' + rng() % 26);
  return data;
}

// A filesystem whose WAL sync takes a fixed 300 us instead of an fsync (the
// data still goes to the page cache). The machine's disk is shared and its
// fsync latency swings from 0.2 to 5 ms while others work, which drowns any
// change to the group commit; with this the "simsync" figures measure the
// commit protocol and the CPU work alone. Not a durability mode.
class SimulatedSyncFs : public rocksdb::FileSystemWrapper {
 public:
  SimulatedSyncFs() : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "SimulatedSyncFs"; }
  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, dbg);
    if (s.ok() && name.size() > 4 && name.compare(name.size() - 4, 4, ".log") == 0) {
      *result = std::make_unique<File>(std::move(*result));
    }
    return s;
  }

 private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    using rocksdb::FSWritableFileOwnerWrapper::FSWritableFileOwnerWrapper;
    rocksdb::IOStatus Sync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
      std::this_thread::sleep_for(std::chrono::microseconds(300));
      return rocksdb::IOStatus::OK();
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* d) override {
      return Sync(o, d);
    }
  };
};

rocksdb::Env* SimulatedSyncEnv() {
  static const std::unique_ptr<rocksdb::Env> env =
      rocksdb::NewCompositeEnv(std::make_shared<SimulatedSyncFs>());
  return env.get();
}

// One log shared by every thread of a benchmark; thread 0 opens it before
// the timed loop and closes it after (the loop's start and end are barriers).
struct SharedLog {
  std::string dir;
  std::unique_ptr<RocksEventLog> log;
  std::atomic<uint64_t> failures{0};

  void Open(Durability durability, rocksdb::Env* env = nullptr) {
    dir = MakeTempDir();
    RocksEventLogOptions options;
    options.durability = durability;
    options.env = env;
    auto opened = RocksEventLog::Open(dir, options);
    if (!opened) std::abort();
    log = std::move(opened.value());
    failures = 0;
  }
  void Close() {
    log.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

SharedLog g_shared;

// Appends `batch` events per call; each stream (job) gets 10 events, in
// appends of `batch` at the expected version, as a job's life would.
void BM_Append(benchmark::State& state, Durability durability, size_t batch,
               rocksdb::Env* env = nullptr) {
  if (state.thread_index() == 0) g_shared.Open(durability, env);
  const std::string payload = Payload(state.thread_index());
  const size_t appends_per_stream = std::max<size_t>(1, 10 / batch);
  uint64_t n = 0;
  uint64_t events = 0;
  for (auto _ : state) {
    const uint64_t job = n / appends_per_stream;
    const uint64_t expected = (n % appends_per_stream) * batch;
    std::vector<EventToAppend> to_append;
    to_append.reserve(batch);
    for (size_t i = 0; i < batch; ++i) {
      to_append.push_back(
          {fmt::format("{:08x}-{:04x}-{:012x}", state.thread_index(), i, n), payload});
    }
    auto result = g_shared.log->Append(fmt::format("job-{}-{}", state.thread_index(), job),
                                       expected, std::move(to_append));
    if (!result) g_shared.failures.fetch_add(1);
    events += batch;
    ++n;
  }
  state.counters["events/s"] = benchmark::Counter(double(events), benchmark::Counter::kIsRate);
  if (state.thread_index() == 0) {
    if (g_shared.failures.load() != 0) state.SkipWithError("appends failed");
    g_shared.Close();
  }
}

void AppendArgs(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 2, 4, 8, 16, 32, 64}) b->Threads(threads);
  b->UseRealTime();
}

BENCHMARK_CAPTURE(BM_Append, sync_1, Durability::kSync, 1)->Apply(AppendArgs);
BENCHMARK_CAPTURE(BM_Append, sync_10, Durability::kSync, 10)->Apply(AppendArgs);
BENCHMARK_CAPTURE(BM_Append, nosync_1, Durability::kNoSync, 1)->Apply(AppendArgs);
BENCHMARK_CAPTURE(BM_Append, nosync_10, Durability::kNoSync, 10)->Apply(AppendArgs);
BENCHMARK_CAPTURE(BM_Append, simsync_1, Durability::kSync, 1, SimulatedSyncEnv())
    ->Threads(8)->Threads(64)->UseRealTime();
BENCHMARK_CAPTURE(BM_Append, simsync_10, Durability::kSync, 10, SimulatedSyncEnv())
    ->Threads(8)->Threads(64)->UseRealTime();
// A fixed amount of work, for instruction counts under callgrind (the
// machine is too noisy for timing small changes):
//   valgrind --tool=callgrind eventstore_bench --benchmark_filter=fixed
BENCHMARK_CAPTURE(BM_Append, fixed_nosync_10, Durability::kNoSync, 10)->Iterations(5000);

// A log of `jobs` streams of 10 events each, interleaved as jobs would be.
std::unique_ptr<RocksEventLog> Populate(const std::string& dir, uint64_t jobs) {
  RocksEventLogOptions options;
  options.durability = Durability::kNoSync;
  auto opened = RocksEventLog::Open(dir, options);
  if (!opened) std::abort();
  auto log = std::move(opened.value());
  const std::string payload = Payload(7);
  for (uint64_t version = 0; version < 10; ++version) {
    for (uint64_t job = 0; job < jobs; ++job) {
      auto r = log->Append(fmt::format("job-{}", job), version,
                           {{fmt::format("e-{}-{}", job, version), payload}});
      if (!r) std::abort();
    }
  }
  return log;
}

void BM_ReadStream(benchmark::State& state) {
  const uint64_t jobs = state.range(0);
  const std::string dir = MakeTempDir();
  auto log = Populate(dir, jobs);
  std::mt19937_64 rng(42);
  uint64_t events = 0;
  for (auto _ : state) {
    auto read = log->ReadStream(fmt::format("job-{}", rng() % jobs), 1, 100);
    if (!read || read.value().size() != 10) {
      state.SkipWithError("short read");
      break;
    }
    events += read.value().size();
  }
  state.counters["events/s"] = benchmark::Counter(double(events), benchmark::Counter::kIsRate);
  log.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ReadStream)->Arg(10000)->UseRealTime();

void BM_ReadAll(benchmark::State& state) {
  const uint64_t jobs = state.range(0);
  const std::string dir = MakeTempDir();
  auto log = Populate(dir, jobs);
  uint64_t events = 0;
  uint64_t from = 1;
  for (auto _ : state) {
    auto read = log->ReadAll(from, 1000);
    if (!read) {
      state.SkipWithError("read failed");
      break;
    }
    events += read.value().size();
    from = read.value().empty() ? 1 : read.value().back().position + 1;
  }
  state.counters["events/s"] = benchmark::Counter(double(events), benchmark::Counter::kIsRate);
  log.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ReadAll)->Arg(10000)->UseRealTime();

}  // namespace
}  // namespace jobtrail::eventstore

BENCHMARK_MAIN();
