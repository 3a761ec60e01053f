// RocksEventLog when the disk fails it: refusing appends (Fail) and coming
// back (Recover, run by RocksRecovery's thread). See rocks_recovery.h for
// how RocksDB's background errors are handled and internal/wal_guard.h for
// why a failed WAL append is hidden from RocksDB.
//
// What is durable after a failure: every group written before it, in the
// memtables and the WAL. Its appenders were answered with the failure (not
// acknowledged) unless their sync had already completed. Recover() flushes
// the memtables into tables (DB::Resume after a background error, a plain
// flush after a failure only the guard saw), which also starts a new WAL;
// from then on everything written is durable, so it becomes committed and
// readable, and appends are taken again.
#include <fmt/format.h>

#include "eventstore/internal/wal_guard.h"
#include "eventstore/rocks_event_log.h"

namespace jobtrail::eventstore {
namespace kf = key_format;

void RocksEventLog::Fail(const rocksdb::Status& cause, const std::string& what) {
  const bool corrupt = cause.IsCorruption();
  {
    std::lock_guard lock(commit_mu_);
    if (!failed_.load()) {
      // The message names files: it is for the server's log, never for a
      // client (FromStoreError answers a fixed text).
      failure_ = StoreError{corrupt ? StoreCode::kCorruption : StoreCode::kUnavailable,
                            fmt::format("the event log cannot write ({} failed: {})", what,
                                        cause.ToString()),
                            0};
      failed_.store(true);
    }
  }
  commit_cv_.notify_all();
  if (recovery_) recovery_->ReportFailure(cause);
}

rocksdb::Status RocksEventLog::Recover() {
  // No group is being written while this runs; new ones are refused until
  // failed_ is cleared below.
  std::lock_guard write_lock(write_mu_);
  const uint64_t target = written_.load();
  // After a background error RocksDB is stopped and Resume() flushes and
  // switches the WAL; otherwise it does nothing, and the flush does it.
  rocksdb::Status s = db_->Resume();
  rocksdb::FlushOptions flush;
  flush.wait = true;
  flush.allow_write_stall = true;
  const std::vector<rocksdb::ColumnFamilyHandle*> families = {default_cf_, log_cf_, streams_cf_,
                                                              ids_cf_};
  if (s.ok()) s = db_->Flush(flush, families);
  if (s.ok() && guard_->newest_wal_broken()) {
    // The memtables were empty, so nothing switched the broken WAL out.
    // Give one something (the head as it is; the guard drops its WAL
    // record) and flush again: that starts a new WAL.
    s = db_->Put(rocksdb::WriteOptions(), default_cf_, kf::kHeadKey,
                 kf::EncodeHead(last_position_, last_hash_));
    if (s.ok()) s = db_->Flush(flush, families);
    if (s.ok() && guard_->newest_wal_broken()) {
      s = rocksdb::Status::IOError("the broken WAL was not replaced");
    }
  }
  if (!s.ok()) return s;
  guard_->ClearBroken();
  {
    std::lock_guard lock(commit_mu_);
    if (target > committed_.load()) {
      committed_.store(target);
      commit_clock_.Note(target, std::chrono::steady_clock::now());
    }
    failure_ = StoreError{};
    failed_.store(false);
  }
  commit_cv_.notify_all();
  return s;
}

void RocksEventLog::StartRecovery() {
  recovery_->Start([this] { return Recover(); });
}

LogVitals RocksEventLog::Vitals() {
  LogVitals v;
  v.storage = recovery_->Health();
  v.group_events = group_events_.Snapshot();
  v.sync_seconds = sync_seconds_.Snapshot();
  v.pending_appends = PendingAppends();
  return v;
}

}  // namespace jobtrail::eventstore
