// RocksEventLog beside a running writer and backups: a read-only secondary
// instance (OpenSecondary, CatchUp) and consistent copies (Backup).
//
// Why two kinds of copy: the process that holds the log for writing can ask
// RocksDB for a checkpoint (flush, then hard links to the immutable table
// files plus a copy of the live WAL), which costs next to nothing. Another
// process only has a secondary instance; the writer may delete any table
// file it compacts away, so a secondary never links or copies files by
// name: it reads its (consistent) view of every family and writes the keys
// into a fresh database through SstFileWriter and ingestion.
#include <fmt/format.h>
#include <rocksdb/utilities/checkpoint.h>

#include <filesystem>

#include "eventstore/internal/store_errors.h"
#include "eventstore/db_copy.h"
#include "eventstore/internal/rocks_options.h"
#include "eventstore/rocks_event_log.h"

namespace jobtrail::eventstore {
namespace kf = key_format;
namespace fs = std::filesystem;
namespace {

using internal::Corruption;
using internal::IoError;


// Reads the head of the log at `dir` through a short read-only open: what a
// copy really holds.
StoreResult<uint64_t> HeadOf(const std::string& dir) {
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::DBOptions options = internal::LogDbOptions(nullptr);
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(options, dir, internal::FamilyDescriptors(),
                                                   &handles, &raw);
  if (!s.ok()) return IoError(fmt::format("the copy at '{}' does not open: {}", dir, s.ToString()));
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value;
  s = db->Get(rocksdb::ReadOptions(), handles[0], kf::kHeadKey, &value);
  for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);  // read-only: nothing to lose
  if (s.IsNotFound()) return uint64_t{0};
  if (!s.ok()) return IoError(s);
  auto head = kf::DecodeHead(value);
  if (!head) return StoreError{StoreCode::kCorruption, "the copy's head is malformed", 0};
  return head->position;
}

}  // namespace

StoreResult<std::unique_ptr<RocksEventLog>> RocksEventLog::OpenSecondary(
    const std::string& dir, const std::string& scratch_dir, const RocksEventLogOptions& options) {
  rocksdb::DBOptions db_options = internal::LogDbOptions(options.env);
  // A secondary must keep every table file open: the writer deletes files
  // it compacts away, and an open file stays readable until it is closed.
  db_options.max_open_files = -1;
  BOOST_OUTCOME_TRY(is_new, internal::InspectLogDirectory(dir, /*create=*/false, db_options));
  (void)is_new;  // never true with create=false
  std::error_code ec;
  fs::create_directories(scratch_dir, ec);
  if (ec) return IoError(fmt::format("cannot create '{}': {}", scratch_dir, ec.message()));
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenAsSecondary(db_options, dir, scratch_dir,
                                                   internal::FamilyDescriptors(), &handles, &raw);
  if (!s.ok()) {
    if (s.IsInvalidArgument() || s.IsCorruption()) {
      return StoreError{StoreCode::kCorruption,
                        fmt::format("'{}' is not a usable event log: {}", dir, s.ToString()), 0};
    }
    return IoError(s);
  }
  std::unique_ptr<RocksEventLog> log(new RocksEventLog());
  log->Adopt(raw, handles, dir, options);
  log->read_only_ = true;
  std::string marker;
  s = raw->Get(rocksdb::ReadOptions(), log->default_cf_, kf::kFormatKey, &marker);
  if (s.IsNotFound()) {
    return StoreError{StoreCode::kCorruption,
                      fmt::format("'{}' has no jobtrail format marker", dir), 0};
  }
  if (!s.ok()) return IoError(s);
  if (marker != kf::kFormatMarker) {
    return StoreError{StoreCode::kCorruption,
                      fmt::format("unknown event log format '{}'", marker), 0};
  }
  BOOST_OUTCOME_TRY(log->RecoverHead());
  BOOST_OUTCOME_TRYV(log->LoadArchive());
  return log;
}

StoreResult<uint64_t> RocksEventLog::CatchUp() {
  if (!read_only_) return committed_.load();
  rocksdb::Status s = db_->TryCatchUpWithPrimary();
  if (!s.ok()) return IoError(s);
  // Only this thread moves a secondary's positions (it has no appenders).
  BOOST_OUTCOME_TRYV(RecoverHead());
  BOOST_OUTCOME_TRYV(LoadArchive());
  WakeWaiters();
  return committed_.load();
}

StoreResult<uint64_t> RocksEventLog::Backup(const std::string& dest) {
  std::error_code ec;
  if (fs::exists(dest, ec)) {
    return StoreError{StoreCode::kInvalidArgument,
                      fmt::format("'{}' exists; a backup goes to a new directory", dest), 0};
  }
  if (read_only_) {
    BOOST_OUTCOME_TRYV(CatchUp());
    BOOST_OUTCOME_TRYV(CopyFamiliesTo(dest));
    return HeadOf(dest);
  }
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  if (!s.ok()) return IoError(s);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // 0: always flush first. The copy then starts with whole table files and
  // a short WAL, and holds everything written before the call (committed
  // appends are in the memtables or the synced WAL by then).
  s = checkpoint->CreateCheckpoint(dest, /*log_size_for_flush=*/0);
  if (!s.ok()) return IoError(fmt::format("checkpoint of the event log: {}", s.ToString()));
  return HeadOf(dest);
}

StoreResult<void> RocksEventLog::CopyFamiliesTo(const std::string& dest) {
  return CopyDatabase(db_.get(), {default_cf_, log_cf_, streams_cf_, ids_cf_},
                      internal::LogDbOptions(nullptr), internal::FamilyDescriptors(), dest);
}

}  // namespace jobtrail::eventstore
