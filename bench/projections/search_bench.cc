// GET /v1/jobs?q= below HTTP: a search over a large store (default
// 1,000,000 jobs; JOBTRAIL_SEARCH_JOBS=N to change it), answered from the
// search index (projections/search_reader.h), beside the same-run reference
// of a plain list page of the same size (50) from one list index.
//
//   search_bench --benchmark_filter=BM_ --benchmark_repetitions=3
//
// The store is built once, unsynced, through the normal write path (the
// projector maintains the index as it would live), 1,000 jobs a batch; one
// job in five is then started and completed, so a status filter has
// something to filter. Building it is not measured, only reported; what
// writing into the big store costs is (BM_EnqueueIntoLargeStore).
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <utility>

#include "projections/job_store.h"

namespace jobtrail {
namespace {

constexpr const char* kNames[] = {"john", "jane", "maria", "ahmed", "wei", "olga", "pierre",
                                  "aiko", "carlos", "fatima", "liam", "noah"};
constexpr const char* kCities[] = {"lyon", "paris", "berlin", "madrid", "osaka", "lagos",
                                   "lima", "oslo", "quito", "hanoi"};

EnqueueRequest NewJob(size_t i) {
  EnqueueRequest r;
  r.spec.type = i % 3 ? "form-fill" : "pdf_chapter";
  r.spec.owner = fmt::format("owner-{}", i % 1000);
  r.spec.external_ref = fmt::format("ref{:08}", i);
  r.spec.payload_json = fmt::format(
      R"({{"formData":{{"firstName":"{}{}","city":"{}","order":"ord{:07}"}},"tracking":"trk{:012}"}})",
      kNames[i % 12], i % 97, kCities[(i / 12) % 10], i, i);
  r.actor = "bench";
  return r;
}

struct Store {
  std::string dir;
  std::unique_ptr<JobStore> store;
  size_t jobs = 0;
  std::vector<std::string> ids;  // in enqueue order
  std::atomic<size_t> next{0};   // jobs enqueued by BM_EnqueueIntoLargeStore
  Store() = default;
  Store(const Store&) = delete;
};

// A 1,000,000-job store is gigabytes: not left in /tmp.
void CloseAndRemove(Store& s) {
  s.store.reset();
  if (s.dir.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(s.dir, ec);
  if (ec) std::fprintf(stderr, "could not remove %s: %s\n", s.dir.c_str(), ec.message().c_str());
}

void Check(const std::vector<Result<WriteOutcome>>& outcomes, std::vector<std::string>* ids) {
  for (const auto& w : outcomes) {
    if (!w) {
      std::fprintf(stderr, "setup write failed: %s\n", w.error().message.c_str());
      std::abort();
    }
    if (ids != nullptr) ids->push_back(w.value().job_id);
  }
}

void Build(Store& s) {
  const char* env = std::getenv("JOBTRAIL_SEARCH_JOBS");
  s.jobs = env != nullptr ? std::strtoull(env, nullptr, 10) : 1'000'000;
  std::string pattern = (std::filesystem::temp_directory_path() / "search_bench.XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  s.dir = pattern;
  JobStoreOptions options;
  options.data_dir = s.dir;
  options.sync = false;
  auto opened = JobStore::Open(options);
  if (!opened) std::abort();
  s.store = std::move(opened).value();
  s.ids.reserve(s.jobs);
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  for (size_t from = 0; from < s.jobs; from += 1000) {
    const size_t to = std::min(s.jobs, from + 1000);
    std::vector<WriteCommand> batch;
    for (size_t i = from; i < to; ++i) batch.emplace_back(NewJob(i));
    Check(s.store->WriteMany(std::move(batch)), &s.ids);
    batch.clear();
    // One job in five runs and completes.
    for (size_t i = from; i < to; ++i) {
      if (i % 5 != 0) continue;
      AppendRequest a;
      a.job_id = s.ids[i];
      a.events = {Started{}, Completed{R"({"pages":12})", {}}};
      a.actor = "bench";
      batch.emplace_back(std::move(a));
    }
    Check(s.store->WriteMany(std::move(batch)), nullptr);
    if (to % 100000 == 0) std::fprintf(stderr, "  %zu jobs after %.1f s\n", to, elapsed());
  }
  s.next = s.jobs;
  std::fprintf(stderr, "built %zu jobs in %.1f s (%.0f jobs/s through the projector)\n", s.jobs,
               elapsed(), double(s.jobs) / elapsed());
}

Store shared_store;  // removed at the end of main (a static's destructor ran too late to)
std::once_flag built;

Store& Shared() {
  std::call_once(built, [] { Build(shared_store); });
  return shared_store;
}

void Run(benchmark::State& state, ListQuery q) {
  Store& s = Shared();
  uint64_t total = 0;
  size_t items = 0;
  for (auto _ : state) {
    auto page = s.store->List(q);
    if (!page) {
      state.SkipWithError(page.error().message.c_str());
      return;
    }
    total = page.value().total;
    items = page.value().items_json.size();
    benchmark::DoNotOptimize(page);
  }
  state.counters["matches"] = double(total);
  state.counters["items"] = double(items);
}

// The cursor of the first page of `q` (to measure the second).
std::string CursorAfterFirstPage(ListQuery q) {
  auto page = Shared().store->List(q);
  if (!page || page.value().next_cursor.empty()) std::abort();
  return page.value().next_cursor;
}

// The references: a page of 50 from one list index, with its total (from
// the counters): by type (1 job in 3), by status (1 job in 5 completed).
void BM_ListPageByType(benchmark::State& state) { Run(state, ListQuery{.type = "pdf_chapter"}); }
BENCHMARK(BM_ListPageByType)->Unit(benchmark::kMicrosecond)->MinTime(2);
void BM_ListPageByStatus(benchmark::State& state) {
  Run(state, ListQuery{.statuses = {JobStatus::kCompleted}});
}
BENCHMARK(BM_ListPageByStatus)->Unit(benchmark::kMicrosecond)->MinTime(2);

// One filter and a status (every non-admin's list is an owner's): a page of
// 50 and its total. The total comes from the per-status counters (views
// v7; before, every job of the owner or type was read to count), and the
// page walks the smaller of the two indexes.
void BM_ListPageOwnerByStatus(benchmark::State& state) {  // 1,000 jobs, all completed
  Run(state, ListQuery{.statuses = {JobStatus::kCompleted}, .owner = "owner-10"});
}
BENCHMARK(BM_ListPageOwnerByStatus)->Unit(benchmark::kMicrosecond)->MinTime(2);
void BM_ListPageOwnerByRareStatus(benchmark::State& state) {  // 1,000 jobs, none completed
  Run(state, ListQuery{.statuses = {JobStatus::kCompleted}, .owner = "owner-7"});
}
BENCHMARK(BM_ListPageOwnerByRareStatus)->Unit(benchmark::kMicrosecond)->MinTime(2);
void BM_ListPageTypeByStatus(benchmark::State& state) {  // 1 job in 3, of them 1 in 5 completed
  Run(state, ListQuery{.statuses = {JobStatus::kCompleted}, .type = "pdf_chapter"});
}
BENCHMARK(BM_ListPageTypeByStatus)->Unit(benchmark::kMicrosecond)->MinTime(2);
void BM_ListPageTypeByRareStatus(benchmark::State& state) {  // none running
  Run(state, ListQuery{.statuses = {JobStatus::kRunning}, .type = "pdf_chapter"});
}
BENCHMARK(BM_ListPageTypeByRareStatus)->Unit(benchmark::kMicrosecond)->MinTime(2);

// A common word (1 job in 12): a page of 50 and a count to the ceiling.
void BM_SearchCommonWord(benchmark::State& state) { Run(state, ListQuery{.text = "maria"}); }
BENCHMARK(BM_SearchCommonWord)->Unit(benchmark::kMicrosecond)->MinTime(2);

// Its second page, from the first page's cursor.
void BM_SearchCommonWordNextPage(benchmark::State& state) {
  static const std::string cursor = CursorAfterFirstPage(ListQuery{.text = "maria"});
  Run(state, ListQuery{.cursor = cursor, .text = "maria"});
}
BENCHMARK(BM_SearchCommonWordNextPage)->Unit(benchmark::kMicrosecond)->MinTime(2);

// The common word among completed jobs (1 in 5): the status index joined in.
void BM_SearchCommonWordCompleted(benchmark::State& state) {
  Run(state, ListQuery{.statuses = {JobStatus::kCompleted}, .text = "maria"});
}
BENCHMARK(BM_SearchCommonWordCompleted)->Unit(benchmark::kMicrosecond)->MinTime(2);

// A rare word of 6 letters or fewer (a city in 1 job in 10, one owner's
// completed jobs: a few dozen).
void BM_SearchRareWordWithinOwner(benchmark::State& state) {
  Run(state, ListQuery{.statuses = {JobStatus::kCompleted}, .owner = "owner-10", .text = "lyon"});
}
BENCHMARK(BM_SearchRareWordWithinOwner)->Unit(benchmark::kMicrosecond)->MinTime(2);

// A rare word (one job): a unique order number, longer than the indexed
// prefixes, so the candidates of its first 6 letters are checked.
void BM_SearchOneMatch(benchmark::State& state) {
  Run(state, ListQuery{.text = fmt::format("ord{:07}", Shared().jobs / 2)});
}
BENCHMARK(BM_SearchOneMatch)->Unit(benchmark::kMicrosecond)->MinTime(2);

// A pasted id prefix (8 hex digits, as a UUID's first group) and a whole id.
void BM_SearchIdPrefix(benchmark::State& state) {
  Run(state, ListQuery{.text = Shared().ids[Shared().jobs / 2].substr(0, 8)});
}
BENCHMARK(BM_SearchIdPrefix)->Unit(benchmark::kMicrosecond)->MinTime(2);
void BM_SearchWholeId(benchmark::State& state) {
  Run(state, ListQuery{.text = Shared().ids[Shared().jobs / 3]});
}
BENCHMARK(BM_SearchWholeId)->Unit(benchmark::kMicrosecond)->MinTime(2);

// A word no job has.
void BM_SearchNoMatch(benchmark::State& state) { Run(state, ListQuery{.text = "xylophone"}); }
BENCHMARK(BM_SearchNoMatch)->Unit(benchmark::kMicrosecond)->MinTime(2);

// Two words (1 in 12 and 1 in 10): their intersection, 1 in 120.
void BM_SearchTwoWords(benchmark::State& state) { Run(state, ListQuery{.text = "maria osaka"}); }
BENCHMARK(BM_SearchTwoWords)->Unit(benchmark::kMicrosecond)->MinTime(2);

// A two-letter prefix that matches most jobs.
void BM_SearchShortPrefix(benchmark::State& state) { Run(state, ListQuery{.text = "fo"}); }
BENCHMARK(BM_SearchShortPrefix)->Unit(benchmark::kMicrosecond)->MinTime(2);

// Writing into the big store: batches of 100 new jobs (each a new external
// ref, so the projector reads a count key that misses the memtable) —
// what made building it slow down as it grew.
void BM_EnqueueIntoLargeStore(benchmark::State& state) {
  Store& s = Shared();
  for (auto _ : state) {
    std::vector<WriteCommand> batch;
    const size_t from = s.next.fetch_add(100);
    for (size_t i = from; i < from + 100; ++i) batch.emplace_back(NewJob(i));
    Check(s.store->WriteMany(std::move(batch)), nullptr);
  }
  state.counters["jobs/s"] =
      benchmark::Counter(double(state.iterations() * 100), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EnqueueIntoLargeStore)->Unit(benchmark::kMillisecond)->MinTime(2)->UseRealTime();

// A status read of a random job (GET /v1/jobs/{id} below HTTP): mostly not
// in the status cache, so a point read of the views.
void BM_StatusReadLargeStore(benchmark::State& state) {
  Store& s = Shared();
  std::mt19937_64 rng(7);
  for (auto _ : state) {
    auto doc = s.store->Status(s.ids[rng() % s.ids.size()]);
    if (!doc) state.SkipWithError("status read failed");
    benchmark::DoNotOptimize(doc);
  }
}
BENCHMARK(BM_StatusReadLargeStore)->Unit(benchmark::kMicrosecond)->MinTime(2);

}  // namespace
}  // namespace jobtrail

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  jobtrail::CloseAndRemove(jobtrail::shared_store);
  return 0;
}
