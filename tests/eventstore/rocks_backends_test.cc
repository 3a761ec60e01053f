// The EventLog contract tests on RocksEventLog, synced and unsynced.
#include "eventstore/rocks_event_log.h"
#include "tests/eventstore/log_backend.h"
#include "tests/eventstore/test_util.h"

namespace jobtrail::eventstore::testing_util {
namespace {

class RocksBackend final : public LogBackend {
 public:
  explicit RocksBackend(Durability durability) : durability_(durability) {}
  std::unique_ptr<EventLog> Open() override { return OpenLog(dir_.path(), durability_); }

 private:
  TempDir dir_;
  Durability durability_;
};

std::vector<BackendParam> RocksBackends() {
  return {{"Sync", [] { return std::make_unique<RocksBackend>(Durability::kSync); }},
          {"NoSync", [] { return std::make_unique<RocksBackend>(Durability::kNoSync); }}};
}

}  // namespace

// Named as before the backends were parameterised, so ctest names stay.
INSTANTIATE_TEST_SUITE_P(Durabilities, EventLogTest, ::testing::ValuesIn(RocksBackends()),
                         BackendName);
INSTANTIATE_TEST_SUITE_P(Durabilities, ConcurrencyTest, ::testing::ValuesIn(RocksBackends()),
                         BackendName);
INSTANTIATE_TEST_SUITE_P(Durabilities, SubscriptionTest, ::testing::ValuesIn(RocksBackends()),
                         BackendName);

}  // namespace jobtrail::eventstore::testing_util
