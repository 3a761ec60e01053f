// RocksJobStore beside a running server and its backups: the read-only open
// (both databases as RocksDB secondaries) and Backup.
//
// Consistency of a backup: the read models are copied first, then the log.
// The read models only ever hold what the projector applied, which the log
// had committed before, so the copy's read models stand at or behind the
// copy's log; served, the copy's projector catches up from its checkpoint
// like after any restart. Acknowledged writes are in the log before they
// are acknowledged, so every write acknowledged before Backup began is in
// the copy.
#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <unistd.h>

#include <rocksdb/utilities/checkpoint.h>

#include <filesystem>

#include "eventstore/db_copy.h"
#include "projections/rocks_job_store.h"
#include "projections/uuid.h"
#include "projections/view_keys.h"

namespace jobtrail {
namespace fs = std::filesystem;
namespace {

Error BackupIo(std::string message) {
  return MakeError(Code::kInternal, "IO_ERROR", std::move(message));
}

// fsync a file or directory: the backup is whole on disk before it is named.
bool SyncPath(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// The regular files at the top of the data directory (schedules.json,
// keys.json, share.key, ...), copied with their modes; the databases and
// anything else in a sub-directory are not configuration.
Result<std::vector<std::string>> CopyTopLevelFiles(const fs::path& from, const fs::path& to) {
  std::vector<std::string> copied;
  std::error_code ec;
  for (const fs::directory_entry& entry : fs::directory_iterator(from, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    const fs::path target = to / entry.path().filename();
    // Writers replace these files by rename: a copy is one version or the other.
    if (!fs::copy_file(entry.path(), target, fs::copy_options::overwrite_existing, ec)) {
      return BackupIo(fmt::format("copying {}: {}", entry.path().filename().string(),
                                  ec.message()));
    }
    fs::permissions(target, fs::status(entry.path(), ec).permissions(), ec);
    if (ec || !SyncPath(target, false)) {
      return BackupIo(fmt::format("writing {}", target.filename().string()));
    }
    copied.push_back(entry.path().filename().string());
  }
  if (ec) return BackupIo(fmt::format("listing the data directory: {}", ec.message()));
  return copied;
}

Result<uint64_t> CheckpointOf(rocksdb::DB* views) {
  std::string value;
  rocksdb::Status s = views->Get(rocksdb::ReadOptions(), view_keys::kCheckpointKey, &value);
  if (s.IsNotFound()) return uint64_t{0};
  if (!s.ok() || value.size() != 8) return BackupIo("reading the read models' checkpoint");
  return view_keys::DecodeU64(value);
}

}  // namespace

Result<std::unique_ptr<RocksJobStore>> RocksJobStore::OpenReadOnly(
    const JobStoreOptions& options) {
  std::error_code ec;
  const fs::path dir(options.data_dir);
  if (!fs::is_directory(dir / "log", ec)) {
    return NotFound("DATA_DIR_NOT_FOUND",
                    fmt::format("'{}' holds no jobtrail data", options.data_dir));
  }
  std::unique_ptr<RocksJobStore> store(new RocksJobStore());
  store->options_ = options;
  store->clock_ = options.clock != nullptr ? options.clock : &store->system_clock_;
  std::string scratch = (fs::temp_directory_path(ec) / "jobtrail-reader-XXXXXX").string();
  if (ec || mkdtemp(scratch.data()) == nullptr) {
    return Internal("cannot create a scratch directory for a read-only open");
  }
  store->scratch_dir_ = scratch;
  // The read models first, then the log: the log then holds at least what
  // the read models had applied.
  store->views_dir_ = (dir / "views").string();
  if (!fs::is_directory(store->views_dir_, ec)) {
    return MakeError(Code::kDataLoss, "NO_VIEWS",
                     fmt::format("'{}' has a log but no read models", options.data_dir));
  }
  eventstore::RocksEventLogOptions log_options = LogOptions(options);
  log_options.create_if_missing = false;
  // The projector wants a log to refold jobs from; OpenViews needs it set.
  auto log = eventstore::RocksEventLog::OpenSecondary((dir / "log").string(), scratch + "/log",
                                                      log_options);
  if (!log) return FromStoreError(log.error());
  store->rocks_log_ = log.value().get();
  store->log_ = std::move(log).value();
  BOOST_OUTCOME_TRYV(store->OpenViews(false));
  // The views secondary opened after the log's: move the log past them.
  if (auto caught_up = store->rocks_log_->CatchUp(); !caught_up) {
    return FromStoreError(caught_up.error());
  }
  BOOST_OUTCOME_TRY(book, ScheduleBook::Open(ConfigOf(options),
                                             store->clock_->Now()));
  store->schedules_ = std::move(book);
  return store;
}

Result<BackupReport> RocksJobStore::Backup(const std::string& dest,
                                           const std::function<void(std::string_view)>& phase) {
  auto step = [&](std::string_view name) {
    if (phase) phase(name);
  };
  if (rocks_log_ == nullptr) {
    return MakeError(Code::kFailedPrecondition, "SHARED_LOG",
                     "this node's events are in PostgreSQL, not in its data directory: back "
                     "up the database (pg_basebackup, pg_dump); a node's read models are "
                     "refolded from the log");
  }
  std::lock_guard lock(backup_mu_);
  std::error_code ec;
  const fs::path target = fs::absolute(dest, ec);
  if (ec || target.filename().empty()) return InvalidArgument("a backup needs a directory name");
  if (fs::exists(target, ec)) {
    return MakeError(Code::kAlreadyExists, "BACKUP_EXISTS",
                     fmt::format("'{}' exists; a backup goes to a new directory", dest));
  }
  if (!fs::is_directory(target.parent_path(), ec)) {
    return NotFound("BACKUP_DIR_NOT_FOUND",
                    fmt::format("'{}' does not exist", target.parent_path().string()));
  }
  // Built beside its final place, renamed when whole.
  const fs::path staging = target.string() + ".partial-" + RandomUuid().substr(0, 8);
  fs::create_directory(staging, ec);
  if (!ec) fs::permissions(staging, fs::perms::owner_all, ec);  // holds every job's data
  if (ec) return BackupIo(fmt::format("cannot create '{}': {}", staging.string(), ec.message()));
  BackupReport report;
  auto built = [&]() -> Result<void> {
    BOOST_OUTCOME_TRYV(CopyDatabases(staging.string(), report, step));
    step("files");
    BOOST_OUTCOME_TRY(files, CopyTopLevelFiles(fs::path(options_.data_dir), staging));
    report.files = std::move(files);
    // After the log: every segment the copied log refers to was written
    // (and synced) before the log forgot those events.
    BOOST_OUTCOME_TRYV(CopyArchive(staging, report));
    if (!SyncPath(staging, true)) return BackupIo("syncing the backup directory");
    fs::rename(staging, target, ec);
    if (ec) return BackupIo(fmt::format("naming the backup '{}': {}", dest, ec.message()));
    if (!SyncPath(target.parent_path(), true)) return BackupIo("syncing the backup's parent");
    return Ok();
  }();
  if (!built) {
    fs::remove_all(staging, ec);  // an incomplete copy is of no use
    return built.error();
  }
  report.path = target.string();
  return report;
}

Result<void> RocksJobStore::CopyArchive(const fs::path& staging, BackupReport& report) {
  report.archive_dir = rocks_log_->ArchiveDir();
  if (report.archive_dir.empty()) return Ok();
  std::error_code ec;
  const fs::path data = fs::weakly_canonical(options_.data_dir, ec);
  const fs::path archive = fs::weakly_canonical(report.archive_dir, ec);
  const fs::path relative = archive.lexically_relative(data);
  if (ec || relative.empty() || *relative.begin() == ".." || !fs::is_directory(archive, ec)) {
    return Ok();  // elsewhere: the operator's own file backups cover it
  }
  fs::create_directories(staging / relative, ec);
  if (!ec) fs::permissions(staging / relative, fs::perms::owner_all, ec);
  if (ec) return BackupIo("cannot create the archive's copy: " + ec.message());
  for (const fs::directory_entry& entry : fs::directory_iterator(archive, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    const fs::path target = staging / relative / entry.path().filename();
    // Copied, not linked: today's file grows after the backup.
    if (!fs::copy_file(entry.path(), target, ec) || !SyncPath(target, false)) {
      return BackupIo("copying the archive: " + ec.message());
    }
  }
  if (ec) return BackupIo("listing the archive: " + ec.message());
  if (!SyncPath(staging / relative, true)) return BackupIo("syncing the archive's copy");
  report.archive_copied = true;
  return Ok();
}

Result<void> RocksJobStore::CopyDatabases(const std::string& staging, BackupReport& report,
                                          const std::function<void(std::string_view)>& step) {
  // Beside a server, a compaction may run between the two copies and
  // archive events the read models' copy has not applied: then copy both
  // again (a copy left so is refolded when served, see OpenStore).
  for (int attempt = 1;; ++attempt) {
    BOOST_OUTCOME_TRYV(CopyBoth(staging, report, step));
    if (!options_.read_only || attempt == 3) return Ok();
    auto through = rocks_log_->ArchivedThrough();
    if (!through) return FromStoreError(through.error());
    if (report.views_position >= through.value()) return Ok();
    std::error_code ec;
    fs::remove_all(staging + "/views", ec);
    fs::remove_all(staging + "/log", ec);
  }
}

Result<void> RocksJobStore::CopyBoth(const std::string& staging, BackupReport& report,
                                     const std::function<void(std::string_view)>& step) {
  const std::string views_copy = staging + "/views";
  step("read_models");
  if (options_.read_only) {
    // Secondaries: catch up (read models first), then copy key by key.
    rocksdb::Status s = views_->TryCatchUpWithPrimary();
    if (!s.ok()) return BackupIo(fmt::format("read models: {}", s.ToString()));
    // Plain options for the copy: the running instance's would carry its
    // own paths (db_paths), and ingestion would put the copy's files there.
    rocksdb::Options opts;
    opts.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
    auto copied = eventstore::CopyDatabase(
        views_.get(), {views_->DefaultColumnFamily()}, rocksdb::DBOptions(opts),
        {rocksdb::ColumnFamilyDescriptor(rocksdb::kDefaultColumnFamilyName,
                                         rocksdb::ColumnFamilyOptions(opts))},
        views_copy);
    if (!copied) return FromStoreError(copied.error());
  } else {
    rocksdb::Checkpoint* raw = nullptr;
    rocksdb::Status s = rocksdb::Checkpoint::Create(views_.get(), &raw);
    std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
    // 0: flush first, always. The views have no WAL: only a flush puts what
    // the projector applied into the copy.
    if (s.ok()) s = checkpoint->CreateCheckpoint(views_copy, /*log_size_for_flush=*/0);
    if (!s.ok()) return BackupIo(fmt::format("checkpoint of the read models: {}", s.ToString()));
  }
  {
    rocksdb::DB* raw = nullptr;
    rocksdb::Options opts;
    rocksdb::Status s = rocksdb::DB::OpenForReadOnly(opts, views_copy, &raw);
    if (!s.ok()) return BackupIo(fmt::format("the read models' copy: {}", s.ToString()));
    std::unique_ptr<rocksdb::DB> copy(raw);
    BOOST_OUTCOME_TRY(position, CheckpointOf(copy.get()));
    report.views_position = position;
  }
  step("log");
  auto log_copy = rocks_log_->Backup(staging + "/log");
  if (!log_copy) return FromStoreError(log_copy.error());
  report.log_position = log_copy.value();
  if (report.views_position > report.log_position) {
    // Cannot happen by the order above; a copy that broke it would refold.
    return BackupIo(fmt::format("the read models' copy ({}) is ahead of the log's ({})",
                                report.views_position, report.log_position));
  }
  return Ok();
}

}  // namespace jobtrail
