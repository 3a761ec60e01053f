#pragma once
// Bulk actions over everything a list query matches (POST /v1/jobs/bulk):
// cancel or retry each matching job, each as its own event, page by page
// through JobReads::List (so a search's index or a list index finds them,
// never a scan of all jobs) and one JobCommands::WriteMany commit per page.
// Jobs the action does not apply to are skipped and counted by reason; a
// dry run only counts. Jobs that start to match while it runs may or may not
// be included (pages are keyset-paginated: none is visited twice).
//
// Thread-safe as JobStore is.
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "domain/error.h"
#include "projections/job_commands.h"
#include "projections/job_reads.h"

namespace jobtrail {

enum class BulkActionKind { kCancel, kRetry };

struct BulkRequest {
  ListQuery filter;  // limit, skip and cursor are ignored
  BulkActionKind action = BulkActionKind::kCancel;
  bool dry_run = false;
  std::string actor;   // recorded on every event
  std::string reason;  // a cancel's reason
};

struct BulkReport {
  uint64_t matched = 0;
  uint64_t changed = 0;  // a dry run: would change
  uint64_t skipped = 0;
  // (reason code, the job's status when skipped) -> jobs: INVALID_TRANSITION
  // for a job the action does not apply to, or the write's error code.
  std::map<std::pair<std::string, std::string>, uint64_t> skipped_by;
};

// Does `action` apply to a job in `status`? (cancel: not final; retry:
// failed or cancelled.)
bool BulkApplies(BulkActionKind action, JobStatus status);

// Lists through `reads` and writes through `commands` (one store's parts).
// Errors: those of JobReads::List (a bad filter or search); a write that
// fails is a skip, not an error.
Result<BulkReport> RunBulkAction(JobReads& reads, JobCommands& commands,
                                 const BulkRequest& request);

}  // namespace jobtrail
