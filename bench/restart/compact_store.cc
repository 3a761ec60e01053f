// jobtrail_compact_store: a full RocksDB compaction of a stopped data
// directory's two databases (the event log, every column family, and the
// read models), so that `du` measures what the data takes once RocksDB
// has dropped overwritten and deleted entries and merged its levels
// (bench/restart/README.md: bytes on disk per job). jobtrail itself
// leaves compactions to RocksDB's size triggers; nothing here changes
// what the databases hold, only how their files are laid out.
//
// The log is opened with the options the server uses (eventstore's
// internal/rocks_options.h: same families, same memtables and filters).
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <rocksdb/db.h>

#include <iostream>
#include <memory>

#include "eventstore/internal/rocks_options.h"

namespace {

bool Check(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return true;
  std::cerr << "jobtrail_compact_store: " << what << ": " << s.ToString() << "\n";
  return false;
}

bool CompactAll(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const std::string& what) {
  rocksdb::CompactRangeOptions options;
  // Rewrite the last level too, so deletes and overwrites are dropped.
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  options.change_level = false;
  return Check(db->CompactRange(options, cf, nullptr, nullptr), what);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Fully compacts a stopped jobtrail data directory's log and read models");
  std::string data_dir;
  app.add_option("--data-dir", data_dir, "data directory (no server may have it open)")
      ->required();
  CLI11_PARSE(app, argc, argv);
  using namespace jobtrail::eventstore;

  {
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    if (!Check(rocksdb::DB::Open(internal::LogDbOptions(nullptr), data_dir + "/log",
                                 internal::FamilyDescriptors(), &handles, &raw),
               "opening the log")) {
      return 1;
    }
    std::unique_ptr<rocksdb::DB> db(raw);
    const auto names = internal::FamilyNames();
    bool ok = Check(db->Flush(rocksdb::FlushOptions(), handles), "flushing the log");
    for (size_t i = 0; ok && i < handles.size(); ++i) {
      ok = CompactAll(db.get(), handles[i], "compacting the log's family " + names[i]);
    }
    for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
    if (!ok || !Check(db->Close(), "closing the log")) return 1;
  }
  {
    rocksdb::Options options;
    options.IncreaseParallelism(2);
    rocksdb::DB* raw = nullptr;
    if (!Check(rocksdb::DB::Open(options, data_dir + "/views", &raw), "opening the views")) {
      return 1;
    }
    std::unique_ptr<rocksdb::DB> db(raw);
    if (!Check(db->Flush(rocksdb::FlushOptions()), "flushing the views") ||
        !CompactAll(db.get(), db->DefaultColumnFamily(), "compacting the views") ||
        !Check(db->Close(), "closing the views")) {
      return 1;
    }
  }
  std::cout << fmt::format("compacted {}/log (4 families) and {}/views\n", data_dir, data_dir);
  return 0;
}
