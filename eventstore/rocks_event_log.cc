// RocksEventLog: opening a data directory, the read path and subscriptions.
// The write path (group commit) is in rocks_event_log_append.cc.
#include "eventstore/internal/store_errors.h"
#include "eventstore/rocks_event_log.h"

#include <fmt/format.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <filesystem>

#include "eventstore/hash_chain.h"
#include "eventstore/internal/group_state.h"
#include "eventstore/internal/wal_guard.h"
#include "eventstore/rocks_logger.h"
#include "eventstore/internal/rocks_options.h"

namespace jobtrail::eventstore {
namespace kf = key_format;
namespace {

using internal::Corruption;
using internal::IoError;


constexpr size_t kScanReadahead = size_t{4} << 20;

bool FamilyIsEmpty(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, rocksdb::Status* s) {
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;  // the ids family has a prefix extractor
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf));
  it->SeekToFirst();
  *s = it->status();
  return !it->Valid();
}

}  // namespace

StoreResult<std::unique_ptr<RocksEventLog>> RocksEventLog::Open(
    const std::string& dir, const RocksEventLogOptions& options) {
  std::unique_ptr<RocksEventLog> log(new RocksEventLog());
  rocksdb::Env* base_env = options.env != nullptr ? options.env : rocksdb::Env::Default();
  log->guard_ = std::make_shared<internal::WalGuardFs>(base_env->GetFileSystem());
  log->env_ = rocksdb::NewCompositeEnv(log->guard_);
  rocksdb::DBOptions db_options = internal::LogDbOptions(log->env_.get());
  auto info_log = std::make_shared<LineLogger>(
      options.info_sink ? options.info_sink : StderrSink("log"), rocksdb::InfoLogLevel::WARN_LEVEL);
  log->recovery_ = std::make_unique<RocksRecovery>("the event log", info_log);
  log->recovery_->Configure(db_options);
  BOOST_OUTCOME_TRY(is_new, internal::InspectLogDirectory(dir, options.create_if_missing, db_options));
  db_options.create_if_missing = is_new;
  db_options.create_missing_column_families = is_new;

  const std::vector<rocksdb::ColumnFamilyDescriptor> families = internal::FamilyDescriptors();
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  info_log->set_quiet(true);
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, families, &handles, &raw);
  info_log->set_quiet(false);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      // RocksDB's LOCK file: another process has the log open for writing.
      return StoreError{StoreCode::kIOError,
                        fmt::format("'{}' is in use by another process (a running jobtrail "
                                    "serve?): {}",
                                    dir, s.ToString()),
                        0};
    }
    if (s.IsInvalidArgument() || s.IsCorruption()) {
      return Corruption(fmt::format("'{}' is not a usable event log: {}", dir, s.ToString()));
    }
    return IoError(s);
  }
  log->Adopt(raw, handles, dir, options);

  std::string marker;
  s = raw->Get(rocksdb::ReadOptions(), log->default_cf_, kf::kFormatKey, &marker);
  if (s.IsNotFound()) {
    // Only a log whose creation stopped before the marker was written may
    // lack it; anything with data in it is someone else's.
    rocksdb::Status empty_status;
    for (auto* cf : {log->default_cf_, log->log_cf_, log->streams_cf_, log->ids_cf_}) {
      if (!FamilyIsEmpty(raw, cf, &empty_status)) {
        return Corruption(fmt::format("'{}' has data but no jobtrail format marker", dir));
      }
      if (!empty_status.ok()) return IoError(empty_status);
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = raw->Put(wo, log->default_cf_, kf::kFormatKey, kf::kFormatMarker);
    if (!s.ok()) return IoError(s);
  } else if (!s.ok()) {
    return IoError(s);
  } else if (marker != kf::kFormatMarker) {
    return Corruption(fmt::format("unknown event log format '{}'", marker));
  }
  BOOST_OUTCOME_TRY(log->RecoverHead());
  BOOST_OUTCOME_TRY(log->LoadArchive());
  log->StartRecovery();
  return log;
}

