#include "eventstore/rocks_event_log.h"

#include <fmt/format.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <filesystem>
#include <unordered_set>

#include "eventstore/hash_chain.h"
#include "eventstore/key_format.h"

namespace jobtrail::eventstore {
namespace kf = key_format;
namespace {

constexpr size_t kMaxStreamLength = 256;
constexpr size_t kMaxEventIdLength = 256;
constexpr size_t kVersionCacheLimit = 1 << 20;

StoreError IoError(const rocksdb::Status& s) {
  return StoreError{StoreCode::kIOError, s.ToString(), 0};
}
StoreError Corruption(std::string message) {
  return StoreError{StoreCode::kCorruption, std::move(message), 0};
}
StoreError Invalid(std::string message) {
  return StoreError{StoreCode::kInvalidArgument, std::move(message), 0};
}

rocksdb::ColumnFamilyOptions PointLookupFamily() {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

}  // namespace

struct RocksEventLog::Writer {
  std::string stream;
  uint64_t expected_version;
  std::vector<EventToAppend> events;
  bool done = false;
  StoreResult<AppendResult> result = StoreError{StoreCode::kClosed, "not run", 0};
  std::condition_variable cv;
};

// What a group has staged but not yet committed: later appends in the same
// group must see the versions and ids of earlier ones.
struct RocksEventLog::GroupState {
  rocksdb::WriteBatch batch;
  uint64_t position = 0;
  std::string hash;
  std::unordered_map<std::string, uint64_t> versions;
  std::unordered_map<std::string, AppendResult> ids;  // first id -> result
  std::unordered_set<std::string> all_ids;
};

StoreResult<std::unique_ptr<RocksEventLog>> RocksEventLog::Open(
    const std::string& dir, const RocksEventLogOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool exists = fs::exists(dir, ec);
  if (!exists && !options.create_if_missing) {
    return StoreError{StoreCode::kNotFound,
                      fmt::format("no event log at '{}'", dir), 0};
  }
  if (exists && !fs::is_directory(dir, ec)) {
    return Corruption(fmt::format("'{}' is not a directory", dir));
  }
  if (exists && !fs::is_empty(dir, ec) && !fs::exists(fs::path(dir) / "CURRENT", ec)) {
    return Corruption(fmt::format(
        "'{}' is not empty and holds no jobtrail event log; refusing to use it", dir));
  }

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.env = options.env != nullptr ? options.env : rocksdb::Env::Default();
  db_options.IncreaseParallelism(2);
  db_options.max_open_files = 512;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;

  rocksdb::ColumnFamilyOptions log_cf;
  log_cf.OptimizeLevelStyleCompaction();
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {std::string(kf::kLogFamily), log_cf},
      {std::string(kf::kStreamsFamily), PointLookupFamily()},
      {std::string(kf::kIdsFamily), PointLookupFamily()},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, families, &handles, &raw);
  if (!s.ok()) {
    if (s.IsInvalidArgument()) {
      return Corruption(fmt::format("'{}' is not a jobtrail event log: {}", dir, s.ToString()));
    }
    return IoError(s);
  }
  std::unique_ptr<RocksEventLog> log(new RocksEventLog());
  log->db_.reset(raw);
  log->default_cf_ = handles[0];
  log->log_cf_ = handles[1];
  log->streams_cf_ = handles[2];
  log->ids_cf_ = handles[3];
  log->options_ = options;

  std::string marker;
  s = raw->Get(rocksdb::ReadOptions(), log->default_cf_, kf::kFormatKey, &marker);
  if (s.IsNotFound()) {
    std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(rocksdb::ReadOptions(), log->log_cf_));
    it->SeekToFirst();
    if (it->Valid()) return Corruption("event log has records but no format marker");
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = raw->Put(wo, log->default_cf_, kf::kFormatKey, kf::kFormatMarker);
    if (!s.ok()) return IoError(s);
  } else if (!s.ok()) {
    return IoError(s);
  } else if (marker != kf::kFormatMarker) {
    return Corruption(fmt::format("unknown event log format '{}'", marker));
  }

  // Recover the head: position and hash of the last record.
  log->last_hash_ = GenesisHash();
  std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(rocksdb::ReadOptions(), log->log_cf_));
  it->SeekToLast();
  if (it->Valid()) {
    if (it->key().size() != 8) return Corruption("malformed position key");
    const uint64_t position = kf::GetU64(it->key().ToStringView());
    auto record = kf::DecodeRecord(position, it->value().ToStringView());
    if (!record) return Corruption(fmt::format("record {} is malformed", position));
    log->last_position_ = position;
    log->last_hash_ = record->hash;
  }
  if (!it->status().ok()) return IoError(it->status());
  log->committed_.store(log->last_position_);
  return log;
}

