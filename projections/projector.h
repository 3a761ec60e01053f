#pragma once
// Turns log events into read-model updates: the status document, the list
// indexes and their counts, the lease index, log lines and the stats state.
// One batch of events becomes one RocksDB WriteBatch that also carries the
// checkpoint, so the views are always exactly "the log up to checkpoint".
//
// Not thread-safe: one projector thread calls ApplyBatch; Snapshot-style
// accessors are guarded by the caller (JobStore).
#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/error.h"
#include "domain/job_view.h"
#include "eventstore/event_log.h"
#include "projections/claim_index.h"
#include "projections/lease_index.h"
#include "projections/job_store.h"
#include "projections/search_index.h"
#include "projections/series_index.h"
#include "projections/stats_state.h"
#include "projections/status_cache.h"

namespace jobtrail {

// The value stored under view_keys::JobKey: metadata then the JSON.
std::string EncodeStatusRecord(const JobView& job, const std::string& json);
Result<StatusDocument> DecodeStatusRecord(std::string_view value);

// Decodes a stored log record into a domain event (position from the log).
Result<RecordedEvent> DecodeStored(const eventstore::StoredEvent& stored);
Result<std::vector<RecordedEvent>> DecodeAll(const std::vector<eventstore::StoredEvent>& stored);
Error FromStoreError(const eventstore::StoreError& e);
// kUnavailable/STORAGE_UNAVAILABLE with a fixed message (never a path).
Error StorageUnavailable();

class Projector {
 public:
  // `cache` (may be null) receives every status document written,
  // `claims` (may be null) every change of a claim row, and `leases` (may
  // be null) every lease that moved, once the batch is written.
  // `observer` (may be null) is told of each event once its batch is committed.
  Projector(rocksdb::DB* views, eventstore::EventLog* log, StatusCache* cache = nullptr,
            ClaimIndex* claims = nullptr, LeaseIndex* leases = nullptr,
            ProjectionObserver* observer = nullptr)
      : views_(views),
        log_(log),
        status_cache_(cache),
        claims_(claims),
        leases_(leases),
        observer_(observer) {}

  // Reads the checkpoint and the stats state from the views.
  Result<void> Load();
  // Applies events in position order, which must start right after the
  // checkpoint (or right after a range of it the log archived), and commits
  // them with the new checkpoint (unsynced: the views can always be rebuilt
  // from the log). `archived`: events read back from the log's archive
  // (whole jobs, in version order) for a fold of the whole history - any
  // positions, the checkpoint stays (store_archive.cc).
  Result<void> ApplyBatch(const std::vector<eventstore::StoredEvent>& events,
                          bool archived = false);
  // Moves the checkpoint past a range of the log that was archived right
  // after it (nothing to apply there). Returns whether it moved.
  Result<bool> SkipArchived();

  uint64_t checkpoint() const { return checkpoint_; }
  const StatsState& stats() const { return stats_; }

 private:
  struct ClaimChange {
    std::string queue;
    ClaimIndex::Entry entry;
    bool remove = false;
  };
  struct Batch;  // a RowSink (view_rows.h) into one WriteBatch
  Result<JobView> JobBefore(const RecordedEvent& event);

  rocksdb::DB* views_;
  eventstore::EventLog* log_;
  StatusCache* status_cache_;
  ClaimIndex* claims_;
  LeaseIndex* leases_;
  ProjectionObserver* observer_;
  uint64_t checkpoint_ = 0;
  StatsState stats_;
  // Dashboard read models, kept beside the others (their own files).
  SearchIndex search_;
  SeriesIndex series_;
  // Recently touched jobs, so a busy job is not refolded for every event.
  std::unordered_map<std::string, JobView> cache_;
};

}  // namespace jobtrail
