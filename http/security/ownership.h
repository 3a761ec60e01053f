#pragma once
// Ownership rules the handlers apply with the request's principal
// (principal.h): who a new job belongs to, and which jobs a non-admin's
// list and event feed may show. The per-job checks (404 for another
// owner's job) are in the request gate.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "http/server/api_error.h"
#include "http/server/principal.h"
#include "projections/job_commands.h"
#include "projections/job_reads.h"

namespace jobtrail::http {

// Sets the owner of a job `p` enqueues: an admin's choice if it made one,
// otherwise p.subject. Errors: 403 FORBIDDEN when a non-admin names
// another owner.
ApiResult<void> ApplyEnqueueOwner(const Principal& p, EnqueueRequest& request);

// Limits a list to the principal's own jobs unless it is an admin. False
// when the query asked for another owner's jobs: the answer is empty.
bool RestrictListToOwner(const Principal& p, ListQuery& query);

struct OwnFeedPage {
  std::vector<RecordedEvent> events;
  uint64_t next_after = 0;  // where the scan stopped: resume from here
  bool has_more = false;
};
// The global feed after `after`, keeping only events of jobs `p` owns
// (all for an admin), at most `limit`; scans at most `max_scan` events so
// that a reader with few jobs cannot make one request read the whole log.
Result<OwnFeedPage> OwnFeed(JobReads& store, const Principal& p, uint64_t after, size_t limit,
                            size_t max_scan = 10000);

}  // namespace jobtrail::http
