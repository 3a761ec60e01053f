// GET /v1/jobs?q= below HTTP: a search over a large store (default
// 1,000,000 jobs; JOBTRAIL_SEARCH_JOBS=N to change it), answered from the
// search index (projections/search_reader.h), beside the same-run reference
// of a plain list page from one list index.
//
//   search_bench --benchmark_filter=BM_
//
// The store is built once, unsynced, through the normal write path (the
// projector maintains the index as it would live); building it is not
// measured.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <utility>

#include "projections/job_store.h"

namespace jobtrail {
namespace {

constexpr const char* kNames[] = {"john", "jane", "maria", "ahmed", "wei", "olga", "pierre",
                                  "aiko", "carlos", "fatima", "liam", "noah"};
constexpr const char* kCities[] = {"lyon", "paris", "berlin", "madrid", "osaka", "lagos",
                                   "lima", "oslo", "quito", "hanoi"};

struct Store {
  std::string dir;
  std::unique_ptr<JobStore> store;
  size_t jobs = 0;
  Store() = default;
  Store(Store&& o) noexcept
      : dir(std::exchange(o.dir, {})), store(std::move(o.store)), jobs(o.jobs) {}
  ~Store() {  // a 1,000,000-job store is gigabytes: not left in /tmp
    store.reset();
    if (!dir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }
};

Store& Shared() {
  static Store s = [] {
    Store s;
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
    const auto start = std::chrono::steady_clock::now();
    std::vector<WriteCommand> batch;
    for (size_t i = 0; i < s.jobs; ++i) {
      EnqueueRequest r;
      r.spec.type = i % 3 ? "form-fill" : "pdf_chapter";
      r.spec.owner = fmt::format("owner-{}", i % 1000);
      r.spec.external_ref = fmt::format("ref{:08}", i);
      r.spec.payload_json = fmt::format(
          R"({{"formData":{{"firstName":"{}{}","city":"{}","order":"ord{:07}"}},"tracking":"trk{:012}"}})",
          kNames[i % 12], i % 97, kCities[(i / 12) % 10], i, i);
      r.actor = "bench";
      batch.emplace_back(std::move(r));
      if (batch.size() == 1000 || i + 1 == s.jobs) {
        for (auto& w : s.store->WriteMany(std::move(batch))) {
          if (!w) std::abort();
        }
        batch.clear();
      }
      if ((i + 1) % 100000 == 0) {
        std::fprintf(stderr, "  %zu jobs after %.1f s\n", i + 1,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                         .count());
      }
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "built %zu jobs in %.1f s (%.0f jobs/s through the projector)\n", s.jobs,
                 secs, double(s.jobs) / secs);
    return s;
  }();
  return s;
}

void Run(benchmark::State& state, ListQuery q) {
  Store& s = Shared();
  uint64_t total = 0;
  for (auto _ : state) {
    auto page = s.store->List(q);
    if (!page) state.SkipWithError(page.error().message.c_str());
    total = page.value().total;
    benchmark::DoNotOptimize(page);
  }
  state.counters["matches"] = double(total);
}

// The reference: one page of 50 from one list index, with its counter.
void BM_ListPageByType(benchmark::State& state) { Run(state, ListQuery{.type = "pdf_chapter"}); }
BENCHMARK(BM_ListPageByType)->Unit(benchmark::kMicrosecond)->MinTime(2);

// One match: a unique order number.
void BM_SearchOneMatch(benchmark::State& state) {
  Run(state, ListQuery{.text = fmt::format("ord{:07}", Shared().jobs / 2)});
}
BENCHMARK(BM_SearchOneMatch)->Unit(benchmark::kMicrosecond)->MinTime(2);

// A common word (1 job in 12): a page of 50 and a count to the ceiling.
void BM_SearchCommonWord(benchmark::State& state) { Run(state, ListQuery{.text = "maria"}); }
BENCHMARK(BM_SearchCommonWord)->Unit(benchmark::kMicrosecond)->MinTime(2);

// Two words (1 in 12 and 1 in 10): their intersection, 1 in 120.
void BM_SearchTwoWords(benchmark::State& state) { Run(state, ListQuery{.text = "maria osaka"}); }
BENCHMARK(BM_SearchTwoWords)->Unit(benchmark::kMicrosecond)->MinTime(2);

// A two-letter prefix that matches most jobs.
void BM_SearchShortPrefix(benchmark::State& state) { Run(state, ListQuery{.text = "fo"}); }
BENCHMARK(BM_SearchShortPrefix)->Unit(benchmark::kMicrosecond)->MinTime(2);

// A reader's search: a common word within one owner's 1,000 jobs.
void BM_SearchWithinOwner(benchmark::State& state) {
  Run(state, ListQuery{.owner = "owner-7", .text = "lyon"});
}
BENCHMARK(BM_SearchWithinOwner)->Unit(benchmark::kMicrosecond)->MinTime(2);

// A word longer than the indexed prefixes (checked against the job's tokens).
void BM_SearchLongWord(benchmark::State& state) {
  Run(state, ListQuery{.text = fmt::format("trk{:012}", Shared().jobs / 3)});
}
BENCHMARK(BM_SearchLongWord)->Unit(benchmark::kMicrosecond)->MinTime(2);

}  // namespace
}  // namespace jobtrail

BENCHMARK_MAIN();
