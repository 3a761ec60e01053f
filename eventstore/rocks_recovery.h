#pragma once
// Keeps one RocksDB database usable across a full disk and I/O errors, and
// brings its writes back by itself once the disk is usable again: the log
// and the read-model database each have one.
//
// RocksDB stops a database's writes after a background error ("hard" for a
// full disk while writing the WAL, flushing or writing the MANIFEST; reads
// go on) and can resume it with DB::Resume(), which flushes every memtable
// into new tables and starts a new WAL. Left alone it would recover from
// ENOSPC through its SstFileManager, which polls every 5 s and insists on
// free space of a whole write buffer (128 MiB for the log's families, more
// than a small volume has), and it gives up on EIO for good ("fatal").
// This class:
//   - installs an EventListener that records every background error,
//     turns off RocksDB's own recovery (OnErrorRecoveryBegin, and
//     max_bgerror_resume_count = 0), and treats an I/O error while writing
//     (WAL, flush, MANIFEST, compaction: "fatal" by RocksDB's table) like a
//     full disk ("hard", so DB::Resume may clear it). Corruption stays
//     unrecoverable;
//   - takes failures of foreground writes and syncs (ReportFailure);
//   - runs one thread that, while the database is unwritable or has a
//     background error, calls the resume function (DB::Resume plus the
//     owner's bookkeeping) with a capped backoff until it succeeds.
// The listener's state is shared, so the database may call it until it is
// closed even if this object goes first; Stop() before closing the database.
//
// Thread-safe.
#include <rocksdb/db.h>
#include <rocksdb/listener.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace jobtrail::eventstore {

struct StorageHealth {
  bool writable = true;
  // While !writable: "no_space", "io_error" or "corruption" (stable words
  // for metrics and readiness; never a path).
  std::string reason;
  std::string detail;        // RocksDB's message: for the server log only
  uint64_t failures = 0;     // times it became unwritable
  uint64_t recoveries = 0;   // times its writes came back
  uint64_t background_errors = 0;  // background errors RocksDB reported
};

// "no_space", "io_error" or "corruption" for a failed status.
std::string StorageReason(const rocksdb::Status& s);

class RocksRecovery {
 public:
  // `name` names the database in log lines ("event log", "read models").
  RocksRecovery(std::string name, std::shared_ptr<rocksdb::Logger> log);
  ~RocksRecovery();
  RocksRecovery(const RocksRecovery&) = delete;
  RocksRecovery& operator=(const RocksRecovery&) = delete;

  // Before DB::Open.
  void Configure(rocksdb::DBOptions& options);
  // After DB::Open: starts the recovery thread. `resume` brings the
  // database back (at least DB::Resume()); OK means it accepts writes.
  void Start(std::function<rocksdb::Status()> resume);
  // Joins the recovery thread (an attempt in progress finishes first).
  void Stop();

  // A foreground write or sync failed: the database is unwritable until a
  // resume succeeds.
  void ReportFailure(const rocksdb::Status& s);
  bool writable() const { return writable_.load(std::memory_order_acquire); }
  StorageHealth Health() const;
  // Blocks until writable, `deadline`, or *stop (checked when woken: call
  // Wake() after setting it).
  bool WaitWritable(std::chrono::steady_clock::time_point deadline,
                    const std::atomic<bool>* stop);
  void Wake();

  // Backoff between resume attempts: doubles from the first to the cap.
  static constexpr std::chrono::milliseconds kFirstRetry{100};
  static constexpr std::chrono::milliseconds kMaxRetry{1000};

 private:
  struct State;
  class Listener;
  void Run();

  std::shared_ptr<State> state_;
  std::atomic<bool>& writable_;
  std::function<rocksdb::Status()> resume_;
  std::thread thread_;
};

}  // namespace jobtrail::eventstore
