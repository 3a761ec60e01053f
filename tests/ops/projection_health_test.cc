// Lag and health you can see: a projection that fails stops loudly (an
// error in the server log, the failed state in /metrics, /readyz 503,
// writes refused) instead of serving stale read models as current; /readyz
// turns not ready past --max-projection-lag-ms; /metrics lists what README
// says it does. Plus the pieces underneath, with their clocks given: the
// readiness rule, the log's commit clock, the claim rate window.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "eventstore/rocks_event_log.h"
#include "http/v1/readiness.h"
#include "tests/http/lagging_store.h"
#include "tests/http/live_server.h"

namespace jobtrail::testing {
namespace {

class OpsServerTest : public LiveServerTest {
 protected:
  void SetUp() override {
    dir_ = MakeHttpTempDir("jobtrail-ops");
    options_.host = "127.0.0.1";
    options_.port = 0;
    options_.access_log = false;
    options_.security.auth.insecure_no_auth = true;
    previous_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>(
        "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log_)));
  }
  void TearDown() override {
    LiveServerTest::TearDown();
    spdlog::set_default_logger(previous_);
  }
  std::string Logged() {
    spdlog::default_logger()->flush();
    return log_.str();
  }
  static std::string DetailsReason(const HttpResult& r) {
    auto doc = r.Json();
    if (doc.HasParseError() || !doc.HasMember("error")) return "";
    return doc["error"]["details"]["reason"].GetString();
  }

  std::ostringstream log_;
  std::shared_ptr<spdlog::logger> previous_;
};

// An event the projection cannot apply (here: bytes that are no event; in
// life a bug, or a newer binary's event read by an older one) in the log.
TEST_F(OpsServerTest, AProjectionThatFailsStopsLoudlyAndIsNeverServedAsCurrent) {
  {
    eventstore::RocksEventLogOptions options;
    auto log = eventstore::RocksEventLog::Open(dir_ + "/log", options);
    ASSERT_TRUE(log) << log.error().message;
    ASSERT_TRUE(log.value()->Append("11111111-1111-4111-8111-111111111111", eventstore::kNoStream,
                                    {{"22222222-2222-4222-8222-222222222222", "not an event"}}));
  }
  Start();
  HttpResult ready;
  ASSERT_TRUE([&] {
    for (int i = 0; i < 100000; ++i) {
      ready = client_->Get("/readyz");
      if (DetailsReason(ready) == "projection_failed") return true;
      std::this_thread::yield();
    }
    return false;
  }()) << ready.body;
  EXPECT_EQ(ready.status, 503);
  EXPECT_EQ(ready.ErrorCode(), "NOT_READY");
  EXPECT_NE(ready.body.find(R"("projection":"failed")"), std::string::npos) << ready.body;
  EXPECT_NE(Logged().find("projection stopped for good"), std::string::npos) << Logged();

  const std::string metrics = client_->Get("/metrics").body;
  EXPECT_NE(metrics.find("jobtrail_projection_state{model=\"views\",state=\"failed\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.find("jobtrail_projection_errors_total{model=\"views\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.find("\njobtrail_ready 0\n"), std::string::npos);
  EXPECT_NE(metrics.find("\njobtrail_writable 0\n"), std::string::npos);

  // Writes are refused before they reach the log: their effect could not
  // be shown, so they are not taken.
  HttpResult write = client_->Post("/v1/jobs", R"({"type":"after"})");
  EXPECT_EQ(write.status, 503) << write.body;
  EXPECT_EQ(write.ErrorCode(), "PROJECTION_FAILED");
  EXPECT_FALSE(write.Header("Retry-After").empty());
  EXPECT_EQ(write.body.find("not an event"), std::string::npos);
  EXPECT_EQ(store_->Progress().log_position, 1u);
}

// A store whose projection lags by a set time (the HTTP side's view of it).
class LagStore : public LaggingStore {
 public:
  using LaggingStore::LaggingStore;
  uint64_t lag_ms = 0;
  ProjectionProgress Progress() override {
    ProjectionProgress p = LaggingStore::Progress();
    p.lag_ms = lag_ms;
    return p;
  }
};

TEST_F(OpsServerTest, ReadinessTurnsNotReadyPastTheLagBound) {
  options_.max_projection_lag_ms = 2000;
  JobStoreOptions store_options;
  store_options.data_dir = dir_;
  auto real = JobStore::Open(store_options);
  ASSERT_TRUE(real) << real.error().ToString();
  auto lagging = std::make_unique<LagStore>(std::move(real).value());
  LagStore* lag = lagging.get();
  store_ = std::move(lagging);
  auto server = http::HttpServer::Start(*store_, options_);
  ASSERT_TRUE(server) << server.error().ToString();
  server_ = std::move(server).value();
  base_ = "http://127.0.0.1:" + std::to_string(server_->port());
  client_ = std::make_unique<HttpClient>(base_);

  lag->lag_ms = 1500;
  HttpResult r = client_->Get("/readyz");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("lag_ms":1500)"), std::string::npos) << r.body;
  lag->lag_ms = 2500;
  r = client_->Get("/readyz");
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(DetailsReason(r), "projection_lagging");
  EXPECT_NE(client_->Get("/metrics").body.find("jobtrail_projection_lag_seconds{model=\"views\"} 2.500"),
            std::string::npos);
  lag->lag_ms = 0;
  EXPECT_EQ(client_->Get("/readyz").status, 200);
}

// Every metric README's Operations section lists is exported.
TEST_F(OpsServerTest, MetricsExportTheLogTheReadModelsStorageQueuesAndClaims) {
  Start();
  ASSERT_EQ(client_->Post("/v1/jobs", R"({"type":"m","queue":"mq"})").status, 201);
  HttpResult claim = client_->Post("/v1/queues/mq/claim", R"({"worker_id":"w","lease_ms":60000})");
  ASSERT_EQ(claim.status, 200) << claim.body;
  const std::string m = client_->Get("/metrics").body;
  for (const char* name :
       {"jobtrail_log_position ", "jobtrail_log_pending_appends ",
        "jobtrail_log_group_commit_events_bucket{le=\"1\"} ",
        "jobtrail_log_group_commit_events_count ", "jobtrail_log_sync_seconds_bucket{le=\"+Inf\"} ",
        "jobtrail_projected_position{model=\"views\"} ",
        "jobtrail_projection_lag_events{model=\"views\"} ",
        "jobtrail_projection_lag_seconds{model=\"views\"} ",
        "jobtrail_projection_state{model=\"views\",state=\"running\"} 1",
        "jobtrail_projection_errors_total{model=\"views\"} 0", "jobtrail_ready 1",
        "jobtrail_writable 1", "jobtrail_storage_writable{db=\"log\"} 1",
        "jobtrail_storage_writable{db=\"read_models\"} 1",
        "jobtrail_storage_failures_total{db=\"log\"} 0",
        "jobtrail_storage_recoveries_total{db=\"read_models\"} 0",
        "jobtrail_storage_background_errors_total{db=\"log\"} 0",
        "jobtrail_write_queue_depth ", "jobtrail_jobs_claimed_total 1",
        "jobtrail_claims_per_second "}) {
    EXPECT_NE(m.find(std::string("\n") + name), std::string::npos) << name;
  }
  // Two appends were written: each group commit of one event.
  EXPECT_NE(m.find("jobtrail_log_group_commit_events_count 2"), std::string::npos) << m;
}

TEST(ReadinessTest, SaysWhyItIsNotReady) {
  ProjectionProgress p;
  p.ready = true;
  StoreVitals v;
  EXPECT_TRUE(http::Assess(p, v, 0).ready);
  p.lag_ms = 10'000;
  EXPECT_TRUE(http::Assess(p, v, 0).ready);  // no bound
  EXPECT_EQ(http::Assess(p, v, 5000).reason, "projection_lagging");
  EXPECT_TRUE(http::Assess(p, v, 5000).writable);
  p.ready = false;
  EXPECT_EQ(http::Assess(p, v, 5000).reason, "catching_up");
  v.views_storage.writable = false;
  EXPECT_EQ(http::Assess(p, v, 5000).reason, "storage_unavailable");
  EXPECT_FALSE(http::Assess(p, v, 5000).writable);
  p.state = ProjectionState::kFailed;
  EXPECT_EQ(http::Assess(p, v, 5000).reason, "projection_failed");
  p = ProjectionProgress{};
  p.ready = true;
  v = StoreVitals{};
  p.state = ProjectionState::kBlocked;
  EXPECT_EQ(http::Assess(p, v, 0).reason, "storage_unavailable");
}

TEST(CommitClockTest, FindsWhenAPositionWasCommitted) {
  using std::chrono::seconds;
  eventstore::CommitClock clock;
  const auto t0 = std::chrono::steady_clock::time_point(seconds(100));
  EXPECT_FALSE(clock.CommittedAt(1));
  clock.Note(10, t0);
  clock.Note(15, t0 + seconds(1));
  clock.Note(15, t0 + seconds(2));  // no progress: ignored
  clock.Note(40, t0 + seconds(3));
  EXPECT_EQ(clock.CommittedAt(3), t0);  // older than remembered: the oldest time
  EXPECT_EQ(clock.CommittedAt(10), t0);
  EXPECT_EQ(clock.CommittedAt(11), t0 + seconds(1));
  EXPECT_EQ(clock.CommittedAt(16), t0 + seconds(3));
  EXPECT_FALSE(clock.CommittedAt(41));  // not committed yet
}

TEST(RateWindowTest, CountsTheLastTenWholeSeconds) {
  using std::chrono::milliseconds;
  RateWindow window;
  const auto t0 = std::chrono::steady_clock::time_point(std::chrono::seconds(1000));
  window.Add(30, t0);
  window.Add(20, t0 + milliseconds(500));
  window.Add(40, t0 + milliseconds(3200));
  EXPECT_DOUBLE_EQ(window.PerSecond(t0 + milliseconds(900)), 0.0);  // still filling
  EXPECT_DOUBLE_EQ(window.PerSecond(t0 + milliseconds(4000)), 9.0);
  EXPECT_DOUBLE_EQ(window.PerSecond(t0 + milliseconds(11'500)), 4.0);  // t0's second left
  EXPECT_DOUBLE_EQ(window.PerSecond(t0 + milliseconds(30'000)), 0.0);
}

}  // namespace
}  // namespace jobtrail::testing
