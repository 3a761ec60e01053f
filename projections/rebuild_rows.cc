#include "projections/rebuild_rows.h"

#include <fmt/format.h>

#include "projections/job_json.h"
#include "projections/projector.h"
#include "projections/search_index.h"
#include "projections/view_keys.h"

namespace jobtrail::rebuild {
namespace vk = view_keys;
namespace {

// view_keys.h: "k" owner 0 unique key.
bool IsUniqueKey(std::string_view key) { return !key.empty() && key[0] == 'k'; }

}  // namespace

void RowWriter::Put(std::string_view key, std::string_view value) {
  if (IsUniqueKey(key)) {
    ordered_.push_back(OrderedRow{created_position_, ordered_.size(), std::string(key),
                                  std::string(value), false});
    return;
  }
  run_->Put(key, value);
}

void RowWriter::Delete(std::string_view key) {
  if (IsUniqueKey(key)) {
    ordered_.push_back(OrderedRow{created_position_, ordered_.size(), std::string(key), {}, true});
    return;
  }
  run_->Delete(key);
}

void RowWriter::Count(std::string_view key, int64_t delta) {
  auto it = counts_.find(key);
  if (it == counts_.end()) it = counts_.emplace(std::string(key), 0).first;
  it->second += delta;
}

void RowWriter::WriteLogLine(const std::string& job_id, const LogLine& line) {
  run_->Put(vk::LogKey(job_id, line.seq), RenderLogLineJson(line));
}

// As Projector::ApplyBatch does with a batch's first and last state.
void RowWriter::WriteJob(const JobView* first_or_null, const JobView& job,
                         const std::vector<std::string>& words, size_t stored_words) {
  static const JobView kNone;
  const JobView& first = first_or_null != nullptr ? *first_or_null : kNone;
  created_position_ = job.created_position;
  if (job.expired_at) {
    if (first.status != JobStatus::kNone) {
      JobView rows = first;
      rows.log_count = job.log_count;
      RemoveJobRows(rows, *this);
      RemoveSearchRows(SearchJob::Of(first), words, stored_words, *this);
    } else {
      for (uint64_t seq = 1; seq <= job.log_count; ++seq) Delete(vk::LogKey(job.job_id, seq));
    }
    return;
  }
  UpdateIndexRows(first, job, *this);
  WriteSearchRows(SearchJob::Of(job), words, stored_words, first.status != JobStatus::kNone,
                  *this);
  Put(vk::JobKey(job.job_id), EncodeStatusRecord(job, RenderJobJson(job)));
}

Result<void> Ingest(rocksdb::DB& views, const std::vector<std::string>& paths) {
  if (paths.empty()) return Ok();
  rocksdb::IngestExternalFileOptions ingest;
  ingest.move_files = true;
  // Files of one run have disjoint ranges: one ingestion takes them all.
  rocksdb::Status s = views.IngestExternalFile(paths, ingest);
  if (!s.ok()) {
    return Internal(fmt::format("views rebuild: ingesting {}: {}", paths.front(), s.ToString()));
  }
  return Ok();
}

Result<void> WriteAndIngest(SortedRun& run, rocksdb::DB& views, const std::string& path_prefix,
                            size_t parts) {
  BOOST_OUTCOME_TRY(paths, run.WriteTo(views.GetOptions(), path_prefix, parts));
  return Ingest(views, paths);
}

bool IngestOrder::WaitTurn(size_t number) {
  std::unique_lock lock(mu_);
  turn_.wait(lock, [&] { return next_ == number || aborted_; });
  return !aborted_;
}

void IngestOrder::Done(size_t number) {
  std::lock_guard lock(mu_);
  next_ = number + 1;
  turn_.notify_all();
}

void IngestOrder::Abort() {
  std::lock_guard lock(mu_);
  aborted_ = true;
  turn_.notify_all();
}

void WriteRuns(Channel<RunToWrite>& runs, Channel<RunPtr>& free_runs, rocksdb::DB& views,
               const std::string& path_prefix, IngestOrder& order, Failure& failure) {
  while (auto job = runs.Pop()) {
    auto written = job->run->WriteTo(views.GetOptions(),
                                     fmt::format("{}-{:06}", path_prefix, job->number), job->parts);
    if (!order.WaitTurn(job->number)) return;  // another writer failed
    Result<void> ingested = written ? Ingest(views, written.value()) : Result<void>(written.error());
    if (!ingested) {
      failure.Set(ingested.error());
      order.Abort();
      return;
    }
    order.Done(job->number);
    job->run->Clear();
    (void)free_runs.Push(std::move(job->run));  // closed: the rebuild is over
  }
}

}  // namespace jobtrail::rebuild
