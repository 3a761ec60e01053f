#include "eventstore/internal/wal_guard.h"

#include <algorithm>
#include <cctype>

namespace jobtrail::eventstore::internal {
namespace {

// One WAL file. After its first failed append it drops every append (a
// later one that succeeded would leave a hole in the middle of the file)
// and answers success, so RocksDB's writer never sees an append error.
class GuardedWal final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  GuardedWal(WalGuardFs* fs, uint64_t id, std::unique_ptr<rocksdb::FSWritableFile> target)
      : rocksdb::FSWritableFileOwnerWrapper(std::move(target)), fs_(fs), id_(id) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (broken_) return rocksdb::IOStatus::OK();
    return Check(target()->Append(data, options, dbg));
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info,
                           rocksdb::IODebugContext* dbg) override {
    if (broken_) return rocksdb::IOStatus::OK();
    return Check(target()->Append(data, options, info, dbg));
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    if (broken_) return rocksdb::IOStatus::OK();
    return Check(target()->PositionedAppend(data, offset, options, dbg));
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& info,
                                     rocksdb::IODebugContext* dbg) override {
    if (broken_) return rocksdb::IOStatus::OK();
    return Check(target()->PositionedAppend(data, offset, options, info, dbg));
  }

 private:
  rocksdb::IOStatus Check(rocksdb::IOStatus s) {
    if (s.ok()) return s;
    // Only this file's appender (RocksDB's write group leader) appends, so
    // broken_ needs no lock.
    broken_ = true;
    fs_->OnAppendFailed(s, id_);
    return rocksdb::IOStatus::OK();
  }

  WalGuardFs* fs_;
  uint64_t id_;
  bool broken_ = false;
};

}  // namespace

bool IsWalFileName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  constexpr std::string_view kSuffix = ".log";
  if (name.size() <= kSuffix.size() ||
      name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
    return false;
  }
  return std::all_of(name.begin(), name.end() - kSuffix.size(),
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

rocksdb::IOStatus WalGuardFs::Wrap(const std::string& name,
                                   std::unique_ptr<rocksdb::FSWritableFile>* result) {
  if (!IsWalFileName(name)) return rocksdb::IOStatus::OK();
  uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    id = next_file_id_++;
    newest_wal_ = id;
  }
  *result = std::make_unique<GuardedWal>(this, id, std::move(*result));
  return rocksdb::IOStatus::OK();
}

rocksdb::IOStatus WalGuardFs::NewWritableFile(const std::string& name,
                                              const rocksdb::FileOptions& options,
                                              std::unique_ptr<rocksdb::FSWritableFile>* result,
                                              rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, dbg);
  return s.ok() ? Wrap(name, result) : s;
}

rocksdb::IOStatus WalGuardFs::ReopenWritableFile(const std::string& name,
                                                 const rocksdb::FileOptions& options,
                                                 std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                 rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->ReopenWritableFile(name, options, result, dbg);
  return s.ok() ? Wrap(name, result) : s;
}

void WalGuardFs::OnAppendFailed(const rocksdb::IOStatus& s, uint64_t file_id) {
  std::lock_guard lock(mu_);
  if (!broken_.load(std::memory_order_relaxed)) failure_ = s;
  newest_broken_ = std::max(newest_broken_, file_id);
  broken_.store(true, std::memory_order_release);
}

rocksdb::IOStatus WalGuardFs::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

bool WalGuardFs::newest_wal_broken() const {
  std::lock_guard lock(mu_);
  return newest_wal_ != 0 && newest_broken_ == newest_wal_;
}

void WalGuardFs::ClearBroken() {
  std::lock_guard lock(mu_);
  failure_ = rocksdb::IOStatus::OK();
  broken_.store(false, std::memory_order_release);
}

}  // namespace jobtrail::eventstore::internal
