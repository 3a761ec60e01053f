#pragma once
// The StoreErrors the RocksDB log's files build again and again: an I/O
// failure (from a RocksDB status or a message) and damage. One place, so
// every file reports them alike.
#include <rocksdb/status.h>

#include <string>

#include "eventstore/store_error.h"

namespace jobtrail::eventstore::internal {

inline StoreError IoError(const rocksdb::Status& s) {
  return StoreError{StoreCode::kIOError, s.ToString(), 0};
}
inline StoreError IoError(std::string message) {
  return StoreError{StoreCode::kIOError, std::move(message), 0};
}
inline StoreError Corruption(std::string message) {
  return StoreError{StoreCode::kCorruption, std::move(message), 0};
}

}  // namespace jobtrail::eventstore::internal
