#pragma once
// One partition of a rebuild (rebuild.h): the jobs whose id hashes to it.
// Three threads: one decodes its events (EventBatch, from the reader) and
// folds them into their jobs, their search words, the stats and the
// per-minute series, and turns each job into rows once it is final; two
// sort full runs into SST files and ingest them in turn (two: the last
// run need not wait while the one before it is written). Jobs are
// independent, so partitions never wait for each other. Internal to
// rebuild*.cc.
#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "eventstore/event_log.h"
#include "projections/rebuild_pipeline.h"
#include "projections/rebuild_rows.h"
#include "projections/search_terms.h"
#include "projections/series_index.h"
#include "projections/stats_state.h"

namespace jobtrail::rebuild {

struct PartitionOptions {
  size_t first_run_bytes = 0;  // the first run's size; later ones: run_bytes
  size_t run_bytes = 0;
  size_t max_active_jobs = 0;
  std::string path_prefix;  // of its run files
};

class Partition {
 public:
  Partition(eventstore::EventLog& log, rocksdb::DB& views, PartitionOptions options,
            Failure& failure);
  ~Partition();
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;

  // The reader's side: an empty batch to fill (blocks while every batch is
  // in use), and a full one to fold. False: the rebuild failed.
  std::optional<EventBatch> TakeBatch() { return free_batches_.Pop(); }
  bool Fold(EventBatch batch) { return batches_.Push(std::move(batch)); }
  // No more batches: folds what is queued, hands on every unfinished job,
  // writes and ingests the last run, and returns when its threads are done.
  void Finish();
  // Stops its threads at once (another thread failed).
  void Abort();

  // After Finish: what the last run of the rebuild sums up.
  StatsState& stats() { return stats_; }
  SeriesIndex& series() { return series_; }
  Counts& counts() { return rows_.counts(); }
  std::vector<OrderedRow>& ordered() { return rows_.ordered(); }

 private:
  struct Active {
    std::unique_ptr<JobView> job;
    std::unique_ptr<JobView> first;  // as in RowWriter::WriteJob
    search::TokenSet words;
    size_t stored_words = 0;
  };

  void FoldLoop();
  void Join();
  Result<void> Apply(const EventBatch& batch, const EventBatch::Ref& ref);
  Result<void> HandOn(Active& active);
  Result<void> HandOnActive();
  Result<JobView> FoldStream(const std::string& job_id, uint64_t through_version,
                             search::TokenSet& words);

  eventstore::EventLog& log_;
  rocksdb::DB& views_;
  const PartitionOptions options_;
  Failure& failure_;
  Channel<EventBatch> batches_;
  Channel<EventBatch> free_batches_;
  // Two runs take turns: one is filled while the other is written.
  Channel<RunToWrite> runs_;
  Channel<RunPtr> free_runs_;
  IngestOrder ingest_order_;
  size_t runs_filled_ = 0;
  RowWriter rows_;
  std::unordered_map<std::string, Active> active_;
  StatsState stats_;
  SeriesIndex series_;
  std::thread fold_thread_;
  std::vector<std::thread> write_threads_;
};

}  // namespace jobtrail::rebuild
