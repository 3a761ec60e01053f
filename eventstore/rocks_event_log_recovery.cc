// RocksEventLog's state after a group is written: going on from it
// (Advance), making it readable (Publish, kNoSync), and when the disk fails:
// refusing appends (FailGroup, Fail) and coming back (Recover, run by
// RocksRecovery's thread). See rocks_recovery.h for
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

#include <rocksdb/write_batch.h>

#include "eventstore/internal/group_state.h"
#include "eventstore/internal/wal_guard.h"
#include "eventstore/rocks_event_log.h"

namespace jobtrail::eventstore {
namespace kf = key_format;
namespace {
constexpr size_t kVersionCacheLimit = 1 << 18;  // streams whose version is kept
}  // namespace

void RocksEventLog::Advance(const GroupState& g) {
  last_position_ = g.position;
  last_hash_ = g.hash;
  if (version_cache_.size() + g.versions.size() > kVersionCacheLimit) version_cache_.clear();
  for (const auto& [stream, version] : g.versions) {
    auto it = version_cache_.find(stream);
    if (it != version_cache_.end()) {
      it->second = version;
    } else {
      version_cache_.emplace(std::string(stream), version);
    }
  }
  written_.store(g.position);
}

void RocksEventLog::Publish(uint64_t position, bool wake_subscriptions) {
  {
    std::lock_guard lock(commit_mu_);
    if (position > committed_.load()) {
      committed_.store(position);
      commit_clock_.Note(position, std::chrono::steady_clock::now());
    }
  }
  if (wake_subscriptions) commit_cv_.notify_all();
}

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

rocksdb::Status RocksEventLog::UndoGroup(const GroupState& g) {
  // The WAL is broken, so the guard drops this batch's record too: it only
  // reaches the memtable, where its tombstones cover the group's entries.
  // The recovery's flush writes both, so the group never shows; a crash
  // before that replays neither.
  rocksdb::WriteBatch undo;
  rocksdb::Status s;
  for (uint64_t p = last_position_ + 1; p <= g.position && s.ok(); ++p) {
    s = undo.Delete(log_cf_, kf::PositionKey(p));
  }
  for (const auto& e : g.stream_entries) {
    if (s.ok()) s = undo.Delete(streams_cf_, e.key);
  }
  for (const auto& e : g.id_entries) {
    if (s.ok()) s = undo.Delete(ids_cf_, e.key);
  }
  if (s.ok()) s = undo.Put(default_cf_, kf::kHeadKey, kf::EncodeHead(last_position_, last_hash_));
  rocksdb::WriteOptions wo;
  wo.sync = false;
  if (s.ok()) s = db_->Write(wo, &undo);
  return s;
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
    uncommittable_from_ = 0;
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
  if (recovery_) v.storage = recovery_->Health();  // (a secondary has none: it never writes)
  v.group_events = group_events_.Snapshot();
  v.sync_seconds = sync_seconds_.Snapshot();
  v.pending_appends = PendingAppends();
  return v;
}

}  // namespace jobtrail::eventstore
