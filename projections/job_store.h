#pragma once
// JobStore: jobtrail's application service. The HTTP layer, the CLI and the
// dialects reach the log only through it, and each through the part it
// uses:
//   JobCommands     (job_commands.h)     enqueue, append, batches
//   JobReads        (job_reads.h)        status, history, logs, lists, feed,
//                                        stats, health, the clock
//   WorkerProtocol  (worker_protocol.h)  claim, round trip, heartbeat
//   JobSchedules    (job_schedules.h)    recurring jobs
//   StoreAdmin      (store_admin.h)      maintenance, audit trail, rebuild,
//                                        verify
// Writes wait until the projections have applied them (read-your-writes);
// reads come from the read models, which a projection thread keeps up to
// date from a log subscription and checkpoints with every batch.
//
// Thread-safe: every method may be called from any thread.
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "eventstore/config/config_store.h"
#include "domain/clock.h"
#include "domain/error.h"
#include "domain/retry_policy.h"
#include "eventstore/event_log.h"
#include "projections/job_commands.h"
#include "projections/job_reads.h"
#include "projections/job_schedules.h"
#include "projections/store_vitals.h"
#include "projections/projection_observer.h"
#include "projections/store_admin.h"
#include "projections/worker_protocol.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace jobtrail {

// An event log opened outside the store (JobStoreOptions::open_log).
struct ExternalLog {
  std::unique_ptr<eventstore::EventLog> log;
  // Tells logs apart (the PostgreSQL log's id): read models folded from
  // another log are refolded (projections/log_identity.h).
  std::string identity;
  // Whether the log can take writes now (a shared log's server reachable);
  // null: always. Readiness and the storage vitals report it.
  std::function<eventstore::StorageHealth()> health;
};

struct JobStoreOptions {
  std::string data_dir;  // holds log/ and views/
  bool sync = true;      // fsync the log before acknowledging (group commit)
  bool create_if_missing = true;
  // The event log; null: the embedded RocksDB log in <data_dir>/log. Set
  // for a log shared by several nodes (`--log postgresql://...`): the data
  // directory then holds this node's read models (views/) and no log/.
  std::function<eventstore::StoreResult<ExternalLog>()> open_log;
  // Where schedule definitions live (config/config_store.h); null: files in
  // data_dir. Nodes on a shared log share one (config/postgres/).
  std::shared_ptr<config::ConfigStore> config;
  const Clock* clock = nullptr;  // null: the system clock
  // A running job whose lease ended this long ago counts as stuck.
  Millis stuck_grace_ms = 0;
  // Backoff for jobs the store retries itself (errors on a leased attempt,
  // expired leases); a job's own enqueue fields override these.
  RetryPolicy default_retry;
  std::map<std::string, RetryPolicy> retry_by_type;
  // Uniform [0,1) for backoff jitter; null: a seeded PRNG. Tests inject it.
  std::function<double()> random;
  // Retention per job type: a job of the type is gone (JOB_NOT_FOUND) once
  // this long has passed since it was enqueued, and a maintenance pass
  // appends its expired event, which removes it from the read models. Its
  // events stay in the log (AuditHistory, export).
  std::map<std::string, Millis> retention_by_type;
  // Retention per job type for its failed and cancelled jobs (keep
  // failures longer, or shorter, than successes); a type without one here
  // uses retention_by_type for them too.
  std::map<std::string, Millis> failed_retention_by_type;
  // Per job type: keep only the newest N jobs; a maintenance pass expires
  // the older ones once they are final (completed, failed or cancelled).
  std::map<std::string, uint64_t> keep_newest_by_type;
  // Open beside a running server: the log and the read models as RocksDB
  // secondary instances (no lock taken), as they were at the open. Reads,
  // Verify and Backup work; writes, maintenance and Rebuild are refused;
  // no projection runs. Never creates anything in data_dir.
  bool read_only = false;
  // Log compaction (CompactLog): the events of expired jobs move to NDJSON
  // files here (one per day; gzip unless archive_gzip is false) and leave
  // the log. Empty: compaction is off (archived streams written by an
  // earlier run still read back from where the log recorded them).
  std::string archive_dir;
  bool archive_gzip = true;
  // The filesystem under both databases; null: the default. Tests inject a
  // disk that fails on demand (tests/eventstore/faulty_disk_fs.h).
  rocksdb::Env* env = nullptr;
  // Told of every event the projection thread commits (projection_observer.h);
  // not owned, must outlive the store. Null: nobody.
  ProjectionObserver* observer = nullptr;
};

// The whole application service, one interface a caller: a route, a
// dialect or a command depends on the one it calls (JobCommands, JobReads,
// WorkerProtocol, JobSchedules, StoreAdmin); RocksJobStore implements them
// all, and a second log backend only has to satisfy the seams it serves.
class JobStore : public JobCommands,
                 public JobReads,
                 public WorkerProtocol,
                 public JobSchedules,
                 public StoreAdmin {
 public:
  // Opens the log and the read models under options.data_dir, and starts
  // the projection thread (which first catches up from the checkpoint).
  // Errors: kNotFound (no data dir and !create_if_missing), kDataLoss
  // (not a jobtrail directory, or damaged), kInternal (I/O).
  static Result<std::unique_ptr<JobStore>> Open(const JobStoreOptions& options);
  ~JobStore() override = default;
};

}  // namespace jobtrail
