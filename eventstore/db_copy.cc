#include "eventstore/internal/store_errors.h"
#include "eventstore/db_copy.h"

#include <fmt/format.h>
#include <rocksdb/sst_file_writer.h>

#include <filesystem>
#include <memory>

namespace jobtrail::eventstore {
namespace fs = std::filesystem;
namespace {

using internal::Corruption;
using internal::IoError;

// Table files of a copy are cut at this size, so no single file is huge.
constexpr uint64_t kCopyFileBytes = uint64_t{256} << 20;


// Writes one family's keys, in order, into table files under `staging`.
rocksdb::Status WriteTables(rocksdb::DB* source, rocksdb::ColumnFamilyHandle* family,
                            const rocksdb::Snapshot* snapshot, const rocksdb::Options& options,
                            const std::string& staging, size_t index,
                            std::vector<std::string>& files) {
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;  // families with a prefix extractor too
  ro.fill_cache = false;
  ro.snapshot = snapshot;
  std::unique_ptr<rocksdb::Iterator> it(source->NewIterator(ro, family));
  std::unique_ptr<rocksdb::SstFileWriter> writer;
  rocksdb::Status s;
  auto finish = [&]() -> rocksdb::Status {
    if (!writer) return rocksdb::Status::OK();
    rocksdb::Status done = writer->Finish();
    writer.reset();
    return done;
  };
  for (it->SeekToFirst(); it->Valid() && s.ok(); it->Next()) {
    if (writer && writer->FileSize() >= kCopyFileBytes) s = finish();
    if (s.ok() && !writer) {
      files.push_back(fmt::format("{}/{}-{}.sst", staging, index, files.size()));
      writer = std::make_unique<rocksdb::SstFileWriter>(rocksdb::EnvOptions(), options);
      s = writer->Open(files.back());
    }
    if (s.ok()) s = writer->Put(it->key(), it->value());
  }
  if (s.ok()) s = it->status();
  rocksdb::Status finished = finish();
  return s.ok() ? finished : s;
}

}  // namespace

StoreResult<void> CopyDatabase(rocksdb::DB* source,
                               const std::vector<rocksdb::ColumnFamilyHandle*>& sources,
                               const rocksdb::DBOptions& db_options,
                               const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
                               const std::string& dest, const rocksdb::Snapshot* snapshot) {
  std::error_code ec;
  if (fs::exists(dest, ec)) return IoError(fmt::format("'{}' exists", dest));
  const std::string staging = dest + ".staging";
  fs::remove_all(staging, ec);
  fs::create_directories(staging, ec);
  if (ec) return IoError(fmt::format("cannot create '{}': {}", staging, ec.message()));
  struct CleanUp {
    std::string dir;
    ~CleanUp() {
      std::error_code ignored;
      fs::remove_all(dir, ignored);  // scratch files: ingestion moved what it needed
    }
  } cleanup{staging};

  rocksdb::DBOptions options = db_options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dest, families, &handles, &raw);
  if (!s.ok()) return IoError(fmt::format("cannot create '{}': {}", dest, s.ToString()));
  std::unique_ptr<rocksdb::DB> copy(raw);
  for (size_t i = 0; i < handles.size() && s.ok(); ++i) {
    std::vector<std::string> files;
    s = WriteTables(source, sources[i], snapshot, rocksdb::Options(options, families[i].options),
                    staging, i, files);
    if (s.ok() && !files.empty()) {
      rocksdb::IngestExternalFileOptions ingest;
      ingest.move_files = true;
      s = copy->IngestExternalFile(handles[i], files, ingest);
    }
  }
  for (auto* h : handles) (void)copy->DestroyColumnFamilyHandle(h);  // closing either way
  rocksdb::Status closed = copy->Close();
  if (!s.ok()) return IoError(fmt::format("copying into '{}': {}", dest, s.ToString()));
  if (!closed.ok()) return IoError(fmt::format("closing '{}': {}", dest, closed.ToString()));
  return boost::outcome_v2::success();
}

}  // namespace jobtrail::eventstore
