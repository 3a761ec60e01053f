#pragma once
// A RocksDB FileSystemWrapper whose disk can fill up or go bad on demand,
// and come back: while Fail(status) is on, every append to a file (WAL,
// tables, MANIFEST, ...) fails with `status` (IOStatus::NoSpace() for a full
// disk, IOStatus::IOError() for EIO), and with FailSyncs also every sync;
// Heal() turns it off. Used by the event log's disk-full tests and, through
// JobStoreOptions::env, by the HTTP tests of a whole server on a failing
// disk. Thread-safe.
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace jobtrail::testing_fs {

class FaultyDiskFs : public rocksdb::FileSystemWrapper {
 public:
  FaultyDiskFs() : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FaultyDiskFs"; }

  // An Env over this filesystem (for RocksEventLogOptions::env and
  // JobStoreOptions::env); keep both alive as long as the store.
  static std::pair<std::shared_ptr<FaultyDiskFs>, std::unique_ptr<rocksdb::Env>> Make() {
    auto fs = std::make_shared<FaultyDiskFs>();
    auto env = rocksdb::NewCompositeEnv(fs);
    return {fs, std::move(env)};
  }

  // From now on appends (and syncs, if `syncs`) fail with `status`.
  void Fail(rocksdb::IOStatus status, bool syncs = false) {
    std::lock_guard lock(mu_);
    status_ = std::move(status);
    fail_syncs_ = syncs;
    failing_.store(true);
  }
  void Heal() {
    std::lock_guard lock(mu_);
    failing_.store(false);
  }
  // Appends and syncs refused so far.
  int refused() const { return refused_.load(); }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, dbg);
    if (s.ok()) *result = std::make_unique<File>(this, std::move(*result));
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& name,
                                       const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->ReopenWritableFile(name, options, result, dbg);
    if (s.ok()) *result = std::make_unique<File>(this, std::move(*result));
    return s;
  }

 private:
  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(FaultyDiskFs* fs, std::unique_ptr<rocksdb::FSWritableFile> target)
        : rocksdb::FSWritableFileOwnerWrapper(std::move(target)), fs_(fs) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      if (auto refused = fs_->Refuse(false)) return *refused;
      return target()->Append(data, options, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (auto refused = fs_->Refuse(false)) return *refused;
      return target()->Append(data, options, info, dbg);
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                       const rocksdb::IOOptions& options,
                                       rocksdb::IODebugContext* dbg) override {
      if (auto refused = fs_->Refuse(false)) return *refused;
      return target()->PositionedAppend(data, offset, options, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
      if (auto refused = fs_->Refuse(true)) return *refused;
      return target()->Sync(options, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                            rocksdb::IODebugContext* dbg) override {
      if (auto refused = fs_->Refuse(true)) return *refused;
      return target()->Fsync(options, dbg);
    }

   private:
    FaultyDiskFs* fs_;
  };

  std::optional<rocksdb::IOStatus> Refuse(bool sync) {
    if (!failing_.load()) return std::nullopt;
    std::lock_guard lock(mu_);
    if (!failing_.load() || (sync && !fail_syncs_)) return std::nullopt;
    refused_.fetch_add(1);
    return status_;
  }

  std::atomic<bool> failing_{false};
  std::atomic<int> refused_{0};
  std::mutex mu_;
  rocksdb::IOStatus status_;  // GUARDED_BY(mu_)
  bool fail_syncs_ = false;   // GUARDED_BY(mu_)
};

}  // namespace jobtrail::testing_fs
