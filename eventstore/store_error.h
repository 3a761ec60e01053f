#pragma once
// Errors of the event log. The log is a library of its own (it never
// includes domain/), so it has its own small code set; projections/ maps
// them onto the domain's vocabulary.
#include <boost/outcome.hpp>
#include <cstdint>
#include <string>

namespace jobtrail::eventstore {

enum class StoreCode {
  kWrongExpectedVersion,  // the stream is not at the expected version
  kInvalidArgument,       // bad stream name, empty append, reused event id
  kNotFound,              // no such data directory / stream
  kCorruption,            // a record or key does not parse, chain broken
  kIOError,               // RocksDB or the filesystem failed (reading)
  kUnavailable,           // the log cannot write now (disk full, I/O error
                          // while writing); it recovers by itself: retry
  kClosed,                // the log is shutting down
};

struct StoreError {
  StoreCode code = StoreCode::kIOError;
  std::string message;
  uint64_t current_version = 0;  // set with kWrongExpectedVersion
};

template <typename T>
using StoreResult =
    boost::outcome_v2::result<T, StoreError, boost::outcome_v2::policy::terminate>;

}  // namespace jobtrail::eventstore
