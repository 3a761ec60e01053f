// The fast rebuild (rebuild.h) and RocksJobStore::Rebuild, which runs it.
#include "projections/rebuild.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <variant>

#include "projections/job_json.h"
#include "projections/projector.h"
#include "projections/rocks_job_store.h"
#include "projections/search_index.h"
#include "projections/series_index.h"
#include "projections/sorted_runs.h"
#include "projections/view_keys.h"
#include "projections/view_rows.h"
#include "schemas/event_codec.h"

namespace jobtrail {
namespace vk = view_keys;
namespace fs = std::filesystem;
namespace {

constexpr size_t kHandOffItems = 512;  // items per hand-off between threads
constexpr size_t kItemQueueDepth = 16;
constexpr uint64_t kProgressEvery = 1 << 16;
constexpr size_t kLastRunParts = 2;

// A bounded queue between two threads. Close(): no more pushes, pops drain
// what is there. Abort(): everything is dropped and nobody waits any more.
template <typename T>
class Channel {
 public:
  explicit Channel(size_t depth) : depth_(depth) {}
  bool Push(T item) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return items_.size() < depth_ || closed_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }
  std::optional<T> Pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !items_.empty() || closed_; });
    if (items_.empty() || aborted_) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }
  void Close(bool abort = false) {
    std::lock_guard lock(mu_);
    closed_ = true;
    aborted_ = aborted_ || abort;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

 private:
  const size_t depth_;
  std::mutex mu_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<T> items_;  // GUARDED_BY(mu_)
  bool closed_ = false;  // GUARDED_BY(mu_)
  bool aborted_ = false;  // GUARDED_BY(mu_)
};

// A job done folding: its rows go from those of `first` (what earlier runs
// wrote for it; null for a job new to the views) to those of `last`.
struct FoldedJob {
  std::unique_ptr<JobView> first;
  std::unique_ptr<JobView> last;
  // Its search words (search_index.h): [0, stored_words) are those of
  // `first`, already in the views.
  std::vector<std::string> words;
  size_t stored_words = 0;
};
struct LogRow {
  std::string job_id;
  LogLine line;
};
// A row of its own per event (a webhook subscription's attempt).
struct EventRow {
  std::string key;
  std::string value;
};
using Item = std::variant<FoldedJob, LogRow, EventRow>;
using Items = std::vector<Item>;
using RunPtr = std::unique_ptr<SortedRun>;

// The first error of any thread; it stops the others.
class Failure {
 public:
  void Set(Error error) {
    std::lock_guard lock(mu_);
    if (!error_) error_ = std::move(error);
    failed_.store(true);
  }
  bool failed() const { return failed_.load(); }
  std::optional<Error> error() {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  std::atomic<bool> failed_{false};
  std::mutex mu_;
  std::optional<Error> error_;
};

// The second thread: rows of folded jobs into runs.
class RowWriter final : public RowSink {
 public:
  RowWriter(size_t run_bytes, RunPtr run) : run_bytes_(run_bytes), run_(std::move(run)) {}

  void Put(std::string_view key, std::string_view value) override { run_->Put(key, value); }
  void Delete(std::string_view key) override { run_->Delete(key); }
  void Count(std::string_view key, int64_t delta) override {
    auto it = counts_.find(key);
    if (it == counts_.end()) it = counts_.emplace(std::string(key), 0).first;
    it->second += delta;
  }

  void Write(const Item& item) {
    if (const auto* log = std::get_if<LogRow>(&item)) {
      run_->Put(vk::LogKey(log->job_id, log->line.seq), RenderLogLineJson(log->line));
      return;
    }
    if (const auto* row = std::get_if<EventRow>(&item)) {
      run_->Put(row->key, row->value);
      return;
    }
    // As Projector::ApplyBatch does with a batch's first and last state.
    const auto& folded = std::get<FoldedJob>(item);
    static const JobView kNone;
    const JobView& first = folded.first ? *folded.first : kNone;
    const JobView& job = *folded.last;
    if (job.expired_at) {
      if (first.status != JobStatus::kNone) {
        JobView rows = first;
        rows.log_count = job.log_count;
        RemoveJobRows(rows, *this);
        RemoveSearchRows(SearchJob::Of(first), folded.words, folded.stored_words, *this);
      } else {
        for (uint64_t seq = 1; seq <= job.log_count; ++seq) Delete(vk::LogKey(job.job_id, seq));
      }
      return;
    }
    UpdateIndexRows(first, job, *this);
    WriteSearchRows(SearchJob::Of(job), folded.words, folded.stored_words,
                    first.status != JobStatus::kNone, *this);
    Put(vk::JobKey(job.job_id), EncodeStatusRecord(job, RenderJobJson(job)));
  }

