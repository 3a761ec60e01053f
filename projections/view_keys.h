#pragma once
// The key layout of the read-model database (<data-dir>/views, RocksDB,
// default column family). Described in projections/README.md.
//
//   "format"                          -> kViewsFormat
//   "checkpoint"                      -> u64 BE: last log position applied
//   "stats"                           -> StatsState's global totals as JSON
//   "T" type                          -> one job type's totals as JSON
//   "j" job                           -> status record (StatusRecord)
//   "l" job 0x00 seq(u64 BE)          -> log line JSON
//   "x" dim 0x00 value 0x00 sort ts(u64 BE) pos(u64 BE) job -> ""   list
//        indexes; pos (log position: of the enqueue for 'c', of the last
//        event for 'u') orders jobs of the same millisecond as they happened
//   "n" dim 0x00 value                -> u64 BE: jobs in that index
//   "n" dim 0x00 value 0x00 status    -> u64 BE: jobs of that type, queue or
//        owner in that status (v7: an owner's or a queue's list by status
//        is totalled without reading every job of the owner or queue)
//   "q" queue 0x00 rank(u64 BE) ready(u64 BE) job -> u64 BE: the log position
//        of the job's enqueue (ties by age); claimable jobs: pending or retrying;
//        rank = 2^31 - priority (higher first). Loaded into the ClaimIndex.
//   "k" owner 0x00 unique key         -> job id of the owner's non-final job
//        holding it (unique keys are per owner)
//   "w" webhook 0x00 pos(u64 BE)      -> one delivery attempt of a webhook
//        subscription (a webhook_attempted event at log position pos), as
//        JSON; kept when the job expires (the subscriber saw it already)
//   "p" term ..., "v" pos             -> the search index (search_keys.h)
//   "m" type 0x00 minute, "M"         -> the per-minute history (series_index.h)
//
// dims: "all" (value ""), "status", "type", "queue", "owner", "ext".
// sort: 'c' created (every dim), 'u' updated ("status" only: a list of
// several statuses, or all, by updated time merges them; v5).
// Timestamps are offset by 2^63 so negative times sort correctly.
#include <cstdint>
#include <string>
#include <string_view>

namespace jobtrail::view_keys {

inline constexpr std::string_view kViewsFormat = "jobtrail-views-v7";
inline constexpr std::string_view kFormatKey = "format";
// The format key while a rebuild writes the views: a rebuild cut short
// leaves it, so the next open sees views of another format and rebuilds.
inline constexpr std::string_view kRebuildingFormat = "jobtrail-views-rebuilding";
inline constexpr std::string_view kCheckpointKey = "checkpoint";
inline constexpr std::string_view kStatsKey = "stats";
inline constexpr std::string_view kTypeStatsPrefix = "T";

inline constexpr std::string_view kDimAll = "all";
inline constexpr std::string_view kDimStatus = "status";
inline constexpr std::string_view kDimType = "type";
inline constexpr std::string_view kDimQueue = "queue";
inline constexpr std::string_view kDimOwner = "owner";
inline constexpr std::string_view kDimExternalRef = "ext";

std::string EncodeU64(uint64_t v);
uint64_t DecodeU64(std::string_view in);  // in.size() >= 8
uint64_t SortableTime(int64_t ms);
int64_t TimeFromSortable(uint64_t v);

std::string JobKey(std::string_view job_id);
std::string LogKey(std::string_view job_id, uint64_t seq);
std::string LogPrefix(std::string_view job_id);
// Prefix of one index: "x" dim 0x00 value 0x00 sort
std::string IndexPrefix(std::string_view dim, std::string_view value, char sort);
// Bytes between an index prefix and the job id: ts then pos.
inline constexpr size_t kIndexOrderBytes = 16;
std::string IndexKey(std::string_view dim, std::string_view value, char sort, int64_t ts,
                     uint64_t pos,
                     std::string_view job_id);
std::string CountKey(std::string_view dim, std::string_view value);
// The jobs of one type, queue or owner (`dim`) in one status. Names have no
// control characters (domain/names.h), so no value's own key is another's
// status count.
std::string StatusCountKey(std::string_view dim, std::string_view value, std::string_view status);
std::string ClaimPrefix(std::string_view queue);
std::string ClaimKey(std::string_view queue, int32_t priority, int64_t ready_at,
                     std::string_view job_id);
std::string UniqueKey(std::string_view owner, std::string_view unique_key);
std::string WebhookAttemptPrefix(std::string_view webhook_id);
std::string WebhookAttemptKey(std::string_view webhook_id, uint64_t position);

}  // namespace jobtrail::view_keys
