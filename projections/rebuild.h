#pragma once
// `jobtrail rebuild`: every read model refolded from the whole log, fast.
//
// One pass over the log (EventLog::Scan) deals each event to a partition
// by its job's id (jobs are independent); each partition (one per core,
// rebuild_partition.h) decodes and folds its jobs in memory, turns each
// job's first and last state into its rows with the projector's own code
// (view_rows.h) once it is final (or when the log ends), collects them in
// SortedRuns, and sorts each full run into an SST file that is ingested.
// Each job's rows are written once, not once per event, and nothing goes
// through a memtable. Counts, unique keys, stats, the series and the
// checkpoint, summed over the partitions, go into the last run.
//
// Crash safety: the views' format key says "rebuilding" until the last run
// (which sets the real format and the checkpoint) is ingested, so views
// left by a rebuild cut short are refused at the next open and rebuilt.
#include <rocksdb/db.h>

#include <functional>
#include <string>

#include "domain/error.h"
#include "eventstore/event_log.h"
#include "projections/stats_state.h"

namespace jobtrail {

struct RebuildOptions {
  // Rows a run holds before it is written (bytes of keys and values).
  size_t run_bytes = size_t{256} << 20;
  // Jobs folded in memory at most; past it every unfinished job is handed
  // on, and refolded from its stream if it has more events.
  size_t max_active_jobs = 1 << 18;
  // Partitions the jobs are folded in side by side (0: one per core).
  // Each has up to two runs in memory (its first is run_bytes / partitions);
  // max_active_jobs is shared among them.
  size_t partitions = 0;
  // Where run files are written before they are ingested (same file system
  // as the views: they are moved, not copied). Created and removed.
  std::string scratch_dir;
};

// Rebuilds `views` (an empty database whose format key is
// kRebuildingFormat) from `log` up to `last`. `progress` (may be empty) is
// called on this thread with (position, last).
Result<void> RebuildViews(eventstore::EventLog& log, uint64_t last, rocksdb::DB& views,
                          const RebuildOptions& options,
                          const std::function<void(uint64_t, uint64_t)>& progress);

}  // namespace jobtrail
