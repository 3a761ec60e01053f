// JobStore::Logs: a job's log lines from the logs read model ("l" keys,
// projections/view_keys.h), without replaying its events.
#include <fmt/format.h>
#include <rapidjson/document.h>

#include "domain/job_id.h"
#include "projections/projector.h"
#include "projections/rocks_job_store.h"
#include "projections/view_keys.h"

namespace jobtrail {
namespace vk = view_keys;

Result<JobLogs> RocksJobStore::Logs(std::string_view job_id, LogLevel min_level) {
  if (!IsValidJobId(job_id)) return JobNotFound(job_id);
  // One snapshot: the lines are exactly those of the version reported.
  const rocksdb::Snapshot* snapshot = views_->GetSnapshot();
  rocksdb::ReadOptions read;
  read.snapshot = snapshot;
  auto release = [&] { views_->ReleaseSnapshot(snapshot); };
  std::string value;
  rocksdb::Status s = views_->Get(read, vk::JobKey(job_id), &value);
  if (!s.ok()) {
    release();
    return s.IsNotFound() ? JobNotFound(job_id) : Internal(fmt::format("views: {}", s.ToString()));
  }
  auto doc = DecodeStatusRecord(value);
  if (!doc || PastRetention(doc.value().type, doc.value().created_at, doc.value().status)) {
    release();
    if (!doc) return doc.error();
    return JobNotFound(job_id);
  }
  JobLogs logs;
  logs.version = doc.value().version;
  const std::string prefix = vk::LogPrefix(job_id);
  std::unique_ptr<rocksdb::Iterator> it(views_->NewIterator(read));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const std::string_view line = it->value().ToStringView();
    if (min_level != LogLevel::kTrace) {
      rapidjson::Document parsed;
      parsed.Parse(line.data(), line.size());
      const auto level = parsed.IsObject() && parsed.HasMember("level") &&
                                 parsed["level"].IsString()
                             ? ParseLogLevel(parsed["level"].GetString())
                             : std::nullopt;
      if (!level) {
        it.reset();
        release();
        return DataLoss(fmt::format("job {}: a stored log line does not parse", job_id));
      }
      if (*level < min_level) continue;
    }
    logs.lines_json.emplace_back(line);
  }
  const rocksdb::Status scanned = it->status();
  it.reset();
  release();
  if (!scanned.ok()) return Internal(fmt::format("views: {}", scanned.ToString()));
  return logs;
}

}  // namespace jobtrail
