// The fast rebuild (rebuild.h) and RocksJobStore::Rebuild, which runs it.
#include "projections/rebuild.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "projections/projector.h"
#include "projections/rebuild_partition.h"
#include "projections/rocks_job_store.h"
#include "projections/view_keys.h"

namespace jobtrail {
namespace vk = view_keys;
namespace fs = std::filesystem;
namespace {

using rebuild::EventBatch;
using rebuild::Partition;

constexpr size_t kBatchEvents = 1024;  // events per hand-off to a partition
constexpr uint64_t kProgressEvery = 1 << 16;
constexpr size_t kLastRunParts = 2;

// The last run's rows: everything that sums up the whole log.
class LastRun final : public RowSink {
 public:
  explicit LastRun(SortedRun& run) : run_(run) {}
  void Put(std::string_view key, std::string_view value) override { run_.Put(key, value); }
  void Delete(std::string_view key) override { run_.Delete(key); }
  void Count(std::string_view, int64_t) override {}  // summed by the caller

 private:
  SortedRun& run_;
};

// Counts, unique keys, stats, the series, the checkpoint and the format
// that ends the rebuild, from every partition's share.
void WriteLastRun(std::vector<std::unique_ptr<Partition>>& partitions, uint64_t checkpoint,
                  SortedRun& run) {
  LastRun sink(run);
  Partition& first = *partitions.front();
  std::vector<rebuild::OrderedRow> ordered = std::move(first.ordered());
  for (size_t i = 1; i < partitions.size(); ++i) {
    Partition& p = *partitions[i];
    first.stats().MergeFrom(p.stats());
    first.series().MergeFrom(p.series());
    for (auto& [key, delta] : p.counts()) first.counts()[key] += delta;
    for (auto& row : p.ordered()) ordered.push_back(std::move(row));
  }
  // Unique keys in the order their holders were enqueued (rebuild_rows.h).
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
    return a.created_position < b.created_position;
  });
  for (const auto& row : ordered) {
    if (row.deleted) {
      run.Delete(row.key);
    } else {
      run.Put(row.key, row.value);
    }
  }
  first.series().WriteFresh(sink);
  for (const auto& [key, count] : first.counts()) {
    // The views started empty: a count is the sum of its deltas.
    if (count > 0) run.Put(key, vk::EncodeU64(uint64_t(count)));
  }
  StatsState& stats = first.stats();
  run.Put(vk::kStatsKey, stats.Serialize());
  for (const std::string& type : stats.TakeChangedTypes()) {
    run.Put(std::string(vk::kTypeStatsPrefix) + type, stats.SerializeType(type));
  }
  run.Put(vk::kCheckpointKey, vk::EncodeU64(checkpoint));
  run.Put(vk::kFormatKey, vk::kViewsFormat);
}

size_t PartitionCount(const RebuildOptions& options) {
  if (options.partitions > 0) return options.partitions;
  return std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
}

}  // namespace

Result<void> RebuildViews(eventstore::EventLog& log, uint64_t last, rocksdb::DB& views,
                          const RebuildOptions& options,
                          const std::function<void(uint64_t, uint64_t)>& progress) {
  std::error_code ec;
  fs::remove_all(options.scratch_dir, ec);
  fs::create_directories(options.scratch_dir, ec);
  if (ec) {
    return Internal(fmt::format("views rebuild: cannot create {}: {}", options.scratch_dir,
                                ec.message()));
  }
  rebuild::Failure failure;
  const size_t n = PartitionCount(options);
  std::vector<std::unique_ptr<Partition>> partitions;
  std::vector<EventBatch> filling(n);
  for (size_t i = 0; i < n; ++i) {
    rebuild::PartitionOptions p;
    // A partition's first run is its share of a run, so that writing starts
    // early; later ones are whole runs: ingested runs overlap (each holds
    // every kind of row) and pile up in level 0, and twice as many runs,
    // half as big, stalled a 10,000,000-event rebuild on level-0 files and
    // a compaction of gigabytes (36 s, then 20 s more to close; 25 s so).
    p.first_run_bytes = std::max<size_t>(options.run_bytes / n, 1);
    p.run_bytes = options.run_bytes;
    p.max_active_jobs = std::max<size_t>(options.max_active_jobs / n, 1);
    p.path_prefix = fmt::format("{}/p{}-run", options.scratch_dir, i);
    partitions.push_back(std::make_unique<Partition>(log, views, std::move(p), failure));
    if (auto batch = partitions.back()->TakeBatch()) filling[i] = std::move(*batch);
  }
  // This thread reads the log and deals each event to its job's partition.
  uint64_t position = 0;
  auto hand_off = [&](size_t i) {
    if (filling[i].refs.empty()) return true;
    if (!partitions[i]->Fold(std::move(filling[i]))) return false;
    auto next = partitions[i]->TakeBatch();
    if (!next) return false;
    filling[i] = std::move(*next);
    return true;
  };
  auto scanned = log.Scan(1, last, [&](const eventstore::EventRef& ref) {
    if (ref.position != position + 1) {
      failure.Set(DataLoss(
          fmt::format("rebuild at {} was given position {}", position, ref.position)));
      return false;
    }
    position = ref.position;
    const size_t i = n == 1 ? 0 : std::hash<std::string_view>{}(ref.stream) % n;
    filling[i].Add(ref.position, ref.stream, ref.version, ref.data);
    if (filling[i].refs.size() >= kBatchEvents && !hand_off(i)) return false;
    if (ref.position % kProgressEvery == 0 && progress) progress(ref.position, last);
    return !failure.failed();
  });
  if (!scanned) failure.Set(FromStoreError(scanned.error()));
  if (!failure.failed() && position != last) {
    failure.Set(DataLoss(
        fmt::format("the log ends at position {}, before its head {}", position, last)));
  }
  for (size_t i = 0; i < n && !failure.failed(); ++i) (void)hand_off(i);
  for (auto& p : partitions) {
    if (failure.failed()) {
      p->Abort();
    } else {
      p->Finish();
    }
  }
  if (!failure.failed()) {
    // The last run, once every partition's runs are in: it sets the format.
    SortedRun run;
    WriteLastRun(partitions, last, run);
    if (auto written = rebuild::WriteAndIngest(run, views, options.scratch_dir + "/last",
                                               kLastRunParts);
        !written) {
      failure.Set(written.error());
    }
  }
  partitions.clear();
  fs::remove_all(options.scratch_dir, ec);
  if (auto error = failure.error()) return *error;
  if (progress) progress(last, last);
  return Ok();
}

