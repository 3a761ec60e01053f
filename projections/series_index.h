#pragma once
// The history behind the dashboard's charts: per job type (and for all
// types, type "") and per minute, how many jobs were enqueued, started,
// completed, failed, retried and cancelled, and a histogram of the
// processing times of those that finished. Rows in the read-model database:
//
//   "m" type 0x00 minute(u64 BE, sortable) -> SeriesRow (series_index.cc)
//   "M"                                    -> newest event time (u64 BE, sortable)
//
// Rows older than kSeriesKeepDays whole days before the newest event are
// dropped (a range delete per type when that day boundary moves). A pure
// function of the log whatever the batching: a row is written only at or
// after the cutoff, and the cutoff depends only on the newest event.
//
// Not thread-safe: the Projector owns it; ReadSeries reads a snapshot.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "domain/error.h"
#include "domain/job_view.h"
#include "projections/series_query.h"
#include "projections/stats_state.h"
#include "projections/view_rows.h"

namespace jobtrail {

class SeriesIndex {
 public:
  // Reads the newest event time and the types that have rows.
  Result<void> Load(rocksdb::DB* views);
  // Accounts for one applied event (`after` is the job with it).
  void Observe(const JobView& after, const RecordedEvent& event);
  // Adds the rows changed since the last call (and any pruning) to `batch`.
  Result<void> Flush(rocksdb::DB* views, rocksdb::WriteBatch& batch);
  // The rebuild's: writes every row observed into views that hold none yet
  // (the rebuild observes the whole log, then writes once).
  void WriteFresh(RowSink& sink);
  // The rebuild's: adds what `other` observed (the events of other jobs:
  // a rebuild folds jobs in partitions), as if this one had observed them.
  void MergeFrom(const SeriesIndex& other);

  struct Row {
    SeriesCounts counts;
    DurationHistogram processing;
  };

 private:
  Millis Cutoff() const;

  Millis latest_ = 0;   // newest event seen
  Millis pruned_ = 0;   // rows before this are gone
  Millis pending_cutoff_ = 0;  // pending_ holds no minute before this
  std::set<std::string> types_;  // types with rows (and "")
  std::map<std::pair<std::string, Millis>, Row> pending_;
  // The rows of pending_ the last event went to (its type's and all types').
  Row* last_row_ = nullptr;
  Row* last_all_ = nullptr;
  std::string last_type_;
  Millis last_minute_ = 0;
};

// The points of `query` from a snapshot of the views (every step, zeros
// included). Errors: kInvalidArgument (bounds, step), kInternal, kDataLoss.
Result<std::vector<SeriesPoint>> ReadSeries(rocksdb::DB* views, const rocksdb::Snapshot* snapshot,
                                            const SeriesQuery& query);

}  // namespace jobtrail
