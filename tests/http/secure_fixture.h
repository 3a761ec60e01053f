#pragma once
// An in-process server with authentication on: API keys for an admin, a
// worker and two readers (alice, bob) in keys.json, HS256 JWTs, share links,
// a manual clock. Rate limits are off unless a test turns them on
// (security_ before Start()).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "http/security/key_store.h"
#include "tests/http/jwt_test_util.h"
#include "tests/http/live_server.h"

namespace jobtrail::testing {

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
      JobStoreOptions init;
      init.data_dir = dir_;
      ASSERT_TRUE(JobStore::Open(init));
    }
    auto keys = http::KeyStore::Load(http::KeyStore::PathIn(dir_));
    ASSERT_TRUE(keys);
    auto make = [&](http::Role role, const std::string& owner) {
      auto created = keys.value().Create(role, owner, "", clock_.Now());
      EXPECT_TRUE(created);
      return created.value().key;
    };
    admin_key_ = make(http::Role::kAdmin, "ops");
    worker_key_ = make(http::Role::kWorker, "svc");
    alice_key_ = make(http::Role::kReader, "alice");
    bob_key_ = make(http::Role::kReader, "bob");
    revoked_key_ = make(http::Role::kAdmin, "gone");
    http::ApiKeyRecord last = keys.value().keys().back();
    ASSERT_TRUE(keys.value().Revoke(last.id, clock_.Now()));
    ASSERT_TRUE(keys.value().Save());

    options_.host = "127.0.0.1";
    options_.port = 0;
    options_.threads = 2;
    options_.access_log = false;
    auto& auth = options_.security.auth;
    auth.keys_path = http::KeyStore::PathIn(dir_);
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
};

}  // namespace jobtrail::testing
