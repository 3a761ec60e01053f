#pragma once
// EventLog on RocksDB (layout: eventstore/key_format.h, FORMAT.md).
//
// Appends go through a group commit in the style of LevelDB's DBImpl::Write:
// appenders queue up; the one at the front becomes the leader, takes every
// waiting append (up to a bound) into one WriteBatch, validates each against
// the stream versions and event ids, chains the hashes and writes the batch.
// A lone appender pays no thread hand-off.
//
// The leader writes without syncing and hands leadership to the next
// appender at once, so the next group is validated and written while this
// one's WAL sync runs. With Durability::kSync the syncs are a group commit
// of their own: one SyncWAL covers every group written before it; groups
// written while it runs wait, and the thread whose sync ends starts the next
// one for all of them and wakes the appenders it settled (see AwaitCommit).
// Readers see only the committed prefix (LastPosition()): in kSync mode
// that is what is synced, so nothing a crash could still take back is ever
// read or acknowledged.
//
// Thread safety: every method may be called from any thread. The log must
// outlive its subscriptions, and no call may be in flight when it is
// destroyed.
#include <rocksdb/db.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "eventstore/event_log.h"
#include "eventstore/key_format.h"

namespace jobtrail::eventstore {
namespace internal {
struct GroupState;
}  // namespace internal

enum class Durability {
  kSync,    // acknowledged after the WAL is fsynced (the default)
  kNoSync,  // acknowledged after the write reached the OS; faster, may lose
            // the last writes on power loss (not on a process crash)
};

struct RocksEventLogOptions {
  Durability durability = Durability::kSync;
  bool create_if_missing = true;
  // The most events, and bytes of ids and data, one group commit takes
  // (an append larger than either still goes, alone); bound a leader's
  // latency and the memory of one WriteBatch.
  size_t max_group_events = 8192;
  size_t max_group_bytes = size_t{8} << 20;
  // Injected for fault tests (a filesystem that drops unsynced data); null
  // means the default Env.
  rocksdb::Env* env = nullptr;
};

class RocksEventLog final : public EventLog {
 public:
  // Opens (or creates) the log in `dir`. Errors: kNotFound (missing and not
  // create_if_missing), kCorruption (a path that is not a jobtrail log: a
  // file, a directory of other files, a foreign RocksDB; or a damaged log),
  // kIOError. Never modifies a directory it refuses.
  static StoreResult<std::unique_ptr<RocksEventLog>> Open(
      const std::string& dir, const RocksEventLogOptions& options);
  ~RocksEventLog() override;

  // Besides the EventLog errors: kIOError for every append after a failed
  // write or sync (the log fails stop; reopen it to go on).
  StoreResult<AppendResult> Append(std::string_view stream,
                                   uint64_t expected_version,
                                   std::vector<EventToAppend> events) override;
  std::vector<StoreResult<AppendResult>> AppendMany(
      std::vector<StreamAppend> appends) override;
  StoreResult<std::vector<StoredEvent>> ReadStream(std::string_view stream,
                                                   uint64_t from_version,
                                                   size_t max_count) override;
  StoreResult<uint64_t> StreamVersion(std::string_view stream) override;
  StoreResult<std::vector<StoredEvent>> ReadAll(uint64_t from_position,
                                                size_t max_count) override;
  StoreResult<uint64_t> Scan(uint64_t from_position, uint64_t to_position,
                             const std::function<bool(const EventRef&)>& fn) override;
  uint64_t LastPosition() const override { return committed_.load(); }
  std::unique_ptr<Subscription> Subscribe(uint64_t after_position) override;

  // Appends queued or being committed right now (a gauge for metrics; tests
  // use it to know that appenders are lined up behind a leader).
  size_t PendingAppends();

  // Blocks until a commit moves past `position`, `deadline` passes or
  // *cancelled is set. Returns the committed position. Used by subscriptions.
  uint64_t WaitForCommitAfter(uint64_t position,
                              std::chrono::steady_clock::time_point deadline,
                              const std::atomic<bool>* cancelled);
  void WakeWaiters();

 private:
  struct Writer;
  // A written group whose appends wait for a WAL sync (kSync mode).
  struct SyncWaiter {
    uint64_t must_commit = 0;  // the highest position its results report
    Writer* leader = nullptr;
    std::vector<Writer*> group;  // the leader included
  };
  using GroupState = internal::GroupState;
  struct IdHit {  // an event id found in the log or the group
    key_format::IdEntry entry;
    std::string stream;  // set for the first id of an append only
    uint64_t version = 0;
  };
  struct StringHash {  // lets the version cache be searched by string_view
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  RocksEventLog();
  StoreResult<void> RecoverHead();
  // Leader only: runs one group, then passes leadership on.
  void LeadGroup(Writer& leader);
  // Leader only: stages the group and writes it (never synced: see
  // AwaitCommit); sets each writer's result.
  void WriteGroup(const std::vector<Writer*>& group);
  StoreResult<AppendResult> Stage(Writer& w, GroupState& g);
  StoreResult<std::optional<AppendResult>> FindDuplicate(const Writer& w, GroupState& g);
  StoreResult<std::optional<IdHit>> LookupId(std::string_view id, GroupState& g);
  StoreResult<uint64_t> CurrentVersion(const Writer& w, GroupState& g);
  StoreResult<bool> StreamHasVersion(std::string_view stream, uint64_t version);
  // The stream's last version among records at positions <= `limit`.
  StoreResult<uint64_t> LatestVersion(std::string_view stream, uint64_t limit);
  StoreResult<StoredEvent> ReadAt(uint64_t position);
  void Publish(uint64_t position);  // kNoSync: a written position is committed
  void Fail(const std::string& why);
  // Returns once the group's results are committed (syncing the WAL for it
  // and others in kSync mode) and its appenders are woken.
  void AwaitCommit(SyncWaiter waiter);
  void Settle(const SyncWaiter& waiter);  // REQUIRES(commit_mu_)
  void WakeSettled(const SyncWaiter& waiter, const Writer& me);

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* log_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* ids_cf_ = nullptr;
  RocksEventLogOptions options_;

  std::mutex mu_;
  std::deque<Writer*> writers_;  // GUARDED_BY(mu_); front is the leader
  bool closed_ = false;          // GUARDED_BY(mu_)

  // Touched only by the current leader (leadership is exclusive and handed
  // over with release/acquire through the writer queue and WakeEvent).
  uint64_t last_position_ = 0;  // written, not necessarily synced
  std::string last_hash_;
  std::unordered_map<std::string, uint64_t, StringHash, std::equal_to<>> version_cache_;
  std::unique_ptr<GroupState> group_state_;  // reused: keeps its capacity

  std::atomic<uint64_t> written_{0};    // in the WAL, maybe not synced
  std::atomic<uint64_t> committed_{0};  // readable and acknowledged
  std::atomic<bool> failed_{false};
  std::mutex commit_mu_;
  std::condition_variable commit_cv_;  // committed_ moved, or failed_ set
  bool sync_running_ = false;          // GUARDED_BY(commit_mu_)
  std::deque<SyncWaiter> awaiting_sync_;  // GUARDED_BY(commit_mu_)
  std::string failure_;                // GUARDED_BY(commit_mu_)
};

}  // namespace jobtrail::eventstore
