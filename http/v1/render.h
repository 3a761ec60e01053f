#pragma once
// JSON bodies of the read routes that are not stored documents: list pages,
// stats, health, event lists, log lines.
#include <string>
#include <vector>

#include "domain/job_event.h"
#include "domain/job_view.h"
#include "projections/job_reads.h"
#include "projections/list_query.h"
#include "projections/stats_snapshot.h"

namespace jobtrail::http {

// {"items": [...], "total", "has_more", "next_cursor", "limit", "skip"}
std::string RenderListPage(const ListPage& page, const ListQuery& query);
std::string RenderStats(const StatsSnapshot& stats);
std::string RenderHealth(const HealthReport& health);
// {"job_id", "version", "events": [...]}
// {"job_id", "version", "events", "has_more", "next"}: one page of a job's
// history; `next` is the next page's URL, if there is one.
std::string RenderHistory(std::string_view job_id, const EventPage& page,
                          const std::optional<std::string>& next);
// {"events": [...], "next_after", "has_more"}
std::string RenderFeed(const std::vector<RecordedEvent>& events, uint64_t after,
                       bool has_more);
// {"job_id", "version", "min_level", "logs": [...]}
std::string RenderLogs(std::string_view job_id, const JobLogs& logs, LogLevel min_level);

}  // namespace jobtrail::http
