// JobStore end to end: an enqueue or transition is acknowledged only after
// the log is synced (group commit) AND the job's status view shows it, so
// these figures include the projector. Point reads are what a front end's
// poll costs below HTTP; rebuild is `jobtrail rebuild`'s rate.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <random>

#include "projections/claim_index.h"
#include "projections/job_store.h"
#include "projections/uuid.h"

namespace jobtrail {
namespace {

std::string MakeTempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "jobstore_bench.XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  return pattern;
}

std::unique_ptr<JobStore> OpenStore(const std::string& dir, bool sync) {
  JobStoreOptions options;
  options.data_dir = dir;
  options.sync = sync;
  auto store = JobStore::Open(options);
  if (!store) std::abort();
  return std::move(store).value();
}

EnqueueRequest NewJob(uint64_t n) {
  EnqueueRequest r;
  r.spec.type = n % 2 ? "pdf" : "email";
  r.spec.owner = "owner-" + std::to_string(n % 16);
  r.spec.payload_json = R"({"formData":{"firstName":"John","lastName":"Doe","email":"john@example.com"}})";
  r.actor = "bench";
  return r;
}

struct Shared {
  std::string dir;
  std::unique_ptr<JobStore> store;
  std::vector<std::string> ids;
  std::atomic<uint64_t> next{0};
};
Shared shared;

void SetUpStore(bool sync, size_t jobs) {
  shared.dir = MakeTempDir();
  shared.store = OpenStore(shared.dir, sync);
  shared.ids.clear();
  for (size_t i = 0; i < jobs; ++i) shared.ids.push_back(shared.store->Enqueue(NewJob(i)).value().job_id);
}
void TearDownStore() {
  shared.store.reset();
  std::error_code ec;
  std::filesystem::remove_all(shared.dir, ec);
}

// Enqueue: one event per job, acknowledged after sync + projection.
void BM_Enqueue(benchmark::State& state) {
  if (state.thread_index() == 0) SetUpStore(state.range(0) == 1, 0);
  for (auto _ : state) {
    auto out = shared.store->Enqueue(NewJob(shared.next.fetch_add(1)));
    if (!out) state.SkipWithError("enqueue failed");
  }
  state.counters["jobs/s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  if (state.thread_index() == 0) TearDownStore();
}
BENCHMARK(BM_Enqueue)->ArgName("sync")->Arg(1)->Arg(0)->ThreadRange(1, 64)->UseRealTime();

// A worker's transitions on its own job: started, progressed, completed.
void BM_Lifecycle(benchmark::State& state) {
  if (state.thread_index() == 0) SetUpStore(true, 0);
  for (auto _ : state) {
    const std::string id = shared.store->Enqueue(NewJob(shared.next.fetch_add(1))).value().job_id;
    for (EventBody body : {EventBody{Started{}}, EventBody{Progressed{50.0, "half", "", {}, std::nullopt}},
                           EventBody{Completed{R"({"ok":true})", {}}}}) {
      AppendRequest r;
      r.job_id = id;
      r.events.push_back(std::move(body));
      if (!shared.store->Append(std::move(r))) state.SkipWithError("append failed");
    }
  }
  state.counters["events/s"] =
      benchmark::Counter(double(state.iterations() * 4), benchmark::Counter::kIsRate);
  if (state.thread_index() == 0) TearDownStore();
}
BENCHMARK(BM_Lifecycle)->ThreadRange(1, 64)->UseRealTime();

// Appending to a job whose history is already range(0) events long: the
// aggregate comes from the write-side cache plus the log's tail, so the
// 100,000th append costs what the 10th does (issue 10). Unsynced, so the
// figure is the append path's own cost, not the disk's.
void BM_AppendToLongJob(benchmark::State& state) {
  SetUpStore(false, 0);
  EnqueueRequest job = NewJob(0);
  job.job_id = "long-job";
  if (!shared.store->Enqueue(std::move(job))) state.SkipWithError("enqueue failed");
  for (int64_t have = 1; have < state.range(0);) {
    AppendRequest r;
    r.job_id = "long-job";
    for (; have < state.range(0) && r.events.size() < 1000; ++have) {
      r.events.push_back(Logged{LogLevel::kInfo, "page done", "", {}});
    }
    if (!shared.store->Append(std::move(r))) state.SkipWithError("setup append failed");
  }
  for (auto _ : state) {
    AppendRequest r;
    r.job_id = "long-job";
    r.events.push_back(Logged{LogLevel::kInfo, "one more page", "", {}});
    if (!shared.store->Append(std::move(r))) state.SkipWithError("append failed");
  }
  state.counters["appends/s"] =
      benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  TearDownStore();
}
BENCHMARK(BM_AppendToLongJob)->ArgName("history")->Arg(10)->Arg(100000)->Iterations(5000)
    ->UseRealTime();

// Status point read (what GET /v1/jobs/{id} costs below HTTP).
void BM_StatusRead(benchmark::State& state) {
  if (state.thread_index() == 0) SetUpStore(false, 100000);
  std::mt19937_64 rng(state.thread_index());
  for (auto _ : state) {
    auto doc = shared.store->Status(shared.ids[rng() % shared.ids.size()]);
    benchmark::DoNotOptimize(doc);
  }
  state.counters["reads/s"] = benchmark::Counter(double(state.iterations()), benchmark::Counter::kIsRate);
  if (state.thread_index() == 0) TearDownStore();
}
BENCHMARK(BM_StatusRead)->Threads(1)->Threads(2)->UseRealTime()->Iterations(200000);

// A page of 50 from the list indexes, filtered by owner, with its total.
void BM_ListPage(benchmark::State& state) {
  SetUpStore(false, 20000);
  ListQuery q;
  q.owner = "owner-3";
  for (auto _ : state) benchmark::DoNotOptimize(shared.store->List(q));
  TearDownStore();
}
BENCHMARK(BM_ListPage)->Iterations(2000);

// `jobtrail rebuild`: refold every read model from the log.
void BM_Rebuild(benchmark::State& state) {
  SetUpStore(false, size_t(state.range(0)));
  for (auto _ : state) {
    if (!shared.store->Rebuild(nullptr)) state.SkipWithError("rebuild failed");
  }
  state.counters["events/s"] = benchmark::Counter(double(state.iterations() * state.range(0)),
                                                  benchmark::Counter::kIsRate);
  TearDownStore();
}
BENCHMARK(BM_Rebuild)->Arg(100000)->Iterations(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// `jobtrail rebuild` on a log of 5-event lifecycles (enqueued, started,
// progressed, completed... as workers write them): range(0) jobs.
void BM_RebuildLifecycles(benchmark::State& state) {
  SetUpStore(false, 0);
  const int64_t jobs = state.range(0);
  for (int64_t done = 0; done < jobs;) {
    std::vector<WriteCommand> batch;
    std::vector<std::string> ids;
    for (int k = 0; k < 500 && done < jobs; ++k, ++done) {
      EnqueueRequest r = NewJob(uint64_t(done));
      r.job_id = "job-" + std::to_string(done);
      ids.push_back(r.job_id);
      batch.emplace_back(std::move(r));
    }
    for (EventBody body : {EventBody{Started{}}, EventBody{Progressed{50.0, "half", "", {}, std::nullopt}},
                           EventBody{Logged{LogLevel::kInfo, "page done", "", {}}},
                           EventBody{Completed{R"({"ok":true})", {}}}}) {
      for (const std::string& id : ids) {
        AppendRequest a;
        a.job_id = id;
        a.events.push_back(body);
        batch.emplace_back(std::move(a));
      }
    }
    for (const auto& r : shared.store->WriteMany(std::move(batch))) {
      if (!r) state.SkipWithError("setup write failed");
    }
  }
  for (auto _ : state) {
    if (!shared.store->Rebuild(nullptr)) state.SkipWithError("rebuild failed");
  }
  state.counters["events/s"] = benchmark::Counter(double(state.iterations() * jobs * 5),
                                                  benchmark::Counter::kIsRate);
  TearDownStore();
}
BENCHMARK(BM_RebuildLifecycles)->Arg(40000)->Iterations(1)->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Filling the in-memory claim index at a start with a big backlog (650,000
// pending jobs of one queue, in the claim rows' order): one AddAll under one
// lock, beside an Upsert each (how a start filled it before).
std::vector<ClaimIndex::Entry> BacklogEntries() {
  std::vector<ClaimIndex::Entry> entries(650000);
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].job_id = RandomUuid();
    entries[i].ready_at = Millis(1700000000000 + int64_t(i));
    entries[i].seq = i + 1;
  }
  return entries;
}

void BM_ClaimIndexFill(benchmark::State& state) {
  const std::vector<ClaimIndex::Entry> entries = BacklogEntries();
  for (auto _ : state) {
    state.PauseTiming();  // the copy and (below) the destruction are not the fill
    auto index = std::make_unique<ClaimIndex>();
    std::vector<ClaimIndex::Entry> copy = entries;
    state.ResumeTiming();
    if (state.range(0) == 1) {
      index->AddAll("bench", std::move(copy));
    } else {
      for (ClaimIndex::Entry& e : copy) index->Upsert("bench", std::move(e));
    }
    benchmark::DoNotOptimize(index->Size("bench"));
    state.PauseTiming();
    index.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(int64_t(state.iterations() * entries.size()));
}
BENCHMARK(BM_ClaimIndexFill)->ArgName("add_all")->Arg(0)->Arg(1)->Iterations(3)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace jobtrail

BENCHMARK_MAIN();
