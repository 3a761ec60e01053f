#pragma once
// A rebuild partition's rows (rebuild.h): each folded job's rows, written
// with the projector's own code (view_rows.h, search_index.h) into a
// SortedRun, and the thread that sorts full runs into SST files and
// ingests them. Internal to rebuild*.cc.
//
// Partitions write their runs side by side, and a partition's runs may be
// ingested before or after another's: that is right because no two jobs
// share a row, except a unique key ("k" owner 0 key), which passes from
// one job to the next. Those rows are kept aside, ordered by the enqueue
// position of the job that wrote them, and go into the last run (the
// holders of one key follow each other in enqueue order: a job takes the
// key only when no other holds it). Counts are sums of deltas: each
// partition adds its own, and the last run writes the totals.
#include <rocksdb/db.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "domain/job_view.h"
#include "projections/rebuild_pipeline.h"
#include "projections/sorted_runs.h"
#include "projections/view_rows.h"

namespace jobtrail::rebuild {

using RunPtr = std::unique_ptr<SortedRun>;

// A unique-key row, kept aside (see above).
struct OrderedRow {
  uint64_t created_position = 0;  // of the job that wrote it
  uint64_t seq = 0;               // order of writing within its partition
  std::string key;
  std::string value;
  bool deleted = false;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using Counts = std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>>;

class RowWriter final : public RowSink {
 public:
  RowWriter(size_t run_bytes, RunPtr run) : run_bytes_(run_bytes), run_(std::move(run)) {}

  void Put(std::string_view key, std::string_view value) override;
  void Delete(std::string_view key) override;
  void Count(std::string_view key, int64_t delta) override;

  // A job done folding: its rows go from those of `first` (what earlier
  // runs wrote for it; null for a job new to the views) to those of
  // `last`. Its search words: [0, stored_words) are those of `first`.
  void WriteJob(const JobView* first, const JobView& last, const std::vector<std::string>& words,
                size_t stored_words);
  void WriteLogLine(const std::string& job_id, const LogLine& line);
  void WriteEventRow(std::string_view key, std::string_view value) { run_->Put(key, value); }

  bool full() const { return run_->bytes() >= run_bytes_; }
  void set_run_bytes(size_t bytes) { run_bytes_ = bytes; }
  // Hands over the full run and goes on with `next` (an empty one).
  RunPtr TakeRun(RunPtr next) { return std::exchange(run_, std::move(next)); }

  Counts& counts() { return counts_; }
  std::vector<OrderedRow>& ordered() { return ordered_; }

 private:
  size_t run_bytes_;
  RunPtr run_;
  Counts counts_;
  std::vector<OrderedRow> ordered_;
  uint64_t created_position_ = 0;  // of the job being written
};

// A full run, its number (1, 2, ... in the order it was filled) and the
// files to write it to at once (more than one when nothing else is left to
// do).
struct RunToWrite {
  RunPtr run;
  size_t number = 0;
  size_t parts = 1;
};

// Runs of one partition are written side by side but ingested in the order
// they were filled (a later run overwrites what an earlier one wrote for a
// job that was refolded).
class IngestOrder {
 public:
  // Waits until every run before `number` is ingested. False: aborted.
  bool WaitTurn(size_t number);
  void Done(size_t number);
  void Abort();

 private:
  std::mutex mu_;
  std::condition_variable turn_;
  size_t next_ = 1;       // GUARDED_BY(mu_)
  bool aborted_ = false;  // GUARDED_BY(mu_)
};

// Each run sorted into files named path_prefix-N-K.sst and ingested in
// turn, then emptied and handed back to `free_runs` to be filled again.
// Several threads may run it over the same channels.
void WriteRuns(Channel<RunToWrite>& runs, Channel<RunPtr>& free_runs, rocksdb::DB& views,
               const std::string& path_prefix, IngestOrder& order, Failure& failure);

// Writes `run` to files of `parts` disjoint ranges and ingests them
// (Ingest alone: files written already).
Result<void> WriteAndIngest(SortedRun& run, rocksdb::DB& views, const std::string& path_prefix,
                            size_t parts);
Result<void> Ingest(rocksdb::DB& views, const std::vector<std::string>& paths);

}  // namespace jobtrail::rebuild