RocksEventLog::~RocksEventLog() {
  {
    std::unique_lock lock(mu_);
    closed_ = true;
  }
  WakeWaiters();
  if (db_) {
    // A clean close makes even kNoSync writes durable.
    (void)db_->SyncWAL();  // best effort at shutdown; nothing to report to
    for (auto* h : {default_cf_, log_cf_, streams_cf_, ids_cf_}) {
      if (h != nullptr) (void)db_->DestroyColumnFamilyHandle(h);  // at close
    }
    (void)db_->Close();  // errors at close leave nothing to recover
  }
}

StoreResult<AppendResult> RocksEventLog::Append(std::string_view stream,
                                                uint64_t expected_version,
                                                std::vector<EventToAppend> events) {
  Writer w;
  w.stream.assign(stream);
  w.expected_version = expected_version;
  w.events = std::move(events);

  std::unique_lock lock(mu_);
  if (closed_) return StoreError{StoreCode::kClosed, "event log is closed", 0};
  writers_.push_back(&w);
  while (!w.done && &w != writers_.front()) w.cv.wait(lock);
  if (w.done) return std::move(w.result);

  // Leader: take everything queued, up to the bound.
  std::vector<Writer*> group;
  size_t events_in_group = 0;
  for (Writer* other : writers_) {
    if (!group.empty() && events_in_group + other->events.size() > options_.max_group_events) break;
    group.push_back(other);
    events_in_group += other->events.size();
  }
  lock.unlock();
  CommitGroup(group);
  lock.lock();
  for (size_t i = 0; i < group.size(); ++i) {
    Writer* done = writers_.front();
    writers_.pop_front();
    done->done = true;
    if (done != &w) done->cv.notify_one();
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  return std::move(w.result);
}

void RocksEventLog::CommitGroup(const std::vector<Writer*>& group) {
  GroupState g;
  g.position = last_position_;
  g.hash = last_hash_;
  std::vector<Writer*> staged;
  for (Writer* w : group) {
    w->result = Stage(*w, g);
    if (w->result && !w->result.value().duplicate) staged.push_back(w);
  }
  if (staged.empty()) return;

  rocksdb::WriteOptions wo;
  wo.sync = options_.durability == Durability::kSync;
  rocksdb::Status s = db_->Write(wo, &g.batch);
  if (!s.ok()) {
    for (Writer* w : staged) w->result = IoError(s);
    // Versions staged in the cache are unknown now; re-read them.
    version_cache_.clear();
    return;
  }
  last_position_ = g.position;
  last_hash_ = g.hash;
  if (version_cache_.size() + g.versions.size() > kVersionCacheLimit) version_cache_.clear();
  for (auto& [stream, version] : g.versions) version_cache_[stream] = version;
  {
    std::lock_guard lock(commit_mu_);
    committed_.store(g.position);
  }
  commit_cv_.notify_all();
}

StoreResult<AppendResult> RocksEventLog::Stage(Writer& w, GroupState& g) {
  if (w.events.empty()) return Invalid("an append needs at least one event");
  if (w.stream.empty() || w.stream.size() > kMaxStreamLength) {
    return Invalid(fmt::format("stream name must be 1 to {} bytes", kMaxStreamLength));
  }
  std::unordered_set<std::string_view> in_request;
  for (const auto& e : w.events) {
    if (e.event_id.empty() || e.event_id.size() > kMaxEventIdLength) {
      return Invalid(fmt::format("event id must be 1 to {} bytes", kMaxEventIdLength));
    }
    if (!in_request.insert(e.event_id).second) {
      return Invalid(fmt::format("event id '{}' appears twice in one append", e.event_id));
    }
  }
  BOOST_OUTCOME_TRY(duplicate, FindDuplicate(w, g));
  if (duplicate) return *duplicate;

  BOOST_OUTCOME_TRY(current_version, CurrentVersion(w.stream, g));
  uint64_t current = current_version;
  if (w.expected_version != kAnyVersion && w.expected_version != current) {
    return StoreError{StoreCode::kWrongExpectedVersion,
                      fmt::format("stream '{}' is at version {}, expected {}",
                                  w.stream, current, w.expected_version),
                      current};
  }
  AppendResult result{g.position + 1, g.position + w.events.size(), current + 1,
                      current + w.events.size(), false};
  for (auto& e : w.events) {
    StoredEvent se;
    se.position = ++g.position;
    se.stream = w.stream;
    se.version = ++current;
    se.event_id = std::move(e.event_id);
    se.data = std::move(e.data);
    se.hash = ChainHash(g.hash, se);
    g.hash = se.hash;
    const std::string position_key = kf::PositionKey(se.position);
    rocksdb::Status s = g.batch.Put(log_cf_, position_key, kf::EncodeRecord(se));
    if (s.ok()) s = g.batch.Put(streams_cf_, kf::StreamKey(se.stream, se.version), position_key);
    if (s.ok()) s = g.batch.Put(ids_cf_, se.event_id, position_key);
    if (!s.ok()) return IoError(s);  // WriteBatch only fails on size limits
    g.all_ids.insert(se.event_id);
    if (se.version == result.first_version) g.ids.emplace(se.event_id, result);
  }
  g.versions[w.stream] = current;
  return result;
}

StoreResult<std::optional<AppendResult>> RocksEventLog::FindDuplicate(const Writer& w,
                                                                      GroupState& g) {
  const std::string& first_id = w.events.front().event_id;
  auto same_group = g.ids.find(first_id);
  std::optional<AppendResult> original;
  if (same_group != g.ids.end()) {
    original = same_group->second;
  } else {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ids_cf_, first_id, &value);
    if (s.ok()) {
      if (value.size() != 8) return Corruption("malformed id index entry");
      BOOST_OUTCOME_TRY(first, ReadAt(kf::GetU64(value)));
      if (first.stream != w.stream) {
        return Invalid(fmt::format("event id '{}' was already used in another stream", first_id));
      }
      original = AppendResult{first.position, first.position + w.events.size() - 1,
                              first.version, first.version + w.events.size() - 1, true};
    } else if (!s.IsNotFound()) {
      return IoError(s);
    }
  }
  if (original) {
    original->duplicate = true;
    return original;
  }
  // A fresh first id: none of the others may be in use either.
  for (const auto& e : w.events) {
    if (g.all_ids.count(e.event_id) != 0) {
      return Invalid(fmt::format("event id '{}' is already in the log", e.event_id));
    }
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ids_cf_, e.event_id, &value);
    if (s.ok()) return Invalid(fmt::format("event id '{}' is already in the log", e.event_id));
    if (!s.IsNotFound()) return IoError(s);
  }
  return std::optional<AppendResult>{};
}

