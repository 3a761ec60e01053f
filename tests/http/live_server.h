#pragma once
// The in-process server fixtures, in one place: a real jobtrail server on
// 127.0.0.1 (port 0) over a JobStore in a fresh temporary data directory,
// an HTTP client for it, and the clean-up (LiveServerTest, which a fixture
// derives from, setting options_, the store's clock and retention, then
// calling Start()); and the two fixtures the tests use:
//   ServerTest        authentication off (every request acts as an admin),
//                     started in SetUp, with helpers that speak the API;
//   SecureServerTest  authentication on: API keys for an admin, a worker
//                     and two readers (alice, bob) in keys.json, HS256 JWTs,
//                     share links, a manual clock; rate limits off unless a
//                     test turns them on; the test calls Start().
// The real `jobtrail serve` binary as a subprocess is tests/cli/server_process.h.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "eventstore/config/file_config_store.h"
#include "domain/clock.h"
#include "http/app/http_server.h"
#include "http/security/key_store.h"
#include "projections/job_store.h"
#include "tests/http/http_client.h"
#include "tests/http/jwt_test_util.h"

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
    store_options.env = store_env_;
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
  // Before Start(): the filesystem under the store (a failing disk in
  // tests/ops); null: the real one.
  rocksdb::Env* store_env_ = nullptr;
  std::string dir_;
  http::ServerOptions options_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<http::HttpServer> server_;
  std::string base_;
  std::unique_ptr<HttpClient> client_;
  std::shared_ptr<void> log_resource_;  // see TestLog()
};

// Authentication off: these tests are about the API, not about who may
// call it.
class ServerTest : public LiveServerTest {
 protected:
  void SetUp() override {
    dir_ = MakeHttpTempDir();
    options_.host = "127.0.0.1";
    options_.port = 0;
    options_.threads = 4;
    options_.access_log = false;
    options_.cors_origins = {"https://app.example.com"};
    // These tests are about the API, not about who may call it
    // (auth_matrix_test.cc is): every request acts as an admin.
    options_.security.auth.insecure_no_auth = true;
    Start();
  }

  // POST /v1/jobs; returns the job id (asserting 201).
  std::string Enqueue(const std::string& body = R"({"type":"email"})",
                      std::vector<std::string> headers = {}) {
    HttpResult r = client_->Post("/v1/jobs", body, std::move(headers));
    EXPECT_EQ(r.status, 201) << r.body;
    auto doc = r.Json();
    if (doc.HasParseError() || !doc.HasMember("job_id")) return "";
    return doc["job_id"].GetString();
  }
  HttpResult Append(const std::string& id, const std::string& body,
                    std::vector<std::string> headers = {}) {
    return client_->Post("/v1/jobs/" + id + "/events", body, std::move(headers));
  }
  void MustAppend(const std::string& id, const std::string& body) {
    HttpResult r = Append(id, body);
    ASSERT_EQ(r.status, 200) << body << " -> " << r.body;
  }
  uint64_t Version(const std::string& id) {
    HttpResult r = client_->Get("/v1/jobs/" + id);
    EXPECT_EQ(r.status, 200) << r.body;
    auto doc = r.Json();
    return doc.HasParseError() ? 0 : doc["version"].GetUint64();
  }
  // The global log position (how many events exist), from the feed.
  uint64_t LogPosition() {
    uint64_t after = 0;
    for (;;) {
      HttpResult r = client_->Get("/v1/events?limit=1000&after=" + std::to_string(after));
      EXPECT_EQ(r.status, 200) << r.body;
      auto doc = r.Json();
      after = doc["next_after"].GetUint64();
      if (!doc["has_more"].GetBool()) return after;
    }
  }
};

inline constexpr const char* kJwtSecret = "jwt-secret-for-tests-0123456789abcdef";
inline constexpr const char* kIssuer = "https://auth.example.com";
inline constexpr const char* kAudience = "jobtrail";

