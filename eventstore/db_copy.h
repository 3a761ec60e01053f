#pragma once
// A consistent logical copy of a RocksDB database into a fresh one: every
// key of every given family, read through `source` and written as table
// files that the new database ingests. For a process that cannot link or
// copy the files by name: a secondary instance beside a writer, whose
// files the writer may delete at any moment (an open file stays readable).
// The caller makes sure `source` does not change during the copy (a
// secondary changes only when it catches up; a writer: pass a snapshot).
#include <rocksdb/db.h>

#include <string>
#include <vector>

#include "eventstore/store_error.h"

namespace jobtrail::eventstore {

// `families[i]` describes `sources[i]` (name and options of the copy's
// family). `dest` must not exist; `dest`.staging is used and removed.
// Errors: kIOError.
StoreResult<void> CopyDatabase(rocksdb::DB* source,
                               const std::vector<rocksdb::ColumnFamilyHandle*>& sources,
                               const rocksdb::DBOptions& db_options,
                               const std::vector<rocksdb::ColumnFamilyDescriptor>& families,
                               const std::string& dest,
                               const rocksdb::Snapshot* snapshot = nullptr);

}  // namespace jobtrail::eventstore
