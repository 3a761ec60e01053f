#pragma once
// WorkerProtocol: how workers take jobs from the store (JobStore,
// job_store.h): claims with leases, the worker's round trip (finish and
// claim in one commit), heartbeats. What the worker routes need.
// Thread-safe: every method may be called from any thread.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/error.h"
#include "domain/job_event.h"
#include "projections/job_commands.h"

namespace jobtrail {

struct ClaimRequest {
  std::string queue = "default";
  std::string worker_id;
  Millis lease_ms = 30000;
  size_t max_jobs = 1;  // 1..100 (0 when appends ride along: finish only)
  std::string actor;  // recorded on the started events; empty: worker_id
};

struct ClaimedJob {
  std::string job_id;
  uint64_t version = 0;
  int32_t attempt = 0;
  Millis lease_deadline = 0;
  std::string json;  // the status document after the claim
};

// What AppendAndClaim did: each append's outcome, in order, and the jobs
// handed out.
struct ClaimOutcome {
  std::vector<Result<WriteOutcome>> appended;
  std::vector<ClaimedJob> jobs;
};

struct HeartbeatRequest {
  std::string job_id;
  std::string worker_id;
  Millis lease_ms = 30000;
  std::optional<double> percent;  // optional progress riding along
  std::string message;
  std::string actor;  // recorded on the progressed event; empty: worker_id
};

struct HeartbeatOutcome {
  JobStatus status = JobStatus::kNone;
  bool cancelled = false;    // stop: the job was cancelled meanwhile
  bool keep_working = false; // the lease is (still) this worker's
  std::optional<Millis> lease_deadline;
  uint64_t version = 0;
};

class WorkerProtocol {
 public:
  virtual ~WorkerProtocol() = default;

  // Hands out up to max_jobs claimable jobs of the queue (pending or due
  // for retry, run-at reached), highest priority first, then oldest; each
  // gets a started event (actor = worker) with a lease. Two concurrent
  // claims never return the same job. Errors: kInvalidArgument.
  virtual Result<std::vector<ClaimedJob>> Claim(const ClaimRequest& request) = 0;
  // The worker's round trip: the appends (typically completing or failing
  // the jobs it holds) and the claim of the next jobs, in one commit. Each
  // append is answered as Append would; a failed append does not stop the
  // claim. Errors (of the whole call): kInvalidArgument for the claim.
  virtual Result<ClaimOutcome> AppendAndClaim(std::vector<AppendRequest> appends,
                                              const ClaimRequest& request) = 0;
  // Extends the lease of a running job held by this worker (a progressed
  // event with the new deadline) and says whether to keep working.
  // Errors: kNotFound/JOB_NOT_FOUND, kFailedPrecondition/LEASE_LOST.
  virtual Result<HeartbeatOutcome> Heartbeat(const HeartbeatRequest& request) = 0;
};

}  // namespace jobtrail
