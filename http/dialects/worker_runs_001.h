#pragma once
// Seed 001, scheduled worker jobs: job types registered as schedules (name
// = WorkerJobType such as EXPIRE_SERVERS, display name = ExpireServers),
// their runs (jobs of those types) with logs, and manual triggers.
//
//   GET /v1/jobs/status   GET /v1/jobs/runs   GET /v1/jobs/runs/{id}
//   POST /v1/jobs/trigger/{jobName}[?wait=SECONDS]
//
// The literal segments "status", "runs" and "trigger" win over the
// canonical /v1/jobs/{id} (router.h).
#include "domain/error.h"
#include "http/dialects/options.h"
#include "http/v1/api_routes.h"

namespace jobtrail::http {

// The longest a trigger waits for its run: the seed's trigger answers with
// the run's outcome, so without ?wait it waits this long; ?wait=N waits at
// most N s (0: answer at once). A run not done by then answers 202 with
// success false, its runId and status RUNNING. The trigger is admin-only: it
// makes work happen, and the seed documents no authentication at all.
inline constexpr int kMaxTriggerWaitSeconds = 60;
// Seed 001's runs go to this queue; its workers claim from it.
inline constexpr std::string_view kWorkerRunsQueue = "worker-jobs";

void AddWorkerRunsDialect001(Router& router, ApiContext& context,
                             const DialectOptions& options);

// Registers the seed's five scheduled job types (with their display names
// and cron schedules, UTC) unless a schedule of that name exists.
// Errors: those of JobStore::PutSchedule.
Result<void> RegisterSeed001Schedules(JobSchedules& store);

}  // namespace jobtrail::http
