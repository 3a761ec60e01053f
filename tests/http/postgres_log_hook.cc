// Linked into the *_postgres_test binaries (the /v1 API suite, the seed
// dialects, security): the same test sources as their RocksDB binaries, with
// every server's store on the PostgreSQL event log, each test on a database
// of its own (the ctest fixture's server, tests/eventstore/postgres/).
#include "eventstore/config/postgres/pg_config_store.h"
#include "eventstore/postgres/postgres_event_log.h"
#include "tests/eventstore/postgres/pg_test_db.h"
#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

const bool installed = [] {
  TestLog() = [](JobStoreOptions& options, std::shared_ptr<void>& resource) {
    if (!resource) resource = std::make_shared<testing_pg::TestDatabase>();
    auto* db = static_cast<testing_pg::TestDatabase*>(resource.get());
    // Schedules (and, in SecureServerTest, API keys) in the shared
    // configuration, as `serve --log` keeps them.
    options.config = std::make_shared<config::PgConfigStore>(db->url());
    options.open_log = [url = db->url()]() -> eventstore::StoreResult<ExternalLog> {
      eventstore::PostgresEventLogOptions log_options;
      log_options.url = url;
      BOOST_OUTCOME_TRY(log, eventstore::PostgresEventLog::Open(log_options));
      std::string identity = "postgresql:" + log->log_id();
      return ExternalLog{std::move(log), std::move(identity)};
    };
  };
  return true;
}();

}  // namespace
}  // namespace jobtrail::testing
