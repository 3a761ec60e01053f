// RocksEventLog: opening a data directory, the read path and subscriptions.
// The write path (group commit) is in rocks_event_log_append.cc.
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

namespace jobtrail::eventstore {
namespace kf = key_format;
namespace {

StoreError IoError(const rocksdb::Status& s) {
  return StoreError{StoreCode::kIOError, s.ToString(), 0};
}
StoreError Corruption(std::string message) {
  return StoreError{StoreCode::kCorruption, std::move(message), 0};
}

std::vector<std::string> FamilyNames() {
  return {rocksdb::kDefaultColumnFamilyName, std::string(kf::kLogFamily),
          std::string(kf::kStreamsFamily), std::string(kf::kIdsFamily)};
}

constexpr uint64_t kMaxTotalWalBytes = uint64_t{64} << 20;
constexpr size_t kScanReadahead = size_t{4} << 20;

rocksdb::ColumnFamilyOptions LogFamily() {
  rocksdb::ColumnFamilyOptions cf;
  cf.OptimizeLevelStyleCompaction();
  // Positions only grow: with every key in one hint "prefix" the memtable
  // inserts next to the previous key instead of searching the skiplist.
  cf.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(4));
  return cf;
}

// The index families answer point lookups, and most of them miss (a fresh
// event id; a stream's next version): bloom filters in the tables and the
// memtable answer those without a search.
rocksdb::ColumnFamilyOptions IndexFamily() {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf.memtable_prefix_bloom_size_ratio = 0.05;
  cf.memtable_whole_key_filtering = true;
  // A group puts its index entries in key order (see GroupState). With one
  // hint for the whole memtable, RocksDB starts each insert from the last
  // one and fixes only the skiplist levels that do not bracket the new key.
  cf.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewCappedPrefixTransform(0));
  return cf;
}

// The ids family is only ever looked up by whole key, never iterated in
// order (but to flush), so its memtable is a hash table: an insert costs a
// hash instead of a skiplist search. That cut the instructions of an append
// by a third (callgrind, 10-event appends: 43.1k -> 29.4k per event).
rocksdb::ColumnFamilyOptions IdFamily() {
  rocksdb::ColumnFamilyOptions cf = IndexFamily();
  cf.memtable_insert_with_hint_prefix_extractor.reset();
  cf.prefix_extractor.reset(rocksdb::NewCappedPrefixTransform(1 << 20));  // the whole id
  cf.memtable_factory.reset(rocksdb::NewHashLinkListRepFactory(1 << 18));
  return cf;
}

// Checks what is at `dir` before RocksDB may touch it. Returns true if a new
// log is to be created there.
StoreResult<bool> InspectDirectory(const std::string& dir, const RocksEventLogOptions& options,
                                   const rocksdb::DBOptions& db_options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool exists = fs::exists(dir, ec);
  if (ec) return StoreError{StoreCode::kIOError, fmt::format("'{}': {}", dir, ec.message()), 0};
  if (exists && !fs::is_directory(dir, ec)) {
    return Corruption(fmt::format("'{}' is not a directory", dir));
  }
  const bool empty = !exists || fs::is_empty(dir, ec);
  if (ec) return StoreError{StoreCode::kIOError, fmt::format("'{}': {}", dir, ec.message()), 0};
  if (empty) {
    if (!options.create_if_missing) {
      return StoreError{StoreCode::kNotFound, fmt::format("no event log at '{}'", dir), 0};
    }
    return true;
  }
  if (!fs::exists(fs::path(dir) / "CURRENT", ec)) {
    return Corruption(fmt::format(
        "'{}' is not empty and holds no jobtrail event log; refusing to use it", dir));
  }
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options, dir, &names);
  if (!s.ok()) {
    return Corruption(fmt::format("'{}' is not a jobtrail event log: {}", dir, s.ToString()));
  }
  std::vector<std::string> expected = FamilyNames();
  std::sort(names.begin(), names.end());
  std::sort(expected.begin(), expected.end());
  if (names != expected) {
    return Corruption(fmt::format(
        "'{}' holds a RocksDB database with column families [{}], not a jobtrail event log",
        dir, fmt::join(names, ", ")));
  }
  return false;
}

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
  rocksdb::DBOptions db_options;
  db_options.env = options.env != nullptr ? options.env : rocksdb::Env::Default();
  db_options.IncreaseParallelism(2);
  db_options.max_open_files = 512;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  // Required by the hash memtable of the ids family; there is only ever one
  // writer (the group leader) anyway.
  db_options.allow_concurrent_memtable_write = false;
  // A restart after a crash replays the WAL into the memtables: cap what
  // it holds, so memtables are flushed by then and recovery reads at most
  // this much (with 128 MiB memtables, 600k events took 5 s to reopen).
  db_options.max_total_wal_size = kMaxTotalWalBytes;
  BOOST_OUTCOME_TRY(is_new, InspectDirectory(dir, options, db_options));
  db_options.create_if_missing = is_new;
  db_options.create_missing_column_families = is_new;

  const std::vector<std::string> names = FamilyNames();
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {names[0], rocksdb::ColumnFamilyOptions()},
      {names[1], LogFamily()},
      {names[2], IndexFamily()},
      {names[3], IdFamily()},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, families, &handles, &raw);
  if (!s.ok()) {
    if (s.IsInvalidArgument() || s.IsCorruption()) {
      return Corruption(fmt::format("'{}' is not a usable event log: {}", dir, s.ToString()));
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
    auto record = kf::DecodeRecord(position, it->value().ToStringView());
    if (!record) return Corruption(fmt::format("record {} is malformed", position));
    if (position > last_position_) {
      last_position_ = position;
      last_hash_ = record->hash;
    }
  }
  if (!it->status().ok()) return IoError(it->status());
  written_.store(last_position_);
  committed_.store(last_position_);
  return boost::outcome_v2::success();
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

StoreResult<uint64_t> RocksEventLog::StreamVersion(std::string_view stream) {
  return LatestVersion(stream, committed_.load());
}

StoreResult<uint64_t> RocksEventLog::LatestVersion(std::string_view stream, uint64_t limit) {
  const std::string prefix = kf::StreamPrefix(stream);
  std::string upper = prefix;
  upper.append(8, '\xff');
  rocksdb::Slice lower_bound(prefix);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_bound;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, streams_cf_));
  for (it->SeekForPrev(upper); it->Valid() && it->key().starts_with(prefix); it->Prev()) {
    if (it->key().size() != prefix.size() + 8 || it->value().size() != kf::kPositionKeySize) {
      return Corruption("malformed stream index entry");
    }
    // Versions grow with positions: skip only what is not committed yet.
    if (kf::GetU64(it->value().ToStringView()) <= limit) {
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

StoreResult<std::vector<StoredEvent>> RocksEventLog::ReadStream(std::string_view stream,
                                                                uint64_t from_version,
                                                                size_t max_count) {
  // The index gives the positions; the records are then fetched with one
  // MultiGet per chunk, cheaper than a Get each.
  constexpr size_t kChunk = 64;
  std::vector<StoredEvent> out;
  const uint64_t limit = committed_.load();
  const std::string prefix = kf::StreamPrefix(stream);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), streams_cf_));
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
  for (it->Seek(kf::StreamKey(stream, std::max<uint64_t>(from_version, 1)));
       it->Valid() && it->key().starts_with(prefix) && out.size() + keys.size() < max_count;
       it->Next()) {
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
  if (!keys.empty()) {
    BOOST_OUTCOME_TRY(fetch());
  }
  return out;
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
