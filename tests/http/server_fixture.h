#pragma once
// An in-process jobtrail HTTP server on 127.0.0.1, port 0, over a JobStore
// in a fresh temporary data directory; plus helpers that speak the API.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/http/live_server.h"

namespace jobtrail::testing {

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

}  // namespace jobtrail::testing
