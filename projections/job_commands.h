#pragma once
// JobCommands: the writes of the application service (JobStore,
// job_store.h): enqueue, append, a batch of both. What routes that change a
// job need, and all a second log backend must take to accept writes.
//
// Every write loads the job (fold of its stream), checks each transition
// with the domain's state machine, appends with the expected version, then
// waits until the projections have applied the append (read-your-writes:
// once a write is acknowledged, JobReads::StatusJson shows it).
// Thread-safe: every method may be called from any thread.
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "domain/error.h"
#include "domain/job_event.h"
#include "domain/job_status.h"

namespace jobtrail {

struct EnqueueRequest {
  Enqueued spec;
  std::string job_id;  // empty: a new UUID (or derived from idempotency_key)
  std::string actor;
  std::optional<Millis> timestamp;  // import only: keep the original time
  std::string event_id;             // import only: keep the original id
};

struct WriteOutcome {
  std::string job_id;
  uint64_t version = 0;   // the job's version after the write
  uint64_t position = 0;  // global position of the last event written
  JobStatus status = JobStatus::kNone;
  bool duplicate = false;  // an idempotent repeat: nothing was appended
};

struct AppendRequest {
  std::string job_id;
  std::optional<uint64_t> expected_version;  // If-Match
  std::vector<EventBody> events;             // applied in order, atomically
  std::vector<std::string> event_ids;        // optional, one per event
  std::string actor;
  std::optional<Millis> timestamp;  // import only: keep the original time
};

// One write of a batch (JobStore::WriteMany).
using WriteCommand = std::variant<EnqueueRequest, AppendRequest>;

class JobCommands {
 public:
  virtual ~JobCommands() = default;

  // Every write (Enqueue, Append, WriteMany, claims, heartbeats, schedule
  // runs, maintenance) may also fail with kUnavailable/STORAGE_UNAVAILABLE
  // while the log or the read models cannot write (a full disk, I/O errors;
  // the store recovers by itself once they can, and reads go on meanwhile):
  // not acknowledged, it may or may not show up later, so retry it with the
  // same ids (event ids, idempotency key), which apply it once. And with
  // kUnavailable/PROJECTION_FAILED after the projection stopped for good.

  // Errors: kInvalidArgument/INVALID_INPUT; kAlreadyExists/JOB_EXISTS (a
  // given job_id that is taken, without the same idempotency key).
  // An idempotency_key already used by the same owner answers the original
  // job with duplicate=true.
  virtual Result<WriteOutcome> Enqueue(EnqueueRequest request) = 0;

  // Errors: kNotFound/JOB_NOT_FOUND; kAborted/VERSION_CONFLICT (message
  // names the current version); kFailedPrecondition/INVALID_TRANSITION,
  // NO_ATTEMPTS_LEFT, ATTEMPT_MISMATCH; kInvalidArgument/INVALID_INPUT.
  // Nothing is appended on any error.
  virtual Result<WriteOutcome> Append(AppendRequest request) = 0;

  // Runs each command as Enqueue or Append would and answers each in order,
  // but hands every write that passes its checks to the log in one commit
  // (one atomic write, one sync). Commands to one job see the earlier ones
  // of the batch. An enqueue with a unique key runs on its own first (its
  // key is taken under a lock).
  virtual std::vector<Result<WriteOutcome>> WriteMany(std::vector<WriteCommand> commands) = 0;
};

}  // namespace jobtrail
