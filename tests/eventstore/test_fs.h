#pragma once
// A RocksDB FileSystemWrapper for fault tests (RocksDB's own fault-injection
// FS is not in Debian's package), in the spirit of LevelDB's
// fault_injection_test:
//   - a gate that holds WAL appends, so a test can line appenders up behind
//     a leader that is stuck writing (no sleeps);
//   - a gate that holds WAL syncs, so a test can queue appends while a
//     sync runs;
//   - a count of WAL syncs, and WAL syncs that fail on demand;
//   - Crash(): from then on writes and syncs are dropped, and
//     DropUnsyncedData() cuts every file back to what was synced, as a power
//     loss would.
// Thread-safe.
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <unistd.h>

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace jobtrail::eventstore::testing_util {

class TestFs : public rocksdb::FileSystemWrapper {
 public:
  TestFs() : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "TestFs"; }

  // An Env over this filesystem, for RocksEventLogOptions::env.
  static std::pair<std::shared_ptr<TestFs>, std::unique_ptr<rocksdb::Env>> Make() {
    auto fs = std::make_shared<TestFs>();
    auto env = rocksdb::NewCompositeEnv(fs);
    return {fs, std::move(env)};
  }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, dbg);
    if (s.ok()) {
      std::lock_guard lock(mu_);
      files_[name] = FileState{};
      *result = std::make_unique<File>(this, name, std::move(*result));
    }
    return s;
  }
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus s = target()->RenameFile(from, to, options, dbg);
    std::lock_guard lock(mu_);
    if (s.ok() && files_.count(from) != 0) {
      files_[to] = files_[from];
      files_.erase(from);
    }
    return s;
  }

  // The WAL append gate, and the WAL sync gate.
  void CloseGate() { Close(append_gate_); }
  void OpenGate() { Open(append_gate_); }
  // Blocks until a WAL append is held at the closed gate.
  void WaitUntilBlocked() { WaitUntilHeld(append_gate_); }
  void CloseSyncGate() { Close(sync_gate_); }
  void OpenSyncGate() { Open(sync_gate_); }
  // Blocks until a WAL sync is held at the closed sync gate.
  void WaitUntilSyncBlocked() { WaitUntilHeld(sync_gate_); }
  int wal_syncs() {
    std::lock_guard lock(mu_);
    return wal_syncs_;
  }
  // While set, WAL syncs fail with an I/O error (a disk going bad).
  void FailWalSyncs(bool fail) {
    std::lock_guard lock(mu_);
    fail_wal_syncs_ = fail;
  }

  void Crash() {
    std::lock_guard lock(mu_);
    crashed_ = true;
  }
  // After Crash() and after the DB is closed: cuts every file written since
  // this filesystem was made back to its synced length.
  void DropUnsyncedData() {
    std::lock_guard lock(mu_);
    for (const auto& [name, state] : files_) {
      if (access(name.c_str(), F_OK) != 0) continue;  // deleted since
      if (truncate(name.c_str(), off_t(state.synced)) != 0) ++truncate_failures_;
    }
  }
  int truncate_failures() {
    std::lock_guard lock(mu_);
    return truncate_failures_;
  }

 private:
  struct FileState {
    uint64_t size = 0;
    uint64_t synced = 0;
  };

  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(TestFs* fs, std::string name, std::unique_ptr<rocksdb::FSWritableFile> target)
        : rocksdb::FSWritableFileOwnerWrapper(std::move(target)),
          fs_(fs),
          name_(std::move(name)),
          is_wal_(name_.size() > 4 && name_.compare(name_.size() - 4, 4, ".log") == 0) {}

    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      if (!fs_->BeforeAppend(name_, is_wal_, data.size())) return rocksdb::IOStatus::OK();
      return target()->Append(data, options, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (!fs_->BeforeAppend(name_, is_wal_, data.size())) return rocksdb::IOStatus::OK();
      return target()->Append(data, options, info, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
      if (is_wal_) fs_->BeforeSync();
      if (fs_->crashed()) return rocksdb::IOStatus::OK();
      if (is_wal_ && fs_->failing_wal_syncs()) return rocksdb::IOStatus::IOError("injected");
      rocksdb::IOStatus s = target()->Sync(options, dbg);
      if (s.ok()) fs_->Synced(name_, is_wal_);
      return s;
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                            rocksdb::IODebugContext* dbg) override {
      if (is_wal_) fs_->BeforeSync();
      if (fs_->crashed()) return rocksdb::IOStatus::OK();
      if (is_wal_ && fs_->failing_wal_syncs()) return rocksdb::IOStatus::IOError("injected");
      rocksdb::IOStatus s = target()->Fsync(options, dbg);
      if (s.ok()) fs_->Synced(name_, is_wal_);
      return s;
    }

   private:
    TestFs* fs_;
    std::string name_;
    bool is_wal_;
  };

  struct Gate {
    bool closed = false;
    int held = 0;  // callers waiting at it
  };
  void Close(Gate& gate) {
    std::lock_guard lock(mu_);
    gate.closed = true;
  }
  void Open(Gate& gate) {
    std::lock_guard lock(mu_);
    gate.closed = false;
    cv_.notify_all();
  }
  void WaitUntilHeld(Gate& gate) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return gate.held > 0; });
  }
  // Under mu_: waits while the gate is closed.
  void Pass(Gate& gate, std::unique_lock<std::mutex>& lock) {
    if (!gate.closed) return;
    ++gate.held;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !gate.closed; });
    --gate.held;
  }

  // False if the append is to be dropped (after a crash).
  bool BeforeAppend(const std::string& name, bool is_wal, size_t bytes) {
    std::unique_lock lock(mu_);
    if (is_wal) Pass(append_gate_, lock);
    if (crashed_) return false;
    files_[name].size += bytes;
    return true;
  }
  void BeforeSync() {
    std::unique_lock lock(mu_);
    Pass(sync_gate_, lock);
  }
  void Synced(const std::string& name, bool is_wal) {
    std::lock_guard lock(mu_);
    FileState& state = files_[name];
    state.synced = state.size;
    if (is_wal) ++wal_syncs_;
  }
  bool crashed() {
    std::lock_guard lock(mu_);
    return crashed_;
  }
  bool failing_wal_syncs() {
    std::lock_guard lock(mu_);
    return fail_wal_syncs_;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, FileState> files_;
  Gate append_gate_;
  Gate sync_gate_;
  int wal_syncs_ = 0;
  bool crashed_ = false;
  bool fail_wal_syncs_ = false;
  int truncate_failures_ = 0;
};

}  // namespace jobtrail::eventstore::testing_util
