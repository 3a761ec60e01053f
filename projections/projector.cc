#include "projections/projector.h"

#include <fmt/format.h>
#include <rocksdb/write_batch.h>

#include <map>

#include "projections/job_json.h"
#include "eventstore/key_format.h"
#include "projections/view_keys.h"
#include "schemas/event_codec.h"

namespace jobtrail {
namespace vk = view_keys;
namespace {

constexpr size_t kCacheLimit = 50000;

using eventstore::key_format::GetU32;
using eventstore::key_format::PutU32;
void PutString(std::string& out, std::string_view s) {
  PutU32(out, uint32_t(s.size()));
  out.append(s);
}
bool GetString(std::string_view& in, std::string& out) {
  if (in.size() < 4) return false;
  const uint32_t n = GetU32(in);
  in.remove_prefix(4);
  if (in.size() < n) return false;
  out.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

// A job holds its unique key until it is first final: one retried by hand
// afterwards does not take it back (another job may hold it by then).
bool HoldsUniqueKey(const JobView& j) {
  return !j.spec.unique_key.empty() && !IsFinal(j.status) && j.manual_retries == 0;
}

Error StoreIo(const rocksdb::Status& s) { return Internal(fmt::format("views: {}", s.ToString())); }

}  // namespace

Error FromStoreError(const eventstore::StoreError& e) {
  using eventstore::StoreCode;
  switch (e.code) {
    case StoreCode::kWrongExpectedVersion:
      return MakeError(Code::kAborted, "VERSION_CONFLICT", e.message);
    case StoreCode::kInvalidArgument:
      return MakeError(Code::kInvalidArgument, "INVALID_INPUT", e.message);
    case StoreCode::kNotFound:
      return MakeError(Code::kNotFound, "NOT_FOUND", e.message);
    case StoreCode::kCorruption:
      return MakeError(Code::kDataLoss, "CORRUPTION", e.message);
    case StoreCode::kClosed:
      return MakeError(Code::kUnavailable, "SHUTTING_DOWN", e.message);
    case StoreCode::kIOError:
      break;
  }
  return MakeError(Code::kInternal, "IO_ERROR", e.message);
}

std::string EncodeStatusRecord(const JobView& job, const std::string& json) {
  std::string out;
  out.append(vk::EncodeU64(job.version));
  out.push_back(char(job.status));
  PutString(out, job.spec.owner);
  PutString(out, job.spec.type);
  PutString(out, job.spec.queue);
  PutString(out, job.spec.external_ref);
  out.append(vk::EncodeU64(uint64_t(job.created_at)));
  out.append(vk::EncodeU64(uint64_t(job.updated_at)));
  out.push_back(job.estimated_completion_at ? 1 : 0);
  out.append(vk::EncodeU64(uint64_t(job.estimated_completion_at.value_or(0))));
  out.append(json);
  return out;
}

Result<StatusDocument> DecodeStatusRecord(std::string_view in) {
  auto bad = [] { return DataLoss("status record is malformed"); };
  StatusDocument doc;
  if (in.size() < 9) return bad();
  doc.version = vk::DecodeU64(in);
  const int status = uint8_t(in[8]);
  if (status > int(JobStatus::kCancelled)) return bad();
  doc.status = JobStatus(status);
  in.remove_prefix(9);
  if (!GetString(in, doc.owner) || !GetString(in, doc.type) || !GetString(in, doc.queue) ||
      !GetString(in, doc.external_ref) || in.size() < 25) {
    return bad();
  }
  doc.created_at = Millis(vk::DecodeU64(in));
  doc.updated_at = Millis(vk::DecodeU64(in.substr(8)));
  in.remove_prefix(16);
  if (in[0] != 0) doc.estimated_completion_at = Millis(vk::DecodeU64(in.substr(1)));
  in.remove_prefix(9);
  doc.json.assign(in);
  return doc;
}

Result<RecordedEvent> DecodeStored(const eventstore::StoredEvent& stored) {
  BOOST_OUTCOME_TRY(event, DecodeEvent(stored.data));
  RecordedEvent e = std::move(event);
  e.position = stored.position;
  if (e.job_id != stored.stream || e.version != stored.version) {
    return DataLoss(fmt::format("position {}: event says job {} v{}, log says {} v{}",
                                stored.position, e.job_id, e.version, stored.stream,
                                stored.version));
  }
  return e;
}

Result<std::vector<RecordedEvent>> DecodeAll(const std::vector<eventstore::StoredEvent>& stored) {
  std::vector<RecordedEvent> out;
  out.reserve(stored.size());
  for (const auto& s : stored) {
    BOOST_OUTCOME_TRY(e, DecodeStored(s));
    out.push_back(std::move(e));
  }
  return out;
}

struct Projector::Batch {
  struct ClaimChange {
    std::string queue;
    ClaimIndex::Entry entry;
    bool remove = false;
  };
  rocksdb::WriteBatch writes;
  std::vector<ClaimChange> claim_changes;  // for the ClaimIndex, in order
  std::map<std::string, int64_t> count_deltas;
  rocksdb::Status status;