// The head is the position and hash of the last record. Every append is one
// atomic WriteBatch, so whatever RocksDB recovered is a whole prefix. The
// head key and the last record agree in a sound log; if they do not (records
// dropped behind RocksDB's back), the higher one wins so that VerifyLog sees
// the log fall short of its head.
StoreResult<void> RocksEventLog::RecoverHead() {
  last_hash_ = GenesisHash();
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), default_cf_, kf::kHeadKey, &value);
  if (s.ok()) {
    auto head = kf::DecodeHead(value);
    if (!head) return Corruption("malformed head record");
    last_position_ = head->position;
    last_hash_ = head->hash;
  } else if (!s.IsNotFound()) {
    return IoError(s);
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
  it->SeekToLast();
  if (it->Valid()) {
    if (it->key().size() != kf::kPositionKeySize) return Corruption("malformed position key");
    const uint64_t position = kf::GetU64(it->key().ToStringView());
    if (auto gap = kf::DecodeGap(position, it->value().ToStringView())) {
      // The last records were archived: the gap carries the last hash.
      if (gap->last > last_position_) {
        last_position_ = gap->last;
        last_hash_ = gap->last_hash;
      }
    } else {
      auto record = kf::DecodeRecord(position, it->value().ToStringView());
      if (!record) return Corruption(fmt::format("record {} is malformed", position));
      if (position > last_position_) {
        last_position_ = position;
        last_hash_ = record->hash;
      }
    }
  }
  if (!it->status().ok()) return IoError(it->status());
  written_.store(last_position_);
  committed_.store(last_position_);
  commit_clock_.Note(last_position_, std::chrono::steady_clock::now());
  return boost::outcome_v2::success();
}

RocksEventLog::~RocksEventLog() {
  {
    std::unique_lock lock(mu_);
    closed_ = true;
  }
  WakeWaiters();
  if (recovery_) recovery_->Stop();
  if (db_) {
    // A clean close makes even kNoSync writes durable. Not after a failed
    // write: RocksDB's WAL writer must not be called again (wal_guard.h).
    if (!read_only_ && !failed_.load() && !guard_->broken()) {
      (void)db_->SyncWAL();  // best effort at shutdown; nothing to report to
    }
    for (auto* h : {default_cf_, log_cf_, streams_cf_, ids_cf_}) {
      if (h != nullptr) (void)db_->DestroyColumnFamilyHandle(h);  // at close
    }
    (void)db_->Close();  // errors at close leave nothing to recover
  }
}

void RocksEventLog::Adopt(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles,
                          const std::string& dir, const RocksEventLogOptions& options) {
  db_.reset(db);
  dir_ = dir;
  // In internal::FamilyNames() order.
  default_cf_ = handles[0];
  log_cf_ = handles[1];
  streams_cf_ = handles[2];
  ids_cf_ = handles[3];
  options_ = options;
}

StoreResult<uint64_t> RocksEventLog::StreamVersion(std::string_view stream) {
  return LatestVersion(stream, committed_.load());
}

StoreResult<uint64_t> RocksEventLog::LatestVersion(std::string_view stream, uint64_t limit,
                                                   bool* archived) {
  if (archived != nullptr) *archived = false;
  const std::string prefix = kf::StreamPrefix(stream);
  std::string upper = prefix;
  upper.append(8, '\xff');
  rocksdb::Slice lower_bound(prefix);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_bound;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, streams_cf_));
  for (it->SeekForPrev(upper); it->Valid() && it->key().starts_with(prefix); it->Prev()) {
    // A tombstone (an archived stream) starts with the position too.
    const std::string_view value = it->value().ToStringView();
    if (it->key().size() != prefix.size() + 8 || value.size() < kf::kPositionKeySize ||
        (kf::IsTombstoneValue(value) && value.size() < kf::kTombstoneHeaderSize)) {
      return Corruption("malformed stream index entry");
    }
    // Versions grow with positions: skip only what is not committed yet.
    if (kf::GetU64(value) <= limit) {
      if (kf::IsTombstoneValue(value)) {
        if (archived != nullptr) *archived = true;
        return kf::TombstoneLastVersion(value);
      }
      return kf::GetU64(it->key().ToStringView().substr(prefix.size()));
    }
  }
  if (!it->status().ok()) return IoError(it->status());
  return uint64_t{0};
}

StoreResult<StoredEvent> RocksEventLog::ReadAt(uint64_t position) {
  rocksdb::PinnableSlice value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), log_cf_, kf::PositionKey(position), &value);
  if (s.IsNotFound()) return Corruption(fmt::format("indexed record {} is missing", position));
  if (!s.ok()) return IoError(s);
  auto record = kf::DecodeRecord(position, value.ToStringView());
  if (!record) return Corruption(fmt::format("record {} is malformed", position));
  return std::move(*record);
}

