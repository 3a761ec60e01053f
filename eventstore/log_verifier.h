#pragma once
// Checks a whole log: positions contiguous from 1, every stream's versions
// contiguous from 1, and the hash chain unbroken. Works on any EventLog.
// A compacted log's archived ranges are crossed by their gap records' hashes
// and proved by the archive: each archived stream whole, each archived
// record hashing from its predecessor's hash, and the links between the
// log's records, the gaps and the archived records one consistent chain.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "eventstore/event_log.h"

namespace jobtrail::eventstore {

struct LogReport {
  uint64_t events = 0;  // archived ones included
  uint64_t archived_events = 0;
  uint64_t streams = 0;
  std::vector<std::string> problems;  // empty when the log is sound
  bool ok() const { return problems.empty(); }
};

// `check_event` may add a problem for one event (e.g. "does not decode");
// `progress` is called now and then with the position reached.
// Errors are I/O failures only; damage is reported in LogReport::problems.
StoreResult<LogReport> VerifyLog(
    EventLog& log,
    const std::function<std::optional<std::string>(const StoredEvent&)>& check_event,
    const std::function<void(uint64_t)>& progress);

}  // namespace jobtrail::eventstore
