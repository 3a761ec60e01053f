#pragma once
// A FileSystemWrapper under the event log's RocksDB that keeps WAL append
// failures (ENOSPC, EIO) away from RocksDB's own WAL writer.
//
// Why: Debian's librocksdb 7.8.3 is built with assertions, and its
// WritableFileWriter asserts (aborting the process) when any call follows a
// failed append on the same file, unless the failure came from
// SyncWithoutFlush. The group commit syncs the WAL (SyncWAL ->
// SyncWithoutFlush) while the next group appends to it, so an append that
// fails on a full disk while a sync is starting takes the server down, and
// a failed first append into a fresh WAL leaves RocksDB with a WAL writer it
// never replaces (DB::Resume switches WALs only when a memtable holds data).
// Upstream removed the assertion in 2024 (facebook/rocksdb#12556).
//
// So a failed WAL append is reported to RocksDB as a success: the batch goes
// into the memtable, and the file is marked broken. Every later append to a
// broken file is dropped (nothing may follow the hole), its syncs still sync
// what did reach the file, and broken() tells the event log, which fails the
// group (never acknowledged) and recovers with DB::Resume: that flushes the
// memtables (the failed group included) into tables and starts a new WAL.
// A crash before that replays the broken WAL up to its torn end (a prefix;
// PosixWritableFile's close truncates a partial record away).
//
// Thread-safe.
#include <rocksdb/file_system.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

namespace jobtrail::eventstore::internal {

class WalGuardFs final : public rocksdb::FileSystemWrapper {
 public:
  explicit WalGuardFs(std::shared_ptr<rocksdb::FileSystem> target)
      : rocksdb::FileSystemWrapper(std::move(target)) {}
  const char* Name() const override { return "JobtrailWalGuardFs"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& name,
                                       const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;

  // True once a WAL append failed and until ClearBroken().
  bool broken() const { return broken_.load(std::memory_order_acquire); }
  // The failure that broke it (empty if none).
  rocksdb::IOStatus failure() const;
  // Is the WAL that RocksDB appends to now (the newest) a broken one?
  bool newest_wal_broken() const;
  // After DB::Resume started a new WAL: appends may fail afresh.
  void ClearBroken();

  // Called by a guarded file.
  void OnAppendFailed(const rocksdb::IOStatus& s, uint64_t file_id);

 private:
  rocksdb::IOStatus Wrap(const std::string& name, std::unique_ptr<rocksdb::FSWritableFile>* result);

  std::atomic<bool> broken_{false};
  mutable std::mutex mu_;
  rocksdb::IOStatus failure_;   // GUARDED_BY(mu_)
  uint64_t next_file_id_ = 1;   // GUARDED_BY(mu_)
  uint64_t newest_wal_ = 0;     // GUARDED_BY(mu_)
  uint64_t newest_broken_ = 0;  // GUARDED_BY(mu_): newest broken file's id
};

// True for RocksDB WAL file names ("000123.log"); not the info log "LOG".
bool IsWalFileName(const std::string& path);

}  // namespace jobtrail::eventstore::internal
