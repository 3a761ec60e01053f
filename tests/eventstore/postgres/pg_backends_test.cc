// The EventLog contract tests (tests/eventstore/log_backend.h) on
// PostgresEventLog, each test in a fresh database.
#include "eventstore/postgres/postgres_event_log.h"
#include "tests/eventstore/log_backend.h"
#include "tests/eventstore/postgres/pg_test_db.h"

namespace jobtrail::eventstore::testing_util {
namespace {

class PostgresBackend final : public LogBackend {
 public:
  std::unique_ptr<EventLog> Open() override {
    if (!db_.ok()) return nullptr;  // the failure is recorded already
    PostgresEventLogOptions options;
    options.url = db_.url();
    auto log = PostgresEventLog::Open(options);
    EXPECT_TRUE(log) << log.error().message;
    return log ? std::move(log).value() : nullptr;
  }

 private:
  testing_pg::TestDatabase db_;
};

std::vector<BackendParam> PostgresBackends() {
  return {{"Sync", [] { return std::make_unique<PostgresBackend>(); }}};
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Postgres, EventLogTest, ::testing::ValuesIn(PostgresBackends()),
                         BackendName);
INSTANTIATE_TEST_SUITE_P(Postgres, ConcurrencyTest, ::testing::ValuesIn(PostgresBackends()),
                         BackendName);
INSTANTIATE_TEST_SUITE_P(Postgres, SubscriptionTest, ::testing::ValuesIn(PostgresBackends()),
                         BackendName);

}  // namespace jobtrail::eventstore::testing_util
