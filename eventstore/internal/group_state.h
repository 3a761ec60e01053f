#pragma once
// What one group commit has staged but not yet written: later appends in the
// same group must see the versions and event ids of earlier ones. Keys are
// views into the appenders' requests, which outlive the group. Owned by the
// log and reused by every leader in turn (it keeps its capacity).
#include <rocksdb/write_batch.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "eventstore/key_format.h"

namespace jobtrail::eventstore::internal {

struct StagedId {
  key_format::IdEntry entry;
  std::string_view stream;
  uint64_t version = 0;
};

struct GroupState {
  rocksdb::WriteBatch batch;
  uint64_t position = 0;  // last position staged
  std::string hash;       // chain hash at `position`
  std::unordered_map<std::string_view, uint64_t> versions;  // stream -> staged version
  std::unordered_map<std::string_view, StagedId> ids;
  std::string record;  // scratch for encoding, reused

  void Reset(uint64_t from_position, const std::string& from_hash) {
    batch.Clear();
    position = from_position;
    hash = from_hash;
    versions.clear();
    ids.clear();
  }
};

}  // namespace jobtrail::eventstore::internal
