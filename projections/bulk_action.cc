#include "projections/bulk_action.h"

namespace jobtrail {
namespace {

// Jobs per List page and per commit: a commit's events share one sync.
constexpr size_t kPage = 500;

}  // namespace

bool BulkApplies(BulkActionKind action, JobStatus status) {
  switch (action) {
    case BulkActionKind::kCancel: return !IsFinal(status) && status != JobStatus::kNone;
    case BulkActionKind::kRetry:
      return status == JobStatus::kFailed || status == JobStatus::kCancelled;
  }
  return false;
}

Result<BulkReport> RunBulkAction(JobReads& reads, JobCommands& commands_to,
                                 const BulkRequest& request) {
  BulkReport report;
  ListQuery q = request.filter;
  q.limit = kPage;
  q.skip = 0;
  q.cursor.clear();
  // Creation order: a job's place in it never moves, so a page's changes
  // never bring a job back into a later page (updated order would).
  q.sort = SortField::kCreated;
  auto skip = [&](std::string reason, JobStatus status) {
    ++report.skipped;
    ++report.skipped_by[{std::move(reason), std::string(StatusName(status))}];
  };
  for (;;) {
    BOOST_OUTCOME_TRY(page, reads.List(q));
    std::vector<WriteCommand> commands;
    std::vector<JobStatus> status_of;  // of each command's job, when listed
    for (size_t i = 0; i < page.ids.size(); ++i) {
      ++report.matched;
      const JobStatus status = page.statuses[i];
      if (!BulkApplies(request.action, status)) {
        skip("INVALID_TRANSITION", status);
        continue;
      }
      if (request.dry_run) {
        ++report.changed;
        continue;
      }
      AppendRequest append;
      append.job_id = page.ids[i];
      append.actor = request.actor;
      if (request.action == BulkActionKind::kCancel) {
        append.events.emplace_back(Cancelled{request.reason, request.actor});
      } else {
        Retried retry;
        retry.manual = true;
        retry.next_run_at = reads.clock().Now();
        append.events.emplace_back(retry);
      }
      commands.emplace_back(std::move(append));
      status_of.push_back(status);
    }
    if (!commands.empty()) {
      std::vector<Result<WriteOutcome>> written = commands_to.WriteMany(std::move(commands));
      for (size_t k = 0; k < written.size(); ++k) {
        if (written[k]) {
          ++report.changed;
        } else {
          // Changed meanwhile (another operator, a worker): its own code.
          skip(written[k].error().reason, status_of[k]);
        }
      }
    }
    if (!page.has_more) break;
    q.cursor = page.next_cursor;
  }
  return report;
}

}  // namespace jobtrail
