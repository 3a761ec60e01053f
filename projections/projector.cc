#include "projections/projector.h"

#include <fmt/format.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <map>

#include "projections/backlog_eviction.h"
#include "projections/job_json.h"
#include "eventstore/key_format.h"
#include "projections/view_keys.h"
#include "projections/view_rows.h"
#include "schemas/event_codec.h"

namespace jobtrail {
namespace vk = view_keys;
namespace {

// Jobs folded as the views have them, so that the next event of a job
// (its claim, progress, end) needs no read of its stream.
constexpr size_t kCacheLimit = 100000;

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

// A write to the views that failed for want of storage (RocksDB stopped
// them after a full disk or an I/O error) is temporary: the projection
// waits for the views' recovery and applies the batch again.
Error StoreIo(const rocksdb::Status& s) {
  if (s.IsIOError()) return StorageUnavailable();
  return Internal(fmt::format("views: {}", s.ToString()));
}

}  // namespace

Error StorageUnavailable() {
  return MakeError(Code::kUnavailable, "STORAGE_UNAVAILABLE",
                   "storage is unavailable (the disk is full or failing, or the shared log "
                   "has no primary: a failover); the write was not acknowledged: retry it "
                   "later, with the same ids it applies once");
}

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
    case StoreCode::kUnavailable:
      // e.message names files; the log has logged it.
      return StorageUnavailable();
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

// The rows a batch puts and deletes go into the WriteBatch in key order
// (Seal): the memtable then inserts each next to the previous one of its
// family (view_hints.h) instead of searching its skiplist from the top,
// which was a third of an enqueue-heavy server's samples. Rows of the same
// key keep their order.
struct Projector::Batch final : RowSink {
  rocksdb::WriteBatch writes;
  std::vector<ClaimChange> claim_changes;  // for the ClaimIndex, in order
  std::vector<std::pair<std::string, std::optional<Millis>>> lease_changes;  // LeaseIndex
  std::map<std::string, int64_t, std::less<>> count_deltas;
  rocksdb::Status status;

  void Put(std::string_view k, std::string_view v) override { Add(k, v, false); }
  void Delete(std::string_view k) override { Add(k, {}, true); }
  // Writes the rows to `writes`, sorted; status says whether that worked.
  void Seal() {
    // The key's first 8 bytes, big-endian, decide most comparisons without
    // reading the keys (most rows of a batch differ there: family, dim,
    // job id). Equal heads fall back to the whole keys.
    std::stable_sort(rows.begin(), rows.end(), [this](const Row& a, const Row& b) {
      if (a.head != b.head) return a.head < b.head;
      return Key(a) < Key(b);
    });
    for (const Row& r : rows) {
      if (!status.ok()) break;
      const std::string_view k = Key(r);
      if (r.deleted) {
        status = writes.Delete(rocksdb::Slice(k.data(), k.size()));
      } else {
        const std::string_view v(bytes.data() + r.at + r.key_size, r.value_size);
        status = writes.Put(rocksdb::Slice(k.data(), k.size()), rocksdb::Slice(v.data(), v.size()));
      }
    }
    rows.clear();
  }
  void Count(std::string_view key, int64_t delta) override {
    auto it = count_deltas.find(key);
    if (it == count_deltas.end()) it = count_deltas.emplace(std::string(key), 0).first;
    it->second += delta;
  }
  void ClaimChanged(std::string_view queue, ClaimIndex::Entry entry, bool removed) override {
    claim_changes.push_back({std::string(queue), std::move(entry), removed});
  }
  void LeaseChanged(std::string_view job_id, std::optional<Millis> deadline) override {
    lease_changes.emplace_back(std::string(job_id), deadline);
  }

