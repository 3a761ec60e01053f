#pragma once
// Pieces shared by postgres_event_log.cc (open, reads) and
// postgres_event_log_append.cc (the writer).
#include <string>
#include <vector>

#include "eventstore/event_log.h"
#include "eventstore/internal/wake_event.h"
#include "eventstore/postgres/pg_connection.h"

namespace jobtrail::eventstore::pg_internal {

// One Append (one part) or AppendMany, waiting for the writer.
struct Request {
  std::vector<StreamAppend> parts;
  std::vector<StoreResult<AppendResult>> results;
  size_t events = 0;
  size_t bytes = 0;  // of ids and data, for the group bound
  internal::WakeEvent done;  // signalled once the results are set
};

// The writer's connection, its statements prepared.
struct WriterConnection {
  pg::Conn conn;
};

// Rows of jobtrail_events (the read statements' column order) as events.
std::vector<StoredEvent> EventsOf(const PGresult* r);

}  // namespace jobtrail::eventstore::pg_internal