StoreResult<std::vector<StoredEvent>> RocksEventLog::ReadLiveStream(std::string_view stream,
                                                                    uint64_t from_version,
                                                                    size_t max_count) {
  // The index gives the positions; the records are then fetched with one
  // MultiGet per chunk, cheaper than a Get each.
  constexpr size_t kChunk = 64;
  constexpr size_t kPointReadVersions = 8;
  std::vector<StoredEvent> out;
  const uint64_t limit = committed_.load();
  std::vector<std::string> keys;
  std::vector<uint64_t> positions;
  auto fetch = [&]() -> StoreResult<void> {
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<rocksdb::PinnableSlice> values(keys.size());
    std::vector<rocksdb::Status> statuses(keys.size());
    db_->MultiGet(rocksdb::ReadOptions(), log_cf_, slices.size(), slices.data(), values.data(),
                  statuses.data(), /*sorted_input=*/true);
    for (size_t i = 0; i < keys.size(); ++i) {
      if (statuses[i].IsNotFound()) {
        // Archived between the index read and this one? Then read it there.
        BOOST_OUTCOME_TRY(ref, TombstoneOf(stream));
        if (ref) return StoreError{StoreCode::kNotFound, "archived meanwhile", 0};
        return Corruption(fmt::format("indexed record {} is missing", positions[i]));
      }
      if (!statuses[i].ok()) return IoError(statuses[i]);
      auto record = kf::DecodeRecord(positions[i], values[i].ToStringView());
      if (!record) return Corruption(fmt::format("record {} is malformed", positions[i]));
      out.push_back(std::move(*record));
    }
    keys.clear();
    positions.clear();
    return boost::outcome_v2::success();
  };
  from_version = std::max<uint64_t>(from_version, 1);
  auto finish = [&]() -> StoreResult<std::vector<StoredEvent>> {
    if (!keys.empty()) {
      BOOST_OUTCOME_TRY(fetch());
    }
    if (out.empty() && from_version > 1) {
      // Nothing from that version on: past a live stream's end, or an
      // archived stream (its one entry is under version 1).
      BOOST_OUTCOME_TRY(ref, TombstoneOf(stream));
      if (ref) return ReadArchivedStream(*ref, stream, from_version, max_count);
    }
    return std::move(out);
  };
  if (max_count <= kPointReadVersions) {
    // A few versions from a known start (the read models fold versions
    // 1..n-1 of a job whose n-th event they apply, when it is not in their
    // cache): point lookups in the stream index, bloom-filtered, instead of
    // an iterator, whose construction and seek over every memtable and
    // level-0 file cost more than the read (17.5% of the server's CPU,
    // with the caches' misses, in a 200,000-job backlog).
    std::vector<std::string> index_keys;
    for (uint64_t v = from_version; v < from_version + max_count; ++v) {
      index_keys.push_back(kf::StreamKey(stream, v));
    }
    std::vector<rocksdb::Slice> slices(index_keys.begin(), index_keys.end());
    std::vector<rocksdb::PinnableSlice> values(index_keys.size());
    std::vector<rocksdb::Status> statuses(index_keys.size());
    db_->MultiGet(rocksdb::ReadOptions(), streams_cf_, slices.size(), slices.data(),
                  values.data(), statuses.data(), /*sorted_input=*/true);
    bool archived = false;
    for (size_t i = 0; i < index_keys.size(); ++i) {
      if (statuses[i].IsNotFound()) break;  // the stream ends before
      if (!statuses[i].ok()) return IoError(statuses[i]);
      const std::string_view value = values[i].ToStringView();
      if (kf::IsTombstoneValue(value)) {
        archived = true;  // read below, as any archived stream
        break;
      }
      if (value.size() != kf::kPositionKeySize) return Corruption("malformed stream index entry");
      const uint64_t position = kf::GetU64(value);
      if (position > limit) break;  // not committed yet; later versions neither
      keys.emplace_back(value);
      positions.push_back(position);
    }
    if (!archived) return finish();
    keys.clear();
    positions.clear();
  }
  const std::string prefix = kf::StreamPrefix(stream);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
  for (it->Seek(kf::StreamKey(stream, from_version));
       it->Valid() && it->key().starts_with(prefix) && out.size() + keys.size() < max_count;
       it->Next()) {
    if (kf::IsTombstoneValue(it->value().ToStringView())) {
      // An archived stream: all its events are in the archive.
      BOOST_OUTCOME_TRY(ref, TombstoneOf(stream));
      if (!ref) return Corruption(fmt::format("malformed tombstone of '{}'", stream));
      return ReadArchivedStream(*ref, stream, from_version, max_count);
    }
    if (it->value().size() != kf::kPositionKeySize) {
      return Corruption("malformed stream index entry");
    }
    const uint64_t position = kf::GetU64(it->value().ToStringView());
    if (position > limit) break;  // not committed yet; later versions neither
    keys.emplace_back(it->value().ToStringView());
    positions.push_back(position);
    if (keys.size() == kChunk) {
      BOOST_OUTCOME_TRY(fetch());
    }
  }
  if (!it->status().ok()) return IoError(it->status());
  return finish();
}

