// Append throughput of the PostgreSQL event log beside the RocksDB log, in
// the same run (the machine is noisy: read them as ratios). The benchmark
// starts its own PostgreSQL 15 (tests/eventstore/postgres/pg_server.h:
// initdb, loopback TCP, default settings: fsync on, synchronous_commit on)
// and gives every benchmark a fresh database; the RocksDB log gets a fresh
// temp dir and Durability::kSync. Both acknowledge an append only once it
// is durable. PostgreSQL runs on the same cores as the benchmark.
//
//   postgres_bench --benchmark_filter=... --benchmark_min_time=2
// Figures: bench/RESULTS-postgres.md.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "eventstore/postgres/pg_connection.h"
#include "eventstore/postgres/pg_schema.h"
#include "eventstore/postgres/postgres_event_log.h"
#include "eventstore/rocks_event_log.h"
#include "tests/eventstore/postgres/pg_server.h"

namespace jobtrail::eventstore {
namespace {

constexpr size_t kPayloadBytes = 200;
testing_pg::PgServer* g_server = nullptr;

std::string Payload(uint64_t seed) {
  std::string data(kPayloadBytes, 'x');
  std::mt19937_64 rng(seed);
  for (char& c : data) c = char('a' + rng() % 26);
  return data;
}

enum class Backend { kRocks, kPostgres };

// One log shared by every thread of a benchmark; thread 0 opens it before
// the timed loop and closes it after (the loop's start and end are barriers).
struct SharedLog {
  std::string dir;  // RocksDB
  std::string db;   // PostgreSQL
  std::unique_ptr<EventLog> log;
  std::atomic<uint64_t> failures{0};
  std::string failure;
  int serial = 0;

  void Open(Backend backend) {
    failures = 0;
    if (backend == Backend::kRocks) {
      std::string pattern =
          (std::filesystem::temp_directory_path() / "postgres_bench.XXXXXX").string();
      if (mkdtemp(pattern.data()) == nullptr) std::abort();
      dir = pattern;
      RocksEventLogOptions options;
      options.durability = Durability::kSync;
      auto opened = RocksEventLog::Open(dir, options);
      if (!opened) std::abort();
      log = std::move(opened).value();
      return;
    }
    db = fmt::format("bench_{}", serial++);
    auto admin = pg::Connect(g_server->Url("postgres"), "bench");
    if (!admin) std::abort();
    (void)pg::Exec(admin.value().get(), ("DROP DATABASE IF EXISTS " + db).c_str(), nullptr, "");
    if (!pg::Exec(admin.value().get(), ("CREATE DATABASE " + db).c_str(), nullptr, "create")) {
      std::abort();
    }
    auto conn = pg::Connect(g_server->Url(db), "bench");
    if (!conn || !pg::Migrate(conn.value().get())) std::abort();
    PostgresEventLogOptions options;
    options.url = g_server->Url(db);
    auto opened = PostgresEventLog::Open(options);
    if (!opened) std::abort();
    log = std::move(opened).value();
  }
  void Close() {
    log.reset();
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
    dir.clear();
    if (!db.empty()) {
      if (auto admin = pg::Connect(g_server->Url("postgres"), "bench")) {
        (void)pg::Exec(admin.value().get(), ("DROP DATABASE " + db).c_str(), nullptr, "");
      }
      db.clear();
    }
  }
};

SharedLog g_shared;

// Appends `batch` events per call; each stream (job) gets 10 events, in
// appends of `batch` at the expected version (as eventstore_bench does).
void BM_Append(benchmark::State& state, Backend backend, size_t batch) {
  if (state.thread_index() == 0) g_shared.Open(backend);
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
    // Group commit at work: events per transaction (PostgreSQL only).
    if (auto* pg_log = dynamic_cast<PostgresEventLog*>(g_shared.log.get())) {
      const uint64_t commits = pg_log->Commits();
      state.counters["events/commit"] =
          commits != 0 ? double(pg_log->LastPosition()) / double(commits) : 0.0;
    }
    g_shared.Close();
  }
}

void Threads(benchmark::internal::Benchmark* b) {
  for (int threads : {1, 16, 64}) b->Threads(threads);
  b->UseRealTime();
}

BENCHMARK_CAPTURE(BM_Append, rocks_1, Backend::kRocks, 1)->Apply(Threads);
BENCHMARK_CAPTURE(BM_Append, postgres_1, Backend::kPostgres, 1)->Apply(Threads);
BENCHMARK_CAPTURE(BM_Append, rocks_10, Backend::kRocks, 10)->Apply(Threads);
BENCHMARK_CAPTURE(BM_Append, postgres_10, Backend::kPostgres, 10)->Apply(Threads);

}  // namespace
}  // namespace jobtrail::eventstore

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  std::string error;
  auto server = jobtrail::testing_pg::PgServer::Start(&error);
  if (!server) {
    std::fprintf(stderr, "cannot start PostgreSQL: %s\n", error.c_str());
    return 1;
  }
  jobtrail::eventstore::g_server = server.get();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;  // ~PgServer stops the server
}
