#include "projections/rebuild_partition.h"

#include <fmt/format.h>

#include "projections/job_json.h"
#include "projections/projector.h"
#include "projections/search_index.h"
#include "projections/view_keys.h"
#include "schemas/event_codec.h"

namespace jobtrail::rebuild {
namespace vk = view_keys;
namespace {

constexpr size_t kBatchQueueDepth = 16;  // batches queued per partition
constexpr int kWriteThreads = 2;
constexpr size_t kLastRunParts = 2;

}  // namespace

Partition::Partition(eventstore::EventLog& log, rocksdb::DB& views, PartitionOptions options,
                     Failure& failure)
    : log_(log),
      views_(views),
      options_(std::move(options)),
      failure_(failure),
      batches_(kBatchQueueDepth),
      free_batches_(kBatchQueueDepth + 2),
      runs_(1),
      free_runs_(2),
      rows_(options_.first_run_bytes, std::make_unique<SortedRun>()) {
  // Batches in use at most: the queued ones, one being folded, one being filled.
  for (size_t i = 0; i < kBatchQueueDepth + 2; ++i) (void)free_batches_.Push(EventBatch{});
  (void)free_runs_.Push(std::make_unique<SortedRun>());
  for (int i = 0; i < kWriteThreads; ++i) {
    write_threads_.emplace_back([this] {
      WriteRuns(runs_, free_runs_, views_, options_.path_prefix, ingest_order_, failure_);
      if (failure_.failed()) {
        ingest_order_.Abort();
        runs_.Close(/*abort=*/true);
        free_runs_.Close(/*abort=*/true);
        batches_.Close(/*abort=*/true);
        free_batches_.Close(/*abort=*/true);
      }
    });
  }
  fold_thread_ = std::thread([this] { FoldLoop(); });
}

Partition::~Partition() {
  if (fold_thread_.joinable() || !write_threads_.empty()) Abort();
}

void Partition::Join() {
  if (fold_thread_.joinable()) fold_thread_.join();
  for (std::thread& t : write_threads_) t.join();
  write_threads_.clear();
}

void Partition::Finish() {
  batches_.Close();
  Join();
}

void Partition::Abort() {
  batches_.Close(/*abort=*/true);
  free_batches_.Close(/*abort=*/true);
  runs_.Close(/*abort=*/true);
  free_runs_.Close(/*abort=*/true);
  ingest_order_.Abort();
  Join();
}

void Partition::FoldLoop() {
  auto fail = [&](Error error) {
    failure_.Set(std::move(error));
    batches_.Close(/*abort=*/true);
    free_batches_.Close(/*abort=*/true);
    runs_.Close(/*abort=*/true);
  };
  while (auto batch = batches_.Pop()) {
    for (const EventBatch::Ref& ref : batch->refs) {
      if (auto applied = Apply(*batch, ref); !applied) return fail(applied.error());
    }
    batch->Clear();
    (void)free_batches_.Push(std::move(*batch));  // closed: the rebuild failed
  }
  if (failure_.failed()) return fail(*failure_.error());
  if (auto handed = HandOnActive(); !handed) return fail(handed.error());
  // The last run: nothing else is left for this partition, and the other
  // partitions may be done already: written by two threads.
  (void)runs_.Push(RunToWrite{rows_.TakeRun(nullptr), ++runs_filled_, kLastRunParts});
  runs_.Close();
}

Result<void> Partition::Apply(const EventBatch& batch, const EventBatch::Ref& ref) {
  BOOST_OUTCOME_TRY(decoded, DecodeEvent(batch.data(ref)));
  RecordedEvent event = std::move(decoded);
  event.position = ref.position;
  if (event.job_id != batch.stream(ref) || event.version != ref.version) {
    return DataLoss(fmt::format("position {}: event says job {} v{}, log says {} v{}",
                                ref.position, event.job_id, event.version, batch.stream(ref),
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
  if (std::holds_alternative<Logged>(event.body)) rows_.WriteLogLine(job.job_id, *job.last_log);
  // As Projector::ApplyBatch: a subscription's attempts have rows of their own.
  if (const auto* attempt = std::get_if<WebhookAttempted>(&event.body);
      attempt != nullptr && !attempt->webhook_id.empty()) {
    rows_.WriteEventRow(vk::WebhookAttemptKey(attempt->webhook_id, event.position),
                        RenderWebhookAttemptJson(event, *attempt));
  }
  // A job is handed on when it is final (only an expiry or, rarely, a
  // manual retry can follow: those refold it from its stream).
  if (IsFinal(job.status) || job.expired_at) {
    BOOST_OUTCOME_TRYV(HandOn(it->second));
    active_.erase(it);
  } else if (active_.size() > options_.max_active_jobs) {
    BOOST_OUTCOME_TRYV(HandOnActive());
  }
  return Ok();
}

Result<void> Partition::HandOn(Active& active) {
  rows_.WriteJob(active.first.get(), *active.job, active.words.tokens(), active.stored_words);
  if (!rows_.full()) return Ok();
  auto next = free_runs_.Pop();
  if (!next || !runs_.Push(RunToWrite{rows_.TakeRun(std::move(*next)), ++runs_filled_, 1})) {
    return Internal("views rebuild: stopped");  // another thread failed first
  }
  rows_.set_run_bytes(options_.run_bytes);
  return Ok();
}

Result<void> Partition::HandOnActive() {
  for (auto& entry : active_) {
    BOOST_OUTCOME_TRYV(HandOn(entry.second));
  }
  active_.clear();
  return Ok();
}

Result<JobView> Partition::FoldStream(const std::string& job_id, uint64_t through_version,
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

}  // namespace jobtrail::rebuild
