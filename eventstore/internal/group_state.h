#pragma once
// What one group commit has staged but not yet written: later appends in the
// same group must see the versions and event ids of earlier ones. Keys are
// views into the appenders' requests, which outlive the group. Owned by the
// log and reused by every leader in turn (it keeps its capacity).
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "eventstore/key_format.h"

namespace jobtrail::eventstore::internal {

struct StagedId {
  key_format::IdEntry entry;
  std::string_view stream;
  uint64_t version = 0;
};

// An index entry staged for the batch. The index entries of a group are put
// into the batch last and sorted, so that each index memtable sees a group's
// keys in ascending order: every insert then starts its skiplist search
// from the one before (RocksDB keeps that splice) instead of from the top.
struct IndexEntry {
  std::string key;
  std::string value;
};

// A list of IndexEntry that keeps its strings' capacity across groups.
class IndexEntries {
 public:
  IndexEntry& Add() {
    if (size_ == entries_.size()) entries_.emplace_back();
    return entries_[size_++];
  }
  size_t size() const { return size_; }
  void Truncate(size_t size) { size_ = size; }
  void Clear() { size_ = 0; }
  void Sort() {
    std::sort(entries_.begin(), entries_.begin() + ptrdiff_t(size_),
              [](const IndexEntry& a, const IndexEntry& b) { return a.key < b.key; });
  }
  std::vector<IndexEntry>::const_iterator begin() const { return entries_.begin(); }
  std::vector<IndexEntry>::const_iterator end() const {
    return entries_.begin() + ptrdiff_t(size_);
  }

 private:
  std::vector<IndexEntry> entries_;
  size_t size_ = 0;
};

struct GroupState {
  rocksdb::WriteBatch batch;  // the log records; index entries go in last
  IndexEntries stream_entries;
  IndexEntries id_entries;
  uint64_t position = 0;  // last position staged
  std::string hash;       // chain hash at `position`
  std::unordered_map<std::string_view, uint64_t> versions;  // stream -> staged version
  std::unordered_map<std::string_view, StagedId> ids;
  std::string record;  // scratch for encoding, reused

  void Reset(uint64_t from_position, const std::string& from_hash) {
    batch.Clear();
    stream_entries.Clear();
    id_entries.Clear();
    position = from_position;
    hash = from_hash;
    versions.clear();
    ids.clear();
  }
};

}  // namespace jobtrail::eventstore::internal
