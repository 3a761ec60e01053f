#pragma once
// EventLog on RocksDB (layout: eventstore/key_format.h, FORMAT.md).
//
// Appends go through a group commit in the style of LevelDB's DBImpl::Write:
// appenders queue up; the one at the front becomes the leader, takes every
// waiting append (up to a bound) into one WriteBatch, validates each against
// the stream versions, chains the hashes, writes and syncs once, and wakes
// the others with their own results. A lone appender pays no thread hand-off.
#include <rocksdb/db.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "eventstore/event_log.h"

namespace jobtrail::eventstore {

enum class Durability {
  kSync,    // acknowledged after the WAL is fsynced (the default)
  kNoSync,  // acknowledged after the write reached the OS; faster, may lose
            // the last writes on power loss (not on a process crash)
};

struct RocksEventLogOptions {
  Durability durability = Durability::kSync;
  bool create_if_missing = true;
  // The most events one group commit takes; bounds a leader's latency.
  size_t max_group_events = 8192;
  // Injected for fault tests (a filesystem that drops unsynced data); null
  // means the default Env.
  rocksdb::Env* env = nullptr;
};

class RocksEventLog final : public EventLog {
 public:
  // Opens (or creates) the log in `dir`. Errors: kNotFound (missing and not
  // create_if_missing), kCorruption (a directory that is not a jobtrail log
  // or a damaged one), kIOError.
  static StoreResult<std::unique_ptr<RocksEventLog>> Open(
      const std::string& dir, const RocksEventLogOptions& options);
  ~RocksEventLog() override;

  StoreResult<AppendResult> Append(std::string_view stream,
                                   uint64_t expected_version,
                                   std::vector<EventToAppend> events) override;
  StoreResult<std::vector<StoredEvent>> ReadStream(std::string_view stream,
                                                   uint64_t from_version,
                                                   size_t max_count) override;
  StoreResult<uint64_t> StreamVersion(std::string_view stream) override;
  StoreResult<std::vector<StoredEvent>> ReadAll(uint64_t from_position,
                                                size_t max_count) override;
  uint64_t LastPosition() const override { return committed_.load(); }
  std::unique_ptr<Subscription> Subscribe(uint64_t after_position) override;

  // Blocks until a commit moves past `position` or `deadline` passes.
  // Returns the committed position. Used by subscriptions.
  uint64_t WaitForCommitAfter(uint64_t position,
                              std::chrono::steady_clock::time_point deadline,
                              const std::atomic<bool>* cancelled);
  void WakeWaiters();

 private:
  struct Writer;
  struct GroupState;

  RocksEventLog() = default;
  // Leader only. Fills each writer's result; one WriteBatch, one sync.
  void CommitGroup(const std::vector<Writer*>& group);
  StoreResult<AppendResult> Stage(Writer& w, GroupState& g);
  StoreResult<std::optional<AppendResult>> FindDuplicate(const Writer& w,
                                                         GroupState& g);
  StoreResult<uint64_t> CurrentVersion(const std::string& stream, GroupState& g);
  StoreResult<StoredEvent> ReadAt(uint64_t position);

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* log_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* ids_cf_ = nullptr;
  RocksEventLogOptions options_;

  std::mutex mu_;
  std::deque<Writer*> writers_;  // GUARDED_BY(mu_); front is the leader
  bool closed_ = false;          // GUARDED_BY(mu_)

  // Touched only by the current leader (leadership is exclusive).
  uint64_t last_position_ = 0;
  std::string last_hash_;
  std::unordered_map<std::string, uint64_t> version_cache_;

  std::atomic<uint64_t> committed_{0};
  std::mutex commit_mu_;
  std::condition_variable commit_cv_;
};

}  // namespace jobtrail::eventstore
