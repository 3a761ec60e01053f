#pragma once
// The RocksDB options of the event log's database, shared by every way of
// opening it (the writer, a read-only secondary, a backup's fresh copy), so
// they all read and write the same families the same way.
#include <rocksdb/db.h>
#include <rocksdb/options.h>

#include "eventstore/store_error.h"

#include <string>
#include <vector>

namespace jobtrail::eventstore::internal {

// default, log, streams, ids: in this order.
std::vector<std::string> FamilyNames();
// The families with their options, in FamilyNames() order.
std::vector<rocksdb::ColumnFamilyDescriptor> FamilyDescriptors();
// Database-wide options (env: null means the default Env).
rocksdb::DBOptions LogDbOptions(rocksdb::Env* env);
// Checks what is at `dir` before RocksDB may touch it: true if it is empty or
// missing and `create` allows a new log there, false if it holds a jobtrail
// log. kNotFound (empty and !create), kCorruption (anything else).
StoreResult<bool> InspectLogDirectory(const std::string& dir, bool create,
                                      const rocksdb::DBOptions& db_options);

}  // namespace jobtrail::eventstore::internal
