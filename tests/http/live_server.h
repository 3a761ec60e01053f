#pragma once
// The part every HTTP integration fixture shares: a real jobtrail server on
// 127.0.0.1 (port 0) over a JobStore in a fresh temporary data directory,
// an HTTP client for it, and the clean-up. Fixtures derive from it, set
// options_ (and the store's clock and retention) and call Start().
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "domain/clock.h"
#include "http/http_server.h"
#include "projections/job_store.h"
#include "tests/http/http_client.h"

namespace jobtrail::testing {

inline std::string MakeHttpTempDir(const std::string& prefix = "jobtrail-http") {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  char* made = mkdtemp(tmpl.data());
  EXPECT_NE(made, nullptr);
  return tmpl;
}

// Set by a test binary that runs these tests on another event log
// (http_api_postgres_test: postgres_log_hook.cc). Called at every Start():
// sets the store's open_log, creating in `resource` (kept until the test
// ends, across restarts) whatever backs the log.
using TestLogHook = std::function<void(JobStoreOptions&, std::shared_ptr<void>& resource)>;
inline TestLogHook& TestLog() {
  static TestLogHook hook;
  return hook;
}

class LiveServerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    Stop();
    log_resource_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void Start() {
    JobStoreOptions store_options;
    store_options.data_dir = dir_;
    if (TestLog()) TestLog()(store_options, log_resource_);
    if (manual_clock_) store_options.clock = &clock_;
    store_options.retention_by_type = retention_by_type_;
    auto store = JobStore::Open(store_options);
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(store).value();
    auto server = http::HttpServer::Start(*store_, options_);
    ASSERT_TRUE(server) << server.error().ToString();
    server_ = std::move(server).value();
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
    client_ = std::make_unique<HttpClient>(base_);
  }
  void Stop() {
    client_.reset();
    if (server_) server_->Shutdown();
    server_.reset();
    store_.reset();
  }

  // Before Start(): give the store clock_ instead of the system clock, so
  // that tests move time forward instead of waiting.
  bool manual_clock_ = false;
  ManualClock clock_{1705314600000};  // 2024-01-15T10:30:00Z
  std::map<std::string, Millis> retention_by_type_;
  std::string dir_;
  http::ServerOptions options_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<http::HttpServer> server_;
  std::string base_;
  std::unique_ptr<HttpClient> client_;
  std::shared_ptr<void> log_resource_;  // see TestLog()
};

}  // namespace jobtrail::testing
