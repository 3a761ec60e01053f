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

#include "eventstore/archive.h"
#include "eventstore/event_log.h"
#include "eventstore/key_format.h"
#include "eventstore/log_stats.h"
#include "eventstore/rocks_logger.h"
#include "eventstore/rocks_recovery.h"

namespace jobtrail::eventstore {
namespace internal {
struct GroupState;
class WalGuardFs;
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
  // Where RocksDB's info log lines go (WARN and above; rocks_logger.h);
  // null: stderr. Never a LOG file in the log's directory (rocks_logger.h).
  LineLogger::Sink info_sink;
  // Compaction's archive (archive.h). Empty: the directory the log recorded
  // at its last compaction, if any (enough to read archived streams back);
  // ArchiveStreams needs one.
  std::string archive_dir;
  ArchiveCompression archive_compression = ArchiveCompression::kGzip;
  ArchiveRenderer archive_renderer;  // the "event" member of archive lines
};

// The log's vital signs, for metrics and readiness.
struct LogVitals {
  StorageHealth storage;          // can it write now?
  HistogramSnapshot group_events;  // events per group commit written
  HistogramSnapshot sync_seconds;  // WAL sync latency (kSync mode)
  size_t pending_appends = 0;     // queued or being committed
};

// What one ArchiveStreams did.
struct CompactionResult {
  uint64_t streams = 0;  // archived and removed from the log
  uint64_t events = 0;
  uint64_t archive_bytes = 0;  // written to the archive
};

class RocksEventLog final : public EventLog {
 public:
  // Opens (or creates) the log in `dir`. Errors: kNotFound (missing and not
  // create_if_missing), kCorruption (a path that is not a jobtrail log: a
  // file, a directory of other files, a foreign RocksDB; or a damaged log),
  // kIOError. Never modifies a directory it refuses.
  static StoreResult<std::unique_ptr<RocksEventLog>> Open(
      const std::string& dir, const RocksEventLogOptions& options);
  // Opens the log in `dir` read-only, as a RocksDB secondary instance: it
  // works while another process (a running `jobtrail serve`) holds the log
  // for writing, and reads the log as that process had written it at the
  // open; CatchUp() moves it on. `scratch_dir` (created if missing, removed
  // by the caller afterwards) holds the instance's own files. Appends
  // answer kInvalidArgument. Errors: as Open (kNotFound: no log there).
  static StoreResult<std::unique_ptr<RocksEventLog>> OpenSecondary(
      const std::string& dir, const std::string& scratch_dir,
      const RocksEventLogOptions& options);
  ~RocksEventLog() override;

  bool read_only() const { return read_only_; }
  // Secondary only: reads what the writer has written since the open or the
  // last CatchUp (whole groups: a prefix of the log). Returns LastPosition().
  StoreResult<uint64_t> CatchUp();
  // Writes a consistent copy of the log to `dest` (which must not exist;
  // its parent must) that opens as a log of its own and holds every event
  // committed before the call. The writer takes a RocksDB checkpoint (hard
  // links where `dest` is on the same filesystem, so it is near-instant and
  // appends go on meanwhile); a secondary catches up first and then copies
  // every family into a fresh database, reading rather than linking the
  // files, which the writer may delete at any moment. Returns the copy's
  // last position. Errors: kInvalidArgument (dest exists), kIOError.
  StoreResult<uint64_t> Backup(const std::string& dest);

  // Compaction (rocks_event_log_compact.cc). Writes each of `streams` whole
  // to the archive (durably), then in one atomic write removes their
  // records and index entries from the log, leaving per stream a tombstone
  // under its last version (so the stream keeps its version and its events
  // read back from the archive) and per run of removed positions one gap
  // record carrying the hash of the run's last record (so the chain goes on
  // across it), and sets the compaction cursor to `cursor`. Streams that
  // are unknown or archived already are skipped. The caller guarantees that
  // nobody appends to these streams any more. Errors: kInvalidArgument (no
  // archive directory; read-only), kIOError, kCorruption.
  StoreResult<CompactionResult> ArchiveStreams(const std::vector<std::string>& streams,
                                               uint64_t cursor);
  // The position up to which the caller has looked for streams to archive
  // (the last ArchiveStreams' `cursor`); 0 before the first.
  StoreResult<uint64_t> CompactionCursor();
  // The highest position ever archived; 0 before the first. Read models
  // that stand behind it miss archived events (they must be refolded).
  StoreResult<uint64_t> ArchivedThrough();
  // The archive directory archived streams are read from ("" if none).
  std::string ArchiveDir() {
    auto a = archive();
    return a ? a->dir() : std::string();
  }
  StoreResult<std::optional<Gap>> GapAt(uint64_t first) override;
  StoreResult<void> ForEachArchivedStream(const ArchivedStreamFn& fn) override;

