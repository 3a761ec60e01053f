#pragma once
// The rows a job has in the read models (view_keys.h), as changes from one
// state of the job to another. The live projector and the rebuild both
// write through these functions, so a rebuild cannot drift from what the
// projector writes: they differ only in where the rows go (a WriteBatch, or
// sorted files ingested whole; see RowSink).
#include <cstdint>
#include <optional>
#include <string_view>

#include "domain/job_view.h"
#include "projections/claim_index.h"

namespace jobtrail {

// Where rows go. Count rows are changed by deltas: the sink knows what they
// hold now.
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual void Put(std::string_view key, std::string_view value) = 0;
  virtual void Delete(std::string_view key) = 0;
  // The count row `key` (view_keys::CountKey) changes by `delta`.
  virtual void Count(std::string_view key, int64_t delta) = 0;
  // A claim row was written or removed (for the in-memory ClaimIndex).
  virtual void ClaimChanged(std::string_view queue, ClaimIndex::Entry entry, bool removed) {
    (void)queue;
    (void)entry;
    (void)removed;
  }
  // The job's lease moved (nullopt: it holds none now), for the in-memory
  // LeaseIndex: leases have no rows.
  virtual void LeaseChanged(std::string_view job_id, std::optional<Millis> deadline) {
    (void)job_id;
    (void)deadline;
  }
};

// The index rows and counts (list indexes, claim and unique-key rows; the
// lease, to the sink only) that turn a job's rows for `before` into those for `after`. A job
// that did not exist has before.status == kNone. Not the status record.
void UpdateIndexRows(const JobView& before, const JobView& after, RowSink& sink);

// Removes every row of `job` (its rows as of that state, and its log lines
// 1..job.log_count) and takes it out of the counts: an expired job.
void RemoveJobRows(const JobView& job, RowSink& sink);

}  // namespace jobtrail