StoreResult<std::vector<StoredEvent>> RocksEventLog::ReadStream(std::string_view stream,
                                                                uint64_t from_version,
                                                                size_t max_count) {
  auto read = ReadLiveStream(stream, from_version, max_count);
  if (read || read.error().code != StoreCode::kNotFound) return read;
  // The stream was archived while it was read: read it again, from there.
  return ReadLiveStream(stream, from_version, max_count);
}

StoreResult<std::vector<StoredEvent>> RocksEventLog::ReadAll(uint64_t from_position,
                                                             size_t max_count) {
  std::vector<StoredEvent> out;
  const uint64_t last = committed_.load();
  from_position = std::max<uint64_t>(from_position, 1);
  if (from_position > last || max_count == 0) return out;
  const std::string upper = kf::PositionKey(last + 1);
  rocksdb::Slice upper_bound(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_bound;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_cf_));
  out.reserve(std::min<uint64_t>(max_count, last - from_position + 1));
  for (it->Seek(kf::PositionKey(from_position)); it->Valid() && out.size() < max_count;
       it->Next()) {
    if (it->key().size() != kf::kPositionKeySize) return Corruption("malformed position key");
    const uint64_t position = kf::GetU64(it->key().ToStringView());
    if (kf::IsGapValue(it->value().ToStringView())) continue;  // archived: see GapAt
    auto record = kf::DecodeRecord(position, it->value().ToStringView());
    if (!record) return Corruption(fmt::format("record {} is malformed", position));
    out.push_back(std::move(*record));
  }
  if (!it->status().ok()) return IoError(it->status());
  return out;
}

StoreResult<uint64_t> RocksEventLog::Scan(uint64_t from_position, uint64_t to_position,
                                          const std::function<bool(const EventRef&)>& fn) {
  from_position = std::max<uint64_t>(from_position, 1);
  const uint64_t last = std::min(to_position, committed_.load());
  uint64_t position = from_position - 1;  // positions have no gaps in a sound log
  if (from_position > last) return position;
  const std::string upper = kf::PositionKey(last + 1);
  rocksdb::Slice upper_bound(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_bound;
  // A pass over the whole log: read files ahead in big chunks, and keep
  // its blocks out of the cache that serves the hot tail.
  ro.readahead_size = kScanReadahead;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_cf_));
  for (it->Seek(kf::PositionKey(from_position)); it->Valid(); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    if (key.size() != kf::kPositionKeySize) return Corruption("malformed position key");
    const uint64_t at = kf::GetU64(key);
    if (auto gap = kf::DecodeGap(at, it->value().ToStringView())) {
      position = gap->last;  // a range compaction archived (GapAt): nothing to hand over
      continue;
    }
    auto record = kf::ParseRecord(it->value().ToStringView());
    if (!record) return Corruption(fmt::format("record {} is malformed", at));
    position = at;
    if (!fn(EventRef{at, record->stream, record->version, record->event_id, record->data,
                     record->hash})) {
      return position;
    }
  }
  if (!it->status().ok()) return IoError(it->status());
  return position;
}

uint64_t RocksEventLog::WaitForCommitAfter(uint64_t position,
                                           std::chrono::steady_clock::time_point deadline,
                                           const std::atomic<bool>* cancelled) {
  std::unique_lock lock(commit_mu_);
  commit_cv_.wait_until(lock, deadline, [&] {
    return committed_.load() > position || (cancelled && cancelled->load());
  });
  return committed_.load();
}

void RocksEventLog::WakeWaiters() {
  { std::lock_guard lock(commit_mu_); }
  commit_cv_.notify_all();
}

namespace {

class RocksSubscription final : public Subscription {
 public:
  RocksSubscription(RocksEventLog* log, uint64_t after) : log_(log), position_(after) {}

  StoreResult<std::vector<StoredEvent>> Next(size_t max_count,
                                             std::chrono::milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    if (log_->LastPosition() <= position_) {
      log_->WaitForCommitAfter(position_, deadline, &cancelled_);
    }
    if (cancelled_.exchange(false)) return std::vector<StoredEvent>{};
    const uint64_t committed = log_->LastPosition();
    BOOST_OUTCOME_TRY(events, log_->ReadAll(position_ + 1, max_count));
    if (!events.empty()) {
      position_ = events.back().position;
    } else if (committed > position_) {
      // Everything up to `committed` was archived (compaction): move past
      // it, or the next call would not wait.
      position_ = committed;
    }
    return events;
  }
  void Cancel() override {
    cancelled_.store(true);
    log_->WakeWaiters();
  }
  uint64_t position() const override { return position_; }

 private:
  RocksEventLog* log_;
  uint64_t position_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace

std::unique_ptr<Subscription> RocksEventLog::Subscribe(uint64_t after_position) {
  return std::make_unique<RocksSubscription>(this, after_position);
}

}  // namespace jobtrail::eventstore