// A log that compaction archived parts of is refolded through the
// projector: the archive's jobs first (whole, in version order: they count
// in the stats), then the log's own events across its gaps. (The sorted
// runs above assume every position is in the log.)
Result<void> RocksJobStore::RefoldWithArchive(
    uint64_t last, const std::function<void(uint64_t, uint64_t)>& progress) {
  constexpr size_t kRefoldBatch = 32768;  // a job's whole lifecycle mostly in one
  std::lock_guard lock(projector_mu_);
  BOOST_OUTCOME_TRYV(FoldArchive(*projector_, last));
  uint64_t position = 0;
  while (position < last) {
    auto batch = log_->ReadAll(position + 1, kRefoldBatch);
    if (!batch) return FromStoreError(batch.error());
    if (batch.value().empty()) break;
    BOOST_OUTCOME_TRYV(projector_->ApplyBatch(batch.value()));
    position = batch.value().back().position;
    if (progress) progress(position, last);
  }
  for (;;) {  // trailing archived ranges
    BOOST_OUTCOME_TRY(skipped, projector_->SkipArchived());
    if (!skipped) break;
  }
  (void)views_->Flush(rocksdb::FlushOptions());  // best effort: rebuildable
  if (progress) progress(last, last);
  return Ok();
}

Result<void> RocksJobStore::Rebuild(const std::function<void(uint64_t, uint64_t)>& progress) {
  if (options_.read_only) {
    return MakeError(Code::kFailedPrecondition, "READ_ONLY", "the store is open read-only");
  }
  StopProjection();
  {
    std::lock_guard lock(projector_mu_);
    projector_.reset();
    if (views_recovery_) views_recovery_->Stop();
    if (views_) {
      (void)views_->Close();  // the views are about to be destroyed anyway
      views_.reset();
    }
    rocksdb::Options destroy;
    if (options_.env != nullptr) destroy.env = options_.env;
    rocksdb::Status s = rocksdb::DestroyDB(views_dir_, destroy);
    if (!s.ok()) return Internal(fmt::format("views: {}", s.ToString()));
  }
  BOOST_OUTCOME_TRYV(OpenViews(true));
  const uint64_t last = log_->LastPosition();
  auto archived = rocks_log_ != nullptr ? rocks_log_->ArchivedThrough()
                                         : eventstore::StoreResult<uint64_t>(0);
  if (!archived) return FromStoreError(archived.error());
  // Until the rebuild sets the real format, these views are unfinished (an
  // open finding them so rebuilds them again).
  rocksdb::WriteOptions synced;
  synced.sync = true;
  rocksdb::Status s = views_->Put(synced, vk::kFormatKey, vk::kRebuildingFormat);
  if (!s.ok()) return Internal(fmt::format("views: {}", s.ToString()));
  if (archived.value() > 0) {
    BOOST_OUTCOME_TRYV(RefoldWithArchive(last, progress));
    s = views_->Put(synced, vk::kFormatKey, vk::kViewsFormat);
    if (!s.ok()) return Internal(fmt::format("views: {}", s.ToString()));
  } else {
    RebuildOptions options;
    options.scratch_dir = views_dir_ + ".rebuild";
    BOOST_OUTCOME_TRYV(RebuildViews(*log_, last, *views_, options, progress));
  }
  {
    std::lock_guard lock(projector_mu_);
    status_cache_.Clear();
    BOOST_OUTCOME_TRYV(projector_->Load());
    BOOST_OUTCOME_TRYV(LoadClaimIndex());
    BOOST_OUTCOME_TRYV(LoadLeaseIndex());
  }
  {
    std::lock_guard lock(progress_mu_);
    projected_ = projector_->checkpoint();
  }
  StartProjection();
  return Ok();
}

}  // namespace jobtrail
