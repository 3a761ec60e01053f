// Retention: how long a job stays, by job type - by age (retention_by_type,
// and failed_retention_by_type for failed and cancelled jobs, so failures
// can be kept longer than successes) and by count (keep_newest_by_type).
// Past its age a job is gone from every read at once (PastRetention); the
// maintenance pass then appends its expired event (actor "system"), which
// removes it from the read models and, with log compaction, lets it leave
// the log for the archive.
#include "projections/rocks_job_store.h"
#include "projections/view_keys.h"

namespace jobtrail {
namespace vk = view_keys;
namespace {

constexpr size_t kScanLimit = 100000;  // jobs one pass looks at per type
// Expired events written per commit: a busy store expires as many jobs a
// second as it creates, and one commit each would not keep up.
constexpr size_t kExpireBatch = 512;

bool FailedOrCancelled(JobStatus s) {
  return s == JobStatus::kFailed || s == JobStatus::kCancelled;
}

}  // namespace

bool RocksJobStore::PastRetention(std::string_view type, Millis created_at,
                                  JobStatus status) const {
  if (options_.retention_by_type.empty() && options_.failed_retention_by_type.empty()) {
    return false;
  }
  const std::string key(type);
  if (FailedOrCancelled(status)) {
    if (auto it = options_.failed_retention_by_type.find(key);
        it != options_.failed_retention_by_type.end()) {
      return clock_->Now() - created_at >= it->second;
    }
  }
  auto it = options_.retention_by_type.find(key);
  return it != options_.retention_by_type.end() && clock_->Now() - created_at >= it->second;
}

// Appends an expired event (actor "system") to each job, kExpireBatch per
// commit; returns how many it expired (one expired already is skipped).
Result<uint64_t> RocksJobStore::ExpireJobs(const std::vector<std::string>& ids,
                                           const std::string& reason) {
  uint64_t expired = 0;
  for (size_t at = 0; at < ids.size(); at += kExpireBatch) {
    std::vector<WriteCommand> commands;
    for (size_t i = at; i < std::min(ids.size(), at + kExpireBatch); ++i) {
      AppendRequest request;
      request.job_id = ids[i];
      request.actor = "system";
      request.events.push_back(Expired{reason});
      commands.emplace_back(std::move(request));
    }
    for (auto& out : WriteMany(std::move(commands))) {
      if (out) {
        ++expired;
      } else if (out.error().code != Code::kNotFound && out.error().code != Code::kAborted &&
                 out.error().code != Code::kFailedPrecondition) {
        return out.error();  // (others: expired or changed meanwhile; the next pass sees)
      }
    }
  }
  return expired;
}

Result<void> RocksJobStore::ExpireByRetention(Millis now, MaintenanceReport& report) {
  // By age: every type with a retention, oldest first. With two ages the
  // shorter one bounds the scan and each job's status decides.
  std::map<std::string, Millis> shortest = options_.retention_by_type;
  for (const auto& [type, age] : options_.failed_retention_by_type) {
    auto [it, added] = shortest.emplace(type, age);
    if (!added) it->second = std::min(it->second, age);
  }
  for (const auto& [type, age] : shortest) {
    const bool mixed = options_.failed_retention_by_type.count(type) > 0;
    std::vector<std::string> due;
    for (std::string& job_id : IndexedBefore(vk::kDimType, type, 'c', now - age + 1)) {
      if (mixed) {
        auto doc = Status(job_id);  // not found: past its own retention already
        if (doc && !PastRetention(type, doc.value().created_at, doc.value().status)) continue;
      }
      due.push_back(std::move(job_id));
    }
    BOOST_OUTCOME_TRY(expired, ExpireJobs(due, "retention"));
    report.expired += expired;
  }
  // By count: beyond the newest N of the type, the final ones expire.
  for (const auto& [type, keep] : options_.keep_newest_by_type) {
    std::string value;
    rocksdb::Status s = views_->Get(rocksdb::ReadOptions(), vk::CountKey(vk::kDimType, type), &value);
    if (s.IsNotFound()) continue;
    if (!s.ok() || value.size() != 8) return Internal("views: reading a type's job count failed");
    const uint64_t total = vk::DecodeU64(value);
    if (total <= keep) continue;
    std::vector<std::string> oldest;
    {
      const std::string prefix = vk::IndexPrefix(vk::kDimType, type, 'c');
      std::unique_ptr<rocksdb::Iterator> it(views_->NewIterator(rocksdb::ReadOptions()));
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix) &&
                             oldest.size() < std::min<uint64_t>(total - keep, kScanLimit);
           it->Next()) {
        oldest.emplace_back(it->key().ToStringView().substr(prefix.size() + vk::kIndexOrderBytes));
      }
      if (!it->status().ok()) return Internal("views: " + it->status().ToString());
    }
    std::vector<std::string> due;
    for (std::string& job_id : oldest) {
      auto doc = Status(job_id);
      if (!doc || !IsFinal(doc.value().status)) continue;  // still running: kept for now
      due.push_back(std::move(job_id));
    }
    BOOST_OUTCOME_TRY(expired, ExpireJobs(due, "retention-count"));
    report.expired += expired;
  }
  return Ok();
}

}  // namespace jobtrail