  bool full() const { return run_->bytes() >= run_bytes_; }
  // Hands over the full run and goes on with `next` (an empty one).
  RunPtr TakeRun(RunPtr next) { return std::exchange(run_, std::move(next)); }

  // The rows that describe the whole log, last: counts, stats, the
  // checkpoint and the format that ends the rebuild.
  void Finish(uint64_t checkpoint, StatsState& stats, SeriesIndex& series) {
    series.WriteFresh(*this);
    for (const auto& [key, count] : counts_) {
      // The views started empty: a count is the sum of its deltas.
      if (count > 0) Put(key, vk::EncodeU64(uint64_t(count)));
    }
    Put(vk::kStatsKey, stats.Serialize());
    for (const std::string& type : stats.TakeChangedTypes()) {
      Put(std::string(vk::kTypeStatsPrefix) + type, stats.SerializeType(type));
    }
    Put(vk::kCheckpointKey, vk::EncodeU64(checkpoint));
    Put(vk::kFormatKey, vk::kViewsFormat);
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  const size_t run_bytes_;
  RunPtr run_;
  std::unordered_map<std::string, int64_t, Hash, std::equal_to<>> counts_;
};

// A full run and the files to write it to at once (more than one for the
// last run, when the other threads are done).
struct RunToWrite {
  RunPtr run;
  size_t parts = 1;
};

// The third thread: each run sorted into files and ingested, in order,
// then emptied and handed back to be filled again.
void WriteRuns(Channel<RunToWrite>& runs, Channel<RunPtr>& free_runs, rocksdb::DB& views,
               const std::string& scratch_dir, Failure& failure) {
  const rocksdb::Options options = views.GetOptions();
  rocksdb::IngestExternalFileOptions ingest;
  ingest.move_files = true;
  for (size_t n = 1; auto job = runs.Pop(); ++n) {
    auto written = job->run->WriteTo(options, fmt::format("{}/run-{:06}", scratch_dir, n),
                                     job->parts);
    if (!written) {
      failure.Set(written.error());
      return;
    }
    job->run->Clear();
    (void)free_runs.Push(std::move(job->run));  // closed: the rebuild is over
    if (written.value().empty()) continue;
    // Files of one run have disjoint ranges: one ingestion takes them all.
    rocksdb::Status s = views.IngestExternalFile(written.value(), ingest);
    if (!s.ok()) {
      failure.Set(Internal(fmt::format("views rebuild: ingesting run {}: {}", n, s.ToString())));
      return;
    }
  }
}

// The first thread: every event decoded and folded into its job, its search
// words, the stats and the per-minute series; a job is handed on when it is
// final (only an expiry or, rarely, a manual retry can follow: those refold
// it from its stream).
class Folder {
 public:
  Folder(eventstore::EventLog& log, Channel<Items>& out, size_t max_active)
      : log_(log), out_(out), max_active_(max_active) {}

  Result<void> Apply(const eventstore::EventRef& ref) {
    if (ref.position != position_ + 1) {
      return DataLoss(fmt::format("rebuild at {} was given position {}", position_, ref.position));
    }
    BOOST_OUTCOME_TRY(decoded, DecodeEvent(ref.data));
    RecordedEvent event = std::move(decoded);
    event.position = ref.position;
    if (event.job_id != ref.stream || event.version != ref.version) {
      return DataLoss(fmt::format("position {}: event says job {} v{}, log says {} v{}",
                                  ref.position, event.job_id, event.version, ref.stream,
                                  ref.version));
    }
    auto it = active_.find(event.job_id);
    if (it == active_.end()) {
      Active fresh;
      if (event.version > 1) {
        // Handed on already (an expiry after its end, or more than
        // max_active jobs at once): its rows are in the views as of then.
        BOOST_OUTCOME_TRY(job, FoldStream(event.job_id, event.version - 1, fresh.words));
        fresh.first = std::make_unique<JobView>(job);
        fresh.job = std::make_unique<JobView>(std::move(job));
        fresh.stored_words = fresh.words.tokens().size();
      } else {
        fresh.job = std::make_unique<JobView>();
      }
      it = active_.emplace(event.job_id, std::move(fresh)).first;
    }
    JobView& job = *it->second.job;
    const JobStatus before_status = job.status;
    const int32_t before_attempts = job.attempts;
    BOOST_OUTCOME_TRYV(ApplyEvent(job, event));
    stats_.Apply(before_status, before_attempts, job, event);
    AddEventWords(event, it->second.words);
    series_.Observe(job, event);
    if (std::holds_alternative<Logged>(event.body)) {
      Emit(LogRow{job.job_id, *job.last_log});
    }
    // As Projector::ApplyBatch: a subscription's attempts have rows of their own.
    if (const auto* attempt = std::get_if<WebhookAttempted>(&event.body);
        attempt != nullptr && !attempt->webhook_id.empty()) {
      Emit(EventRow{vk::WebhookAttemptKey(attempt->webhook_id, event.position),
                    RenderWebhookAttemptJson(event, *attempt)});
    }
    if (IsFinal(job.status) || job.expired_at) {
      Emit(HandOn(it->second));
      active_.erase(it);
    } else if (active_.size() > max_active_) {
      HandOnActive();
    }
    position_ = ref.position;
    return Ok();
  }