class SecureServerTest : public LiveServerTest {
 protected:
  void SetUp() override {
    dir_ = MakeHttpTempDir("jobtrail-secure");
    manual_clock_ = true;
    {
      // keys.json goes into a data directory, as `jobtrail keys create` does.
      // On another event log (TestLog) the directory is that log's node.
      JobStoreOptions init;
      init.data_dir = dir_;
      if (TestLog()) TestLog()(init, log_resource_);
      auto opened = JobStore::Open(init);
      ASSERT_TRUE(opened) << opened.error().ToString();
      // Where `serve` keeps the keys: keys.json, or the shared configuration.
      config_ = init.config;
    }
    if (!config_) config_ = std::make_shared<config::FileConfigStore>(dir_);
    auto keys = http::KeyStore::Edit(*config_, [&](http::KeyStore& keys) -> Result<void> {
      auto make = [&](http::Role role, const std::string& owner) {
        auto created = keys.Create(role, owner, "", clock_.Now());
        EXPECT_TRUE(created);
        return created ? created.value().key : std::string();
      };
      admin_key_ = make(http::Role::kAdmin, "ops");
      worker_key_ = make(http::Role::kWorker, "svc");
      alice_key_ = make(http::Role::kReader, "alice");
      bob_key_ = make(http::Role::kReader, "bob");
      revoked_key_ = make(http::Role::kAdmin, "gone");
      return keys.Revoke(keys.keys().back().id, clock_.Now());
    });
    ASSERT_TRUE(keys) << keys.error().ToString();

    options_.host = "127.0.0.1";
    options_.port = 0;
    options_.threads = 2;
    options_.access_log = false;
    auto& auth = options_.security.auth;
    auth.keys_path = http::KeyStore::PathIn(dir_);
    auth.config = config_;
    http::JwtOptions jwt;
    jwt.hs256_secret = kJwtSecret;
    jwt.issuer = kIssuer;
    jwt.audience = kAudience;
    auth.jwt = jwt;
    auth.share_secret = "share-secret-for-tests-0123456789abcdef";
    options_.security.rates.enabled = false;
  }
  static std::vector<std::string> Bearer(const std::string& token) {
    return {"Authorization: Bearer " + token};
  }
  // A JWT from the configured issuer for the configured audience, valid an
  // hour from the clock's start.
  std::string Jwt(const std::string& sub, const std::string& role = "",
                  const std::string& aud = kAudience, int64_t exp_offset_s = 3600) {
    const int64_t exp = clock_.Now() / 1000 + exp_offset_s;
    std::string claims = "{\"sub\":\"" + sub + "\",\"iss\":\"" + kIssuer + "\",\"aud\":\"" +
                         aud + "\",\"exp\":" + std::to_string(exp);
    if (!role.empty()) claims += ",\"role\":\"" + role + "\"";
    claims += "}";
    return MakeHs256(claims, kJwtSecret);
  }

  // Enqueues as admin for `owner`; returns the job id.
  std::string EnqueueFor(const std::string& owner, const std::string& payload = "{}") {
    HttpResult r = client_->Post(
        "/v1/jobs", R"({"type":"report","queue":"q-)" + owner + R"(","owner":")" + owner +
                        R"(","payload":)" + payload + "}",
        Bearer(admin_key_));
    EXPECT_EQ(r.status, 201) << r.body;
    auto doc = r.Json();
    return doc.HasParseError() || !doc.HasMember("job_id") ? "" : doc["job_id"].GetString();
  }
  // A share link token for `job`, issued for the admin.
  std::string ShareToken(const std::string& job, const std::string& body = "{}") {
    HttpResult r = client_->Post("/v1/jobs/" + job + "/share", body, Bearer(admin_key_));
    EXPECT_EQ(r.status, 201) << r.body;
    auto doc = r.Json();
    return doc.HasParseError() || !doc.HasMember("token") ? "" : doc["token"].GetString();
  }

  std::string admin_key_, worker_key_, alice_key_, bob_key_, revoked_key_;
  std::shared_ptr<config::ConfigStore> config_;  // where the keys are
};

}  // namespace jobtrail::testing