 private:
  struct Row {
    uint64_t head = 0;  // the key's first 8 bytes, big-endian, zero-padded
    size_t at = 0;      // of the key in bytes, the value after it
    uint32_t key_size = 0;
    uint32_t value_size = 0;
    bool deleted = false;
  };
  static uint64_t Head(std::string_view k) {
    uint64_t h = 0;
    for (size_t i = 0; i < 8; ++i) {
      h = (h << 8) | (i < k.size() ? uint8_t(k[i]) : 0);
    }
    return h;
  }
  std::string_view Key(const Row& r) const { return {bytes.data() + r.at, r.key_size}; }
  void Add(std::string_view k, std::string_view v, bool deleted) {
    rows.push_back(Row{Head(k), bytes.size(), uint32_t(k.size()), uint32_t(v.size()), deleted});
    bytes.append(k);
    bytes.append(v);
  }
  std::string bytes;
  std::vector<Row> rows;
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

Result<bool> Projector::SkipArchived() {
  auto gap = log_->GapAt(checkpoint_ + 1);
  if (!gap) return FromStoreError(gap.error());
  if (!gap.value()) return false;
  checkpoint_ = gap.value()->last;
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;  // as ApplyBatch: a lost checkpoint is found again
  rocksdb::Status s =
      views_->Put(wo, std::string(vk::kCheckpointKey), vk::EncodeU64(checkpoint_));
  if (!s.ok()) return StoreIo(s);
  return true;
}

Result<void> Projector::ApplyBatch(const std::vector<eventstore::StoredEvent>& events,
                                   bool archived) {
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
  std::vector<RecordedEvent> observed;  // for observer_, once committed
  if (observer_ != nullptr) observed.reserve(events.size());
  for (const auto& stored : events) {
    if (!archived && stored.position != checkpoint_ + 1) {
      // Only a range the log archived may lie between (compaction).
      auto gap = log_->GapAt(checkpoint_ + 1);
      if (!gap) return FromStoreError(gap.error());
      if (!gap.value() || gap.value()->last + 1 != stored.position) {
        return DataLoss(fmt::format("projector at {} was given position {}", checkpoint_,
                                    stored.position));
      }
    }
    BOOST_OUTCOME_TRY(decoded, DecodeStored(stored));
    RecordedEvent event = std::move(decoded);
    auto it = touched.find(event.job_id);
    if (it == touched.end()) {
      BOOST_OUTCOME_TRY(loaded, JobBefore(event));
      JobView first = loaded;
      it = touched.emplace(event.job_id, Touched{std::move(first), std::move(loaded)}).first;
    }
    JobView& job = it->second.last;
    const JobStatus before_status = job.status;
    const int32_t before_attempts = job.attempts;
    BOOST_OUTCOME_TRYV(ApplyEvent(job, event));
    if (const auto* logged = std::get_if<Logged>(&event.body)) {
      (void)logged;  // the line is job.last_log, numbered
      b.Put(vk::LogKey(job.job_id, job.last_log->seq), RenderLogLineJson(*job.last_log));
    }
    // A subscription's attempts, for GET /v1/webhooks/{id}/deliveries (a
    // job's own callback attempts are in its history only).
    if (const auto* attempt = std::get_if<WebhookAttempted>(&event.body);
        attempt != nullptr && !attempt->webhook_id.empty()) {
      b.Put(vk::WebhookAttemptKey(attempt->webhook_id, event.position),
            RenderWebhookAttemptJson(event, *attempt));
    }
    stats_.Apply(before_status, before_attempts, job, event);
    BOOST_OUTCOME_TRYV(search_.Observe(views_, job, event));
    series_.Observe(job, event);
    if (!archived) checkpoint_ = stored.position;
    // (Events read back from the archive were observed when first applied.)
    if (observer_ != nullptr && !archived) observed.push_back(std::move(event));
  }
  std::vector<std::pair<std::string, std::shared_ptr<const StatusDocument>>> documents;
  std::vector<std::string> removed;
  for (auto& [id, t] : touched) {
    JobView& job = t.last;
    if (job.expired_at) {
      if (t.first.status != JobStatus::kNone) {
        JobView rows = t.first;  // the rows in the views are the first state's
        rows.log_count = job.log_count;
        RemoveJobRows(rows, b);
      } else {
        // Enqueued and expired in this batch: only its log lines were written.
        for (uint64_t seq = 1; seq <= job.log_count; ++seq) b.Delete(vk::LogKey(id, seq));
      }
      removed.push_back(id);
      continue;
    }
    UpdateIndexRows(t.first, job, b);
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
  search_.Flush(b);
  BOOST_OUTCOME_TRYV(series_.Flush(views_, b.writes));
  b.Put(std::string(vk::kCheckpointKey), vk::EncodeU64(checkpoint_));
  b.Put(std::string(vk::kStatsKey), stats_.Serialize());
  for (const std::string& type : stats_.TakeChangedTypes()) {
    b.Put(std::string(vk::kTypeStatsPrefix) + type, stats_.SerializeType(type));
  }
  b.Seal();
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
  if (leases_ != nullptr) {
    for (const auto& [id, deadline] : b.lease_changes) leases_->Set(id, deadline);
  }
  if (status_cache_ != nullptr) {
    for (auto& [id, doc] : documents) status_cache_->Put(id, std::move(doc));
    for (const std::string& id : removed) status_cache_->Erase(id);
  }
  search_.Committed();
  if (observer_ != nullptr) {
    for (const RecordedEvent& e : observed) observer_->Observe(e, touched.at(e.job_id).last);
  }
  if (cache_.size() + touched.size() > kCacheLimit) {
    // Final jobs go first, then the jobs enqueued last (backlog_eviction.h).
    EvictForBacklog(cache_, kCacheLimit * 3 / 4, kCacheLimit / 2,
                    [](const JobView& j) -> const JobView& { return j; });
  }
  for (auto& [id, t] : touched) cache_[id] = std::move(t.last);
  return Ok();
}

}  // namespace jobtrail
