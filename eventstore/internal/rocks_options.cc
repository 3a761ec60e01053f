#include "eventstore/internal/rocks_options.h"

#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/table_properties_collectors.h>

#include <fmt/format.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <filesystem>

#include "eventstore/key_format.h"

namespace jobtrail::eventstore::internal {
namespace kf = key_format;
namespace {

StoreError Corrupt(std::string message) {
  return StoreError{StoreCode::kCorruption, std::move(message), 0};
}

constexpr uint64_t kMaxTotalWalBytes = uint64_t{64} << 20;

// Compaction (ArchiveStreams) deletes whole jobs' records and index
// entries. A delete only frees disk when RocksDB's own compaction carries
// it down to the level holding the data, which size-triggered compaction
// may not do for a long time; table files dense with deletes are marked
// for compaction, so the space comes back within minutes.
void ReclaimDeletes(rocksdb::ColumnFamilyOptions& cf) {
  cf.table_properties_collector_factories.push_back(
      rocksdb::NewCompactOnDeletionCollectorFactory(/*sliding_window_size=*/1024,
                                                    /*deletion_trigger=*/256,
                                                    /*deletion_ratio=*/0.3));
}

rocksdb::ColumnFamilyOptions LogFamily() {
  rocksdb::ColumnFamilyOptions cf;
  cf.OptimizeLevelStyleCompaction();
  // Positions only grow: with every key in one hint "prefix" the memtable
  // inserts next to the previous key instead of searching the skiplist.
  cf.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(4));
  ReclaimDeletes(cf);
  return cf;
}

// The index families answer point lookups, and most of them miss (a fresh
// event id; a stream's next version): bloom filters in the tables and the
// memtable answer those without a search.
rocksdb::ColumnFamilyOptions IndexFamily() {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf.memtable_prefix_bloom_size_ratio = 0.05;
  cf.memtable_whole_key_filtering = true;
  // A group puts its index entries in key order (see GroupState). With one
  // hint for the whole memtable, RocksDB starts each insert from the last
  // one and fixes only the skiplist levels that do not bracket the new key.
  cf.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewCappedPrefixTransform(0));
  ReclaimDeletes(cf);
  return cf;
}

// The ids family is only ever looked up by whole key, never iterated in
// order (but to flush), so its memtable is a hash table: an insert costs a
// hash instead of a skiplist search. That cut the instructions of an append
// by a third (callgrind, 10-event appends: 43.1k -> 29.4k per event).
rocksdb::ColumnFamilyOptions IdFamily() {
  rocksdb::ColumnFamilyOptions cf = IndexFamily();
  cf.memtable_insert_with_hint_prefix_extractor.reset();
  cf.prefix_extractor.reset(rocksdb::NewCappedPrefixTransform(1 << 20));  // the whole id
  cf.memtable_factory.reset(rocksdb::NewHashLinkListRepFactory(1 << 18));
  return cf;
}

}  // namespace

std::vector<std::string> FamilyNames() {
  return {rocksdb::kDefaultColumnFamilyName, std::string(kf::kLogFamily),
          std::string(kf::kStreamsFamily), std::string(kf::kIdsFamily)};
}

std::vector<rocksdb::ColumnFamilyDescriptor> FamilyDescriptors() {
  const std::vector<std::string> names = FamilyNames();
  return {
      {names[0], rocksdb::ColumnFamilyOptions()},
      {names[1], LogFamily()},
      {names[2], IndexFamily()},
      {names[3], IdFamily()},
  };
}

rocksdb::DBOptions LogDbOptions(rocksdb::Env* env) {
  rocksdb::DBOptions db_options;
  db_options.env = env != nullptr ? env : rocksdb::Env::Default();
  db_options.IncreaseParallelism(2);
  db_options.max_open_files = 512;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  // Required by the hash memtable of the ids family; there is only ever one
  // writer (the group leader) anyway.
  db_options.allow_concurrent_memtable_write = false;
  // A restart after a crash replays the WAL into the memtables: cap what
  // it holds, so memtables are flushed by then and recovery reads at most
  // this much (with 128 MiB memtables, 600k events took 5 s to reopen).
  db_options.max_total_wal_size = kMaxTotalWalBytes;
  return db_options;
}

StoreResult<bool> InspectLogDirectory(const std::string& dir, bool create,
                                      const rocksdb::DBOptions& db_options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool exists = fs::exists(dir, ec);
  if (ec) return StoreError{StoreCode::kIOError, fmt::format("'{}': {}", dir, ec.message()), 0};
  if (exists && !fs::is_directory(dir, ec)) {
    return Corrupt(fmt::format("'{}' is not a directory", dir));
  }
  const bool empty = !exists || fs::is_empty(dir, ec);
  if (ec) return StoreError{StoreCode::kIOError, fmt::format("'{}': {}", dir, ec.message()), 0};
  if (empty) {
    if (!create) {
      return StoreError{StoreCode::kNotFound, fmt::format("no event log at '{}'", dir), 0};
    }
    return true;
  }
  if (!fs::exists(fs::path(dir) / "CURRENT", ec)) {
    return Corrupt(fmt::format(
        "'{}' is not empty and holds no jobtrail event log; refusing to use it", dir));
  }
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_options, dir, &names);
  if (!s.ok()) {
    return Corrupt(fmt::format("'{}' is not a jobtrail event log: {}", dir, s.ToString()));
  }
  std::vector<std::string> expected = FamilyNames();
  std::sort(names.begin(), names.end());
  std::sort(expected.begin(), expected.end());
  if (names != expected) {
    return Corrupt(fmt::format(
        "'{}' holds a RocksDB database with column families [{}], not a jobtrail event log",
        dir, fmt::join(names, ", ")));
  }
  return false;
}


}  // namespace jobtrail::eventstore::internal