  void Put(const std::string& k, std::string_view v) {
    if (status.ok()) status = writes.Put(k, rocksdb::Slice(v.data(), v.size()));
  }
  void Delete(const std::string& k) {
    if (status.ok()) status = writes.Delete(k);
  }
};

Result<void> Projector::Load() {
  std::string value;
  rocksdb::Status s = views_->Get(rocksdb::ReadOptions(), vk::kCheckpointKey, &value);
  BOOST_OUTCOME_TRYV(series_.Load(views_));
  if (s.IsNotFound()) {
    checkpoint_ = 0;
    stats_ = StatsState();
    return Ok();
  }
  if (!s.ok()) return StoreIo(s);
  if (value.size() != 8) return DataLoss("views checkpoint is malformed");
  checkpoint_ = vk::DecodeU64(value);
  s = views_->Get(rocksdb::ReadOptions(), vk::kStatsKey, &value);
  if (!s.ok()) return s.IsNotFound() ? DataLoss("views have a checkpoint but no stats") : StoreIo(s);
  BOOST_OUTCOME_TRY(stats, StatsState::Parse(value));
  std::unique_ptr<rocksdb::Iterator> it(views_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(vk::kTypeStatsPrefix); it->Valid() && it->key().starts_with(vk::kTypeStatsPrefix);
       it->Next()) {
    BOOST_OUTCOME_TRYV(stats.RestoreType(
        std::string(it->key().ToStringView().substr(vk::kTypeStatsPrefix.size())),
        it->value().ToStringView()));
  }
  if (!it->status().ok()) return StoreIo(it->status());
  (void)stats.TakeChangedTypes();  // restored, not changed
  stats_ = std::move(stats);
  return Ok();
}

Result<JobView> Projector::JobBefore(const RecordedEvent& event) {
  if (auto it = cache_.find(event.job_id);
      it != cache_.end() && it->second.version + 1 == event.version) {
    return it->second;
  }
  if (event.version == 1) return JobView{};
  auto stored = log_->ReadStream(event.job_id, 1, event.version - 1);
  if (!stored) return FromStoreError(stored.error());
  JobView job;
  for (const auto& s : stored.value()) {
    BOOST_OUTCOME_TRY(e, DecodeStored(s));
    BOOST_OUTCOME_TRYV(ApplyEvent(job, e));
  }
  if (job.version + 1 != event.version) {
    return DataLoss(fmt::format("job {}: stream ends at v{} before v{}", event.job_id,
                                job.version, event.version));
  }
  return job;
}

void Projector::UpdateIndexes(const JobView& before, const JobView& after, Batch& b) {
  const std::string& id = after.job_id;
  const bool is_new = before.status == JobStatus::kNone;
  auto add = [&](std::string_view dim, std::string_view value, char sort, Millis ts) {
    const uint64_t pos = sort == 'c' ? after.created_position : after.last_position;
    b.Put(vk::IndexKey(dim, value, sort, ts, pos, id), "");
  };
  auto remove = [&](std::string_view dim, std::string_view value, char sort, Millis ts) {
    const uint64_t pos = sort == 'c' ? before.created_position : before.last_position;
    b.Delete(vk::IndexKey(dim, value, sort, ts, pos, id));
  };
  auto count = [&](std::string_view dim, std::string_view value, int64_t delta) {
    b.count_deltas[vk::CountKey(dim, value)] += delta;
  };
  const std::string_view new_status = StatusName(after.status);
  if (is_new) {
    const std::pair<std::string_view, std::string_view> fixed[] = {
        {vk::kDimAll, ""},
        {vk::kDimType, after.spec.type},
        {vk::kDimQueue, after.spec.queue},
        {vk::kDimOwner, after.spec.owner},
        {vk::kDimExternalRef, after.spec.external_ref}};
    for (const auto& [dim, value] : fixed) {
      if (dim != vk::kDimAll && value.empty()) continue;
      add(dim, value, 'c', after.created_at);
      count(dim, value, 1);
    }
  }
  if (before.status != after.status) {
    if (!is_new) {
      remove(vk::kDimStatus, StatusName(before.status), 'c', before.created_at);
      count(vk::kDimStatus, StatusName(before.status), -1);
    }
    add(vk::kDimStatus, new_status, 'c', after.created_at);
    count(vk::kDimStatus, new_status, 1);
  }
  if (!is_new) {
    remove(vk::kDimAll, "", 'u', before.updated_at);
    remove(vk::kDimStatus, StatusName(before.status), 'u', before.updated_at);
  }
  add(vk::kDimAll, "", 'u', after.updated_at);
  add(vk::kDimStatus, new_status, 'u', after.updated_at);

  auto claimable = [](const JobView& j) {
    return j.status == JobStatus::kPending || j.status == JobStatus::kRetrying;
  };
  auto ready_at = [](const JobView& j) {
    return j.status == JobStatus::kPending ? j.spec.run_at.value_or(j.created_at)
                                           : j.next_retry_at.value_or(j.updated_at);
  };
  // A claim row is rewritten only when it moves. Its value, the enqueue's
  // log position, breaks ties of priority and ready time by age.
  const bool was = claimable(before);
  const bool is = claimable(after);
  if (was != is || (is && ready_at(before) != ready_at(after))) {
    if (was) {
      b.Delete(vk::ClaimKey(before.spec.queue, before.spec.priority, ready_at(before), id));
      b.claim_changes.push_back({before.spec.queue, {id, 0, 0, 0}, true});
    }
    if (is) {
      b.Put(vk::ClaimKey(after.spec.queue, after.spec.priority, ready_at(after), id),
            vk::EncodeU64(after.created_position));
      b.claim_changes.push_back(
          {after.spec.queue, {id, after.spec.priority, ready_at(after), after.created_position},
           false});
    }
  }
  if (!after.spec.unique_key.empty()) {
    const std::string key = vk::UniqueKey(after.spec.owner, after.spec.unique_key);
    if (is_new && HoldsUniqueKey(after)) b.Put(key, id);
    if (!is_new && HoldsUniqueKey(before) && !HoldsUniqueKey(after)) b.Delete(key);
  }
  if (before.status == JobStatus::kRunning && before.lease_deadline) {
    b.Delete(vk::LeaseKey(*before.lease_deadline, id));
  }
  if (after.status == JobStatus::kRunning && after.lease_deadline) {
    b.Put(vk::LeaseKey(*after.lease_deadline, id), "");
  }
}

void Projector::RemoveJob(const JobView& job, Batch& b) {
  const std::string& id = job.job_id;
  auto remove = [&](std::string_view dim, std::string_view value, char sort, Millis ts) {
    const uint64_t pos = sort == 'c' ? job.created_position : job.last_position;
    b.Delete(vk::IndexKey(dim, value, sort, ts, pos, id));
  };
  const std::pair<std::string_view, std::string_view> dims[] = {
      {vk::kDimAll, ""},
      {vk::kDimType, job.spec.type},
      {vk::kDimQueue, job.spec.queue},
      {vk::kDimOwner, job.spec.owner},
      {vk::kDimExternalRef, job.spec.external_ref},
      {vk::kDimStatus, StatusName(job.status)}};
  for (const auto& [dim, value] : dims) {
    if (dim != vk::kDimAll && value.empty()) continue;
    remove(dim, value, 'c', job.created_at);
    b.count_deltas[vk::CountKey(dim, value)] -= 1;
  }
  remove(vk::kDimAll, "", 'u', job.updated_at);
  remove(vk::kDimStatus, StatusName(job.status), 'u', job.updated_at);
  if (job.status == JobStatus::kPending) {
    b.Delete(vk::ClaimKey(job.spec.queue, job.spec.priority,
                          job.spec.run_at.value_or(job.created_at), id));
  } else if (job.status == JobStatus::kRetrying) {
    b.Delete(vk::ClaimKey(job.spec.queue, job.spec.priority,
                          job.next_retry_at.value_or(job.updated_at), id));
  }
  if (job.status == JobStatus::kPending || job.status == JobStatus::kRetrying) {
    b.claim_changes.push_back({job.spec.queue, {id, 0, 0, 0}, true});
  }
  if (HoldsUniqueKey(job)) {
    b.Delete(vk::UniqueKey(job.spec.owner, job.spec.unique_key));
  }
  if (job.status == JobStatus::kRunning && job.lease_deadline) {
    b.Delete(vk::LeaseKey(*job.lease_deadline, id));
  }
  for (uint64_t seq = 1; seq <= job.log_count; ++seq) b.Delete(vk::LogKey(id, seq));
  b.Delete(vk::JobKey(id));
}

Result<void> Projector::ApplyBatch(const std::vector<eventstore::StoredEvent>& events) {
  if (events.empty()) return Ok();
  Batch b;
  // Each job's state before the batch (what its rows in the views are) and
  // after each event. Index rows are written once per job, from the first
  // state to the last: a job that went pending, running and completed in
  // one batch never writes (and deletes) its pending and running rows. The
  // rows depend only on those two states, so live batches and a rebuild's
  // big ones give the same views.
  struct Touched {
    JobView first;
    JobView last;
  };
  std::unordered_map<std::string, Touched> touched;
  for (const auto& stored : events) {
    if (stored.position != checkpoint_ + 1) {
      return DataLoss(fmt::format("projector at {} was given position {}", checkpoint_,
                                  stored.position));
    }
    BOOST_OUTCOME_TRY(decoded, DecodeStored(stored));
    RecordedEvent event = std::move(decoded);
    auto it = touched.find(event.job_id);
    if (it == touched.end()) {
      BOOST_OUTCOME_TRY(loaded, JobBefore(event));
      it = touched.emplace(event.job_id, Touched{loaded, loaded}).first;
    }
    JobView& job = it->second.last;
    const JobView before = job;
    BOOST_OUTCOME_TRYV(ApplyEvent(job, event));
    if (const auto* logged = std::get_if<Logged>(&event.body)) {
      (void)logged;  // the line is job.last_log, numbered
      b.Put(vk::LogKey(job.job_id, job.last_log->seq), RenderLogLineJson(*job.last_log));
    }
    stats_.Apply(before, job, event);
    search_.Observe(job, event);
    series_.Observe(job, event);
    checkpoint_ = stored.position;
  }
  std::vector<std::pair<std::string, std::shared_ptr<const StatusDocument>>> documents;
  std::vector<std::string> removed;
  for (auto& [id, t] : touched) {
    JobView& job = t.last;
    if (job.expired_at) {
      if (t.first.status != JobStatus::kNone) {
        JobView rows = t.first;  // the rows in the views are the first state's
        rows.log_count = job.log_count;
        RemoveJob(rows, b);
      } else {
        // Enqueued and expired in this batch: only its log lines were written.
        for (uint64_t seq = 1; seq <= job.log_count; ++seq) b.Delete(vk::LogKey(id, seq));
      }
      removed.push_back(id);
      continue;
    }
    UpdateIndexes(t.first, job, b);
    std::string json = RenderJobJson(job);
    b.Put(vk::JobKey(id), EncodeStatusRecord(job, json));
    if (status_cache_ != nullptr) {
      documents.emplace_back(id, std::make_shared<const StatusDocument>(StatusDocument{
                                     std::move(json), job.version, job.status, job.spec.owner,
                                     job.spec.type, job.spec.queue, job.spec.external_ref,
                                     job.created_at, job.updated_at,
                                     job.estimated_completion_at}));
    }
  }
  for (const auto& [key, delta] : b.count_deltas) {
    if (delta == 0) continue;
    std::string value;
    rocksdb::Status s = views_->Get(rocksdb::ReadOptions(), key, &value);
    if (!s.ok() && !s.IsNotFound()) return StoreIo(s);
    const int64_t current = s.ok() && value.size() == 8 ? int64_t(vk::DecodeU64(value)) : 0;
    const int64_t next = std::max<int64_t>(0, current + delta);
    if (next == 0) {
      b.Delete(key);
    } else {
      b.Put(key, vk::EncodeU64(uint64_t(next)));
    }
  }
  BOOST_OUTCOME_TRYV(search_.Flush(views_, b.writes));
  BOOST_OUTCOME_TRYV(series_.Flush(views_, b.writes));
  b.Put(std::string(vk::kCheckpointKey), vk::EncodeU64(checkpoint_));
  b.Put(std::string(vk::kStatsKey), stats_.Serialize());
  for (const std::string& type : stats_.TakeChangedTypes()) {
    b.Put(std::string(vk::kTypeStatsPrefix) + type, stats_.SerializeType(type));
  }
  if (!b.status.ok()) return StoreIo(b.status);
  // No WAL: the views and their checkpoint share a memtable, so a crash
  // loses both together and the projector replays that tail from the log.
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  rocksdb::Status s = views_->Write(wo, &b.writes);
  if (!s.ok()) return StoreIo(s);
  if (claims_ != nullptr) {
    for (auto& change : b.claim_changes) {
      if (change.remove) {
        claims_->Remove(change.queue, change.entry.job_id);
      } else {
        claims_->Upsert(change.queue, std::move(change.entry));
      }
    }
  }
  if (status_cache_ != nullptr) {
    for (auto& [id, doc] : documents) status_cache_->Put(id, std::move(doc));
    for (const std::string& id : removed) status_cache_->Erase(id);
  }
  if (cache_.size() + touched.size() > kCacheLimit) cache_.clear();
  for (auto& [id, t] : touched) cache_[id] = std::move(t.last);
  return Ok();
}

}  // namespace jobtrail
