#pragma once
// The EventLog contract tests (event_log_test.cc, concurrency_contract_test.cc,
// subscription_test.cc) run against every backend: each test binary
// instantiates them with its backends (rocks_backends_test.cc here,
// postgres/pg_backends_test.cc for PostgreSQL). A backend makes a fresh,
// empty log and can open it again (a restart).
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "eventstore/event_log.h"
#include "eventstore/log_verifier.h"

namespace jobtrail::eventstore::testing_util {

class LogBackend {
 public:
  virtual ~LogBackend() = default;
  // Opens the backend's log (again, after the last one was destroyed);
  // null, with a test failure recorded, if it cannot.
  virtual std::unique_ptr<EventLog> Open() = 0;
};

struct BackendParam {
  std::string name;  // the test name's suffix
  std::function<std::unique_ptr<LogBackend>()> make;
};

// gtest prints a parameter in test listings: the name, not its bytes.
inline void PrintTo(const BackendParam& param, std::ostream* os) { *os << param.name; }

inline std::string BackendName(const ::testing::TestParamInfo<BackendParam>& info) {
  return info.param.name;
}

class LogContractTest : public ::testing::TestWithParam<BackendParam> {
 protected:
  void SetUp() override {
    backend_ = GetParam().make();
    ASSERT_NE(backend_, nullptr);
    log_ = backend_->Open();
    ASSERT_NE(log_, nullptr);
  }
  // Closes the log and opens it again, as a restart would.
  void Reopen() {
    log_.reset();
    log_ = backend_->Open();
    ASSERT_NE(log_, nullptr);
  }

  AppendResult MustAppend(const std::string& stream, uint64_t expected,
                          std::vector<EventToAppend> events) {
    auto r = log_->Append(stream, expected, std::move(events));
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? r.value() : AppendResult{};
  }
  std::vector<StoredEvent> Stream(const std::string& stream, uint64_t from = 1) {
    auto r = log_->ReadStream(stream, from, 1000);
    EXPECT_TRUE(r.has_value());
    return r ? r.value() : std::vector<StoredEvent>{};
  }
  std::vector<StoredEvent> All(uint64_t from = 1) {
    auto r = log_->ReadAll(from, 100000);
    EXPECT_TRUE(r.has_value());
    return r ? r.value() : std::vector<StoredEvent>{};
  }

  std::unique_ptr<LogBackend> backend_;
  std::unique_ptr<EventLog> log_;
};

// The contract's suites (one fixture each, so each has its own name).
class EventLogTest : public LogContractTest {};
class ConcurrencyTest : public LogContractTest {};
class SubscriptionTest : public LogContractTest {};

// Positions contiguous, streams contiguous, chain intact, `events` events.
inline void ExpectSound(EventLog& log, uint64_t events) {
  auto report = VerifyLog(log, nullptr, nullptr);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report.value().ok()) << report.value().problems.front();
  EXPECT_EQ(report.value().events, events);
}

}  // namespace jobtrail::eventstore::testing_util
