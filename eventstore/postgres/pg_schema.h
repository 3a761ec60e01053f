#pragma once
// The PostgreSQL log's schema and its versioned migrations (the tables are
// described in eventstore/postgres/README.md). `jobtrail migrate` runs
// Migrate(); PostgresEventLog::Open refuses a database whose schema is not
// exactly kSchemaVersion, so an old binary never writes to a newer schema
// and a new one never to an old schema.
#include <libpq-fe.h>

#include <string>
#include <vector>

#include "eventstore/store_error.h"

namespace jobtrail::eventstore::pg {

// The schema version this build reads and writes.
inline constexpr int kSchemaVersion = 2;  // 2: jobtrail_config (config/postgres/)
// LISTEN/NOTIFY channel: every commit notifies it with its last position.
inline constexpr const char* kNotifyChannel = "jobtrail_log";

struct MigrateReport {
  int from_version = 0;
  int to_version = 0;
  std::vector<std::string> applied;  // "N name", in order
};

// Brings the schema of the connected database up to kSchemaVersion: every
// pending migration in one transaction, under an advisory lock (two
// migrates at once run one after the other; the second finds nothing to
// do). Idempotent. Errors: kInvalidArgument for a schema newer than this
// build knows; kIOError.
StoreResult<MigrateReport> Migrate(PGconn* conn);

// The schema version of the connected database; 0 if it has none.
StoreResult<int> SchemaVersion(PGconn* conn);

// kNotFound (no schema, or an older one: run migrate) or kInvalidArgument
// (a newer one) unless the database is at kSchemaVersion. `target`
// describes the database in the messages.
StoreResult<void> CheckSchema(PGconn* conn, const std::string& target);

}  // namespace jobtrail::eventstore::pg