  // Besides the EventLog errors: kUnavailable while the log cannot write
  // (a full disk, an I/O error while writing or syncing): every append is
  // refused at once, nothing of it is acknowledged, and the log recovers by
  // itself (RocksRecovery) once the disk is usable; an append refused so
  // may or may not show up after the recovery (retry it with the same event
  // ids). kCorruption if RocksDB found damage while writing.
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
  // In kSync mode, a group of fewer events waits for a running sync to end
  // (or for the queue to reach this many) before it is written.
  static constexpr size_t kSmallGroupEvents = 16;
  LogVitals Vitals();
  bool writable() const { return recovery_ == nullptr || recovery_->writable(); }
  // Blocks until the log takes appends again (true) or `deadline` passes.
  bool WaitWritable(std::chrono::steady_clock::time_point deadline) {
    return recovery_ == nullptr || recovery_->WaitWritable(deadline, nullptr);
  }
  // When `position` was committed (steady clock), if the log remembers; for
  // the read models' lag in seconds (log_stats.h).
  std::optional<std::chrono::steady_clock::time_point> CommittedAt(uint64_t position) {
    std::lock_guard lock(commit_mu_);
    return commit_clock_.CommittedAt(position);
  }

  // Blocks until a commit moves past `position`, `deadline` passes or
  // *cancelled is set. Returns the committed position. Used by subscriptions.
  uint64_t WaitForCommitAfter(uint64_t position,
                              std::chrono::steady_clock::time_point deadline,
                              const std::atomic<bool>* cancelled);
  void WakeWaiters();

  // Called by the thread that committed a group (ran its WAL sync; in
  // kNoSync mode, wrote it), with the committed position, after the commit
  // is visible to readers and before the group's appenders and the
  // subscriptions waiting in WaitForCommitAfter are woken. The
  // read models use it to apply the group at once, so that an appender
  // waiting for its write to show (read-your-writes) sleeps once, not twice.
  // Set once, before the first append; never called for a failed group.
  using CommitHook = std::function<void(uint64_t committed)>;
  void SetCommitHook(CommitHook hook) { commit_hook_ = std::move(hook); }

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
  // An append queued `events` on top of `before` waiting ones (counted
  // under mu_): wakes a parked leader if that makes its group big enough.
  void WakeParkedLeader(size_t before, size_t events);
  // Leader only: stages the group and writes it (never synced: see
  // AwaitCommit); sets each writer's result.
  void WriteGroup(const std::vector<Writer*>& group);
  // After a group is written: the log goes on from its end.
  void Advance(const GroupState& g);
  // A group whose write failed: refuses its appends and the log's (Fail).
  // `in_memtable`: RocksDB holds it anyway (the recovery makes it durable),
  // so the log goes on from after it.
  void FailGroup(const std::vector<Writer*>& group, const GroupState& g,
                 const rocksdb::Status& cause, bool in_memtable);
  // Deletes a written group from the memtable again (its WAL record was
  // dropped by the guard): tombstones for its records and index entries,
  // and the head as it was before it.
  rocksdb::Status UndoGroup(const GroupState& g);
  StoreResult<AppendResult> Stage(Writer& w, GroupState& g);
  StoreResult<std::optional<AppendResult>> FindDuplicate(const Writer& w, GroupState& g);
  StoreResult<std::optional<IdHit>> LookupId(std::string_view id, GroupState& g);
  StoreResult<uint64_t> CurrentVersion(const Writer& w, GroupState& g);
  // What the stream index has for the version: 0 nothing, 1 an entry, 2 a
  // tombstone (the stream was archived).
  StoreResult<int> StreamEntry(std::string_view stream, uint64_t version);
  // The stream's last version among records at positions <= `limit`;
  // *archived (if given) says whether the stream was archived.
  StoreResult<uint64_t> LatestVersion(std::string_view stream, uint64_t limit,
                                      bool* archived = nullptr);
  StoreResult<StoredEvent> ReadAt(uint64_t position);
  // The archive to read archived streams from; null when there is none.
  std::shared_ptr<const Archive> archive();
  // Points archive_ at options_.archive_dir or the directory the log has
  // recorded (at open; a secondary again when it catches up).
  StoreResult<void> LoadArchive();
  // How the log records options_.archive_dir (relative to the data
  // directory when inside it).
  std::string RecordedArchiveDir() const;
  StoreResult<uint64_t> ReadCounter(std::string_view key);  // a u64 in `default`
  // The stream's tombstone, if it was archived.
  StoreResult<std::optional<ArchiveRef>> TombstoneOf(std::string_view stream);
  StoreResult<std::vector<StoredEvent>> ReadLiveStream(std::string_view stream,
                                                      uint64_t from_version, size_t max_count);
  StoreResult<std::vector<StoredEvent>> ReadArchivedStream(const ArchiveRef& ref,
                                                          std::string_view stream,
                                                          uint64_t from_version,
                                                          size_t max_count);
  // kNoSync: a written position is committed.
  void Publish(uint64_t position, bool wake_subscriptions = true);
  // Refuses every append from now on until Recover() succeeds.
  void Fail(const rocksdb::Status& cause, const std::string& what);
  // The recovery thread's resume (rocks_event_log_recovery.cc).
  rocksdb::Status Recover();
  void StartRecovery();
  // Returns once the group's results are committed (syncing the WAL for it
  // and others in kSync mode) and its appenders are woken.
  void AwaitCommit(SyncWaiter waiter);
  void Settle(const SyncWaiter& waiter);  // REQUIRES(commit_mu_)
  void WakeSettled(const SyncWaiter& waiter, const Writer& me);

