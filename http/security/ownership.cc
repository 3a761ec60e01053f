#include "http/security/ownership.h"

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

namespace jobtrail::http {

ApiResult<void> ApplyEnqueueOwner(const Principal& p, EnqueueRequest& request) {
  std::string& owner = request.spec.owner;
  if (p.admin()) {
    if (owner.empty()) owner = p.subject;
    return boost::outcome_v2::success();
  }
  if (!owner.empty() && owner != p.subject) {
    return ApiError(MakeError(Code::kPermissionDenied, "FORBIDDEN",
                              "only an admin may enqueue a job for another owner"));
  }
  owner = p.subject;
  return boost::outcome_v2::success();
}

bool RestrictListToOwner(const Principal& p, ListQuery& query) {
  if (p.admin()) return true;
  const bool asked_other = !query.owner.empty() && query.owner != p.subject;
  query.owner = p.subject;
  return !asked_other;
}

Result<OwnFeedPage> OwnFeed(JobReads& store, const Principal& p, uint64_t after, size_t limit,
                            size_t max_scan) {
  OwnFeedPage page;
  page.next_after = after;
  if (p.admin()) {
    BOOST_OUTCOME_TRY(events, store.Feed(after, limit + 1));
    page.has_more = events.size() > limit;
    if (page.has_more) events.resize(limit);
    if (!events.empty()) page.next_after = events.back().position;
    page.events = std::move(events);
    return page;
  }
  std::unordered_map<std::string, bool> visible;  // job id -> may p see it
  size_t scanned = 0;
  const size_t chunk = std::clamp<size_t>(limit * 4, 100, 1000);
  for (;;) {
    BOOST_OUTCOME_TRY(events, store.Feed(page.next_after, chunk));
    if (events.empty()) return page;  // the end of the log
    for (RecordedEvent& e : events) {
      if (page.events.size() == limit || scanned == max_scan) {
        page.has_more = true;
        return page;
      }
      ++scanned;
      page.next_after = e.position;
      auto [it, fresh] = visible.try_emplace(e.job_id, false);
      if (fresh) {
        // The owner from the read model or, while that catches up, from
        // the log's fold. A job expired out of both: its owner is unknown
        // now, so only an admin sees its events.
        auto doc = store.Status(e.job_id);
        if (doc) {
          it->second = doc.value().owner == p.subject;
        } else {
          auto job = store.LoadJob(e.job_id, std::nullopt);
          it->second = job && job.value().spec.owner == p.subject;
        }
      }
      if (it->second) page.events.push_back(std::move(e));
    }
    if (events.size() < chunk) return page;  // the end of the log
  }
}

}  // namespace jobtrail::http