  // The jobs still unfinished at the end of the log.
  bool Finish() {
    HandOnActive();
    return Flush();
  }
  bool Flush() {
    if (pending_.empty()) return true;
    return out_.Push(std::exchange(pending_, Items()));
  }
  uint64_t position() const { return position_; }
  StatsState& stats() { return stats_; }
  SeriesIndex& series() { return series_; }

 private:
  struct Active {
    std::unique_ptr<JobView> job;
    std::unique_ptr<JobView> first;  // as in FoldedJob
    search::TokenSet words;
    size_t stored_words = 0;
  };

  static FoldedJob HandOn(Active& active) {
    return FoldedJob{std::move(active.first), std::move(active.job),
                     std::move(active.words).Take(), active.stored_words};
  }

  void Emit(Item item) {
    pending_.push_back(std::move(item));
    if (pending_.size() >= kHandOffItems) (void)Flush();  // a closed channel: failed already
  }
  void HandOnActive() {
    for (auto& [id, active] : active_) Emit(HandOn(active));
    active_.clear();
  }
  Result<JobView> FoldStream(const std::string& job_id, uint64_t through_version,
                             search::TokenSet& words) {
    auto stored = log_.ReadStream(job_id, 1, through_version);
    if (!stored) return FromStoreError(stored.error());
    JobView job;
    for (const auto& s : stored.value()) {
      BOOST_OUTCOME_TRY(e, DecodeStored(s));
      BOOST_OUTCOME_TRYV(ApplyEvent(job, e));
      AddEventWords(e, words);
    }
    if (job.version != through_version) {
      return DataLoss(fmt::format("job {}: stream ends at v{} before v{}", job_id, job.version,
                                  through_version + 1));
    }
    return job;
  }

  eventstore::EventLog& log_;
  Channel<Items>& out_;
  const size_t max_active_;
  std::unordered_map<std::string, Active> active_;
  Items pending_;
  StatsState stats_;
  SeriesIndex series_;
  uint64_t position_ = 0;
};

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
  Failure failure;
  Channel<Items> items(kItemQueueDepth);
  // Two runs take turns: one is filled while the other is written.
  Channel<RunToWrite> runs(1);
  Channel<RunPtr> free_runs(2);
  (void)free_runs.Push(std::make_unique<SortedRun>());
  RowWriter rows(options.run_bytes, std::make_unique<SortedRun>());
  std::thread run_thread([&] {
    WriteRuns(runs, free_runs, views, options.scratch_dir, failure);
    if (failure.failed()) {
      runs.Close(/*abort=*/true);
      free_runs.Close(/*abort=*/true);
      items.Close(/*abort=*/true);
    }
  });
  std::thread row_thread([&] {
    while (auto batch = items.Pop()) {
      for (const Item& item : *batch) {
        rows.Write(item);
        if (!rows.full()) continue;
        auto next = free_runs.Pop();
        if (!next || !runs.Push(RunToWrite{rows.TakeRun(std::move(*next)), 1})) return;
      }
    }
  });

  Folder folder(log, items, options.max_active_jobs);
  auto scanned = log.Scan(1, last, [&](const eventstore::EventRef& ref) {
    if (auto applied = folder.Apply(ref); !applied) {
      failure.Set(applied.error());
      return false;
    }
    if (ref.position % kProgressEvery == 0 && progress) progress(ref.position, last);
    return !failure.failed();
  });
  if (!scanned) failure.Set(FromStoreError(scanned.error()));
  if (!failure.failed() && folder.position() != last) {
    failure.Set(DataLoss(
        fmt::format("the log ends at position {}, before its head {}", folder.position(), last)));
  }
  if (!failure.failed()) (void)folder.Finish();
  items.Close(/*abort=*/failure.failed());
  row_thread.join();
  if (!failure.failed()) {
    rows.Finish(last, folder.stats(), folder.series());
    // The last run: nothing else is left to do, so both cores write it.
    (void)runs.Push(RunToWrite{rows.TakeRun(nullptr), kLastRunParts});
  }
  runs.Close(/*abort=*/failure.failed());
  run_thread.join();
  free_runs.Close(/*abort=*/true);
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
  }
  {
    std::lock_guard lock(progress_mu_);
    projected_ = projector_->checkpoint();
  }
  StartProjection();
  return Ok();
}

}  // namespace jobtrail