StoreResult<uint64_t> RocksEventLog::CurrentVersion(const std::string& stream, GroupState& g) {
  if (auto it = g.versions.find(stream); it != g.versions.end()) return it->second;
  if (auto it = version_cache_.find(stream); it != version_cache_.end()) return it->second;
  return StreamVersion(stream);
}

StoreResult<uint64_t> RocksEventLog::StreamVersion(std::string_view stream) {
  const std::string prefix = kf::StreamPrefix(stream);
  std::string upper = prefix;
  upper.append(8, '\xff');
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
  it->SeekForPrev(upper);
  if (it->Valid() && it->key().starts_with(prefix)) {
    if (it->key().size() != prefix.size() + 8) return Corruption("malformed stream key");
    return kf::GetU64(it->key().ToStringView().substr(prefix.size()));
  }
  if (!it->status().ok()) return IoError(it->status());
  return uint64_t{0};
}

StoreResult<StoredEvent> RocksEventLog::ReadAt(uint64_t position) {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), log_cf_, kf::PositionKey(position), &value);
  if (s.IsNotFound()) return Corruption(fmt::format("indexed record {} is missing", position));
  if (!s.ok()) return IoError(s);
  auto record = kf::DecodeRecord(position, value);
  if (!record) return Corruption(fmt::format("record {} is malformed", position));
  return std::move(*record);
}

StoreResult<std::vector<StoredEvent>> RocksEventLog::ReadStream(std::string_view stream,
                                                                uint64_t from_version,
                                                                size_t max_count) {
  std::vector<StoredEvent> out;
  const std::string prefix = kf::StreamPrefix(stream);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
  for (it->Seek(kf::StreamKey(stream, std::max<uint64_t>(from_version, 1)));
       it->Valid() && it->key().starts_with(prefix) && out.size() < max_count; it->Next()) {
    if (it->value().size() != 8) return Corruption("malformed stream index entry");
    BOOST_OUTCOME_TRY(e, ReadAt(kf::GetU64(it->value().ToStringView())));
    out.push_back(std::move(e));
  }
  if (!it->status().ok()) return IoError(it->status());
  return out;
}

StoreResult<std::vector<StoredEvent>> RocksEventLog::ReadAll(uint64_t from_position,
                                                             size_t max_count) {
  std::vector<StoredEvent> out;
  const uint64_t last = committed_.load();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
  for (it->Seek(kf::PositionKey(std::max<uint64_t>(from_position, 1)));
       it->Valid() && out.size() < max_count; it->Next()) {
    if (it->key().size() != 8) return Corruption("malformed position key");
    const uint64_t position = kf::GetU64(it->key().ToStringView());
    if (position > last) break;  // not acknowledged yet
    auto record = kf::DecodeRecord(position, it->value().ToStringView());
    if (!record) return Corruption(fmt::format("record {} is malformed", position));
    out.push_back(std::move(*record));
  }
  if (!it->status().ok()) return IoError(it->status());
  return out;
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
    BOOST_OUTCOME_TRY(events, log_->ReadAll(position_ + 1, max_count));
    if (!events.empty()) position_ = events.back().position;
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