  // Declared before db_: the database uses them until it is closed.
  std::unique_ptr<rocksdb::Env> env_;             // over guard_
  std::shared_ptr<internal::WalGuardFs> guard_;   // see internal/wal_guard.h
  std::unique_ptr<RocksRecovery> recovery_;
  // Backup() of a secondary: a fresh database at dest with every family's
  // keys (rocks_event_log_backup.cc).
  StoreResult<void> CopyFamiliesTo(const std::string& dest);
  // Takes an opened database with its family handles (Open, OpenSecondary).
  void Adopt(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles,
             const std::string& dir, const RocksEventLogOptions& options);

  std::unique_ptr<rocksdb::DB> db_;
  std::string dir_;  // where the log is
  bool read_only_ = false;  // a secondary: no appends
  std::mutex archive_mu_;
  std::shared_ptr<const Archive> archive_;  // GUARDED_BY(archive_mu_)
  std::mutex compact_mu_;  // one ArchiveStreams at a time
  // Set by ArchiveStreams: the next leader drops its version cache (it may
  // hold versions of streams that are archived now).
  std::atomic<bool> version_cache_stale_{false};
  rocksdb::ColumnFamilyHandle* default_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* log_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* ids_cf_ = nullptr;
  RocksEventLogOptions options_;

  std::mutex mu_;
  std::deque<Writer*> writers_;  // GUARDED_BY(mu_); front is the leader
  bool closed_ = false;          // GUARDED_BY(mu_)

  // Held by the leader while it writes a group, and by Recover() while it
  // resumes the database: a recovery sees no write in flight.
  std::mutex write_mu_;
  // Touched only by the current leader (leadership is exclusive and handed
  // over with release/acquire through the writer queue and WakeEvent), and
  // by Recover() under write_mu_.
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
  // Events of the appends in writers_ (queued, not yet taken into a group),
  // and whether a leader waits for the running sync to end (LeadGroup).
  std::atomic<size_t> waiting_events_{0};
  std::atomic<bool> leader_parked_{false};
  std::deque<SyncWaiter> awaiting_sync_;  // GUARDED_BY(commit_mu_)
  StoreError failure_;                 // GUARDED_BY(commit_mu_)
  // Set when a group whose WAL record was dropped stays in the memtable
  // (its undo failed): positions from here are not durable until Recover()
  // flushed them, so no sync may commit them. 0: none.
  uint64_t uncommittable_from_ = 0;    // GUARDED_BY(commit_mu_)

  AtomicHistogram<12> group_events_{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096}};
  AtomicHistogram<14> sync_seconds_{{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                     0.025, 0.05, 0.1, 0.25, 0.5, 1, 5}};
  CommitClock commit_clock_;  // GUARDED_BY(commit_mu_)
  CommitHook commit_hook_;     // set before the first append, then read only
};

}  // namespace jobtrail::eventstore
