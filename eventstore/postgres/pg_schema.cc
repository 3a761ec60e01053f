#include "eventstore/postgres/pg_schema.h"

#include <fmt/format.h>

#include "eventstore/postgres/pg_connection.h"

namespace jobtrail::eventstore::pg {
namespace {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

// Append only: a released migration is never edited, a change is a new one.
constexpr Migration kMigrations[] = {
    {1, "event log",
     R"sql(
-- One row per event. Positions come from jobtrail_log_head under its row
-- lock, so they are gapless and commit in order (see postgres_event_log.h).
CREATE TABLE jobtrail_events (
  position     bigint  NOT NULL PRIMARY KEY,
  stream       bytea   NOT NULL,
  version      bigint  NOT NULL,
  event_id     bytea   NOT NULL,
  append_index integer NOT NULL,  -- this event's index in its append
  append_count integer NOT NULL,  -- events in that append (retries match it)
  data         bytea   NOT NULL,
  hash         bytea   NOT NULL,  -- SHA-256 chain (eventstore/hash_chain.h)
  CONSTRAINT jobtrail_events_stream_version UNIQUE (stream, version),
  CONSTRAINT jobtrail_events_event_id UNIQUE (event_id),
  CONSTRAINT jobtrail_events_sane CHECK (
    position > 0 AND version > 0 AND length(hash) = 32
    AND append_index >= 0 AND append_index < append_count)
);
-- The head: position and hash of the last event. Every append locks and
-- updates this one row in its transaction.
CREATE TABLE jobtrail_log_head (
  singleton boolean NOT NULL PRIMARY KEY DEFAULT true CHECK (singleton),
  position  bigint  NOT NULL,
  hash      bytea   NOT NULL,
  log_id    uuid    NOT NULL DEFAULT gen_random_uuid()  -- tells logs apart
);
INSERT INTO jobtrail_log_head (position, hash) VALUES (0, decode(repeat('00', 32), 'hex'));
)sql"},
    {2, "shared configuration",
     R"sql(
-- API keys, schedule definitions and the share-link key, one document a
-- row, the same for every node (config/postgres/pg_config_store.h). No
-- CHECK on body: a failing check would quote the row (a secret) in its error.
CREATE TABLE jobtrail_config (
  name       text        NOT NULL PRIMARY KEY,
  body       bytea       NOT NULL,
  version    bigint      NOT NULL,  -- bumped by every update; 0: not written yet
  updated_at timestamptz NOT NULL DEFAULT now()
);
)sql"},
};

// An arbitrary constant: the advisory lock that serialises migrations.
constexpr const char* kLockSql = "SELECT pg_advisory_xact_lock(7036271528410651915)";

StoreResult<void> Script(PGconn* conn, const char* sql, std::string_view what) {
  Result r(PQexec(conn, sql));
  const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Failure(conn, r.get(), what);
  }
  return boost::outcome_v2::success();
}

StoreResult<int> ReadVersion(PGconn* conn) {
  BOOST_OUTCOME_TRY(r, Exec(conn, "SELECT coalesce(max(version), 0)::int8 "
                                  "FROM jobtrail_schema_migrations",
                            nullptr, "reading the schema version"));
  return int(GetU64(r.get(), 0, 0));
}

StoreResult<MigrateReport> MigrateLocked(PGconn* conn) {
  BOOST_OUTCOME_TRY(Script(conn, kLockSql, "taking the migration lock"));
  BOOST_OUTCOME_TRY(Script(conn,
                           "CREATE TABLE IF NOT EXISTS jobtrail_schema_migrations ("
                           " version integer NOT NULL PRIMARY KEY,"
                           " name text NOT NULL,"
                           " applied_at timestamptz NOT NULL DEFAULT now())",
                           "creating jobtrail_schema_migrations"));
  MigrateReport report;
  BOOST_OUTCOME_TRY(from, ReadVersion(conn));
  report.from_version = report.to_version = from;
  if (from > kSchemaVersion) {
    return StoreError{StoreCode::kInvalidArgument,
                      fmt::format("the database's jobtrail schema is at version {}, newer than "
                                  "this jobtrail knows ({}); use a newer jobtrail",
                                  from, kSchemaVersion),
                      0};
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= from) continue;
    BOOST_OUTCOME_TRY(Script(conn, m.sql, fmt::format("migration {} ({})", m.version, m.name)));
    Params p;
    p.Int8(uint64_t(m.version)).Bytes(m.name);
    BOOST_OUTCOME_TRY(Exec(conn,
                           "INSERT INTO jobtrail_schema_migrations (version, name) "
                           "VALUES ($1::int8::int4, convert_from($2::bytea, 'UTF8'))",
                           &p, "recording a migration"));
    report.applied.push_back(fmt::format("{} {}", m.version, m.name));
    report.to_version = m.version;
  }
  return report;
}

}  // namespace

StoreResult<MigrateReport> Migrate(PGconn* conn) {
  BOOST_OUTCOME_TRY(Script(conn, "BEGIN", "starting the migration"));
  auto report = MigrateLocked(conn);
  if (!report) {
    (void)Script(conn, "ROLLBACK", "rolling back");  // the error above is the one to report
    return report.error();
  }
  BOOST_OUTCOME_TRY(Script(conn, "COMMIT", "committing the migration"));
  return report;
}

StoreResult<int> SchemaVersion(PGconn* conn) {
  BOOST_OUTCOME_TRY(exists, Exec(conn, "SELECT to_regclass('jobtrail_schema_migrations') IS NULL",
                                 nullptr, "looking for the jobtrail schema"));
  if (GetBytes(exists.get(), 0, 0) == std::string_view("\1", 1)) return 0;
  return ReadVersion(conn);
}

StoreResult<void> CheckSchema(PGconn* conn, const std::string& target) {
  BOOST_OUTCOME_TRY(version, SchemaVersion(conn));
  if (version == kSchemaVersion) return boost::outcome_v2::success();
  if (version > kSchemaVersion) {
    return StoreError{StoreCode::kInvalidArgument,
                      fmt::format("the jobtrail schema in {} is at version {}, newer than this "
                                  "jobtrail knows ({}); use a newer jobtrail",
                                  target, version, kSchemaVersion),
                      0};
  }
  return StoreError{StoreCode::kNotFound,
                    version == 0
                        ? fmt::format("{} holds no jobtrail event log; create it with "
                                      "`jobtrail migrate --log postgresql://...`",
                                      target)
                        : fmt::format("the jobtrail schema in {} is at version {}, this "
                                      "jobtrail needs {}; upgrade it with `jobtrail migrate "
                                      "--log postgresql://...`",
                                      target, version, kSchemaVersion),
                    0};
}

}  // namespace jobtrail::eventstore::pg
