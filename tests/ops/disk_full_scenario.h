#pragma once
// One disk-full scenario, driven over HTTP against a real server, whatever
// fills its disk: a size-limited tmpfs (tmpfs_disk_full_test.cc) or a
// fault-injecting RocksDB filesystem (disk_full_test.cc). The contract:
//   - a write that meets the full disk answers 503 STORAGE_UNAVAILABLE with
//     Retry-After and a fixed message (no file path, no library text);
//   - reads go on: every acknowledged job, lists, /healthz;
//   - /readyz answers 503 NOT_READY, details.reason storage_unavailable,
//     details.writable false; /metrics says jobtrail_writable 0;
//   - once space is back, writes resume by themselves (the refused write,
//     retried with its idempotency key, is answered 201), /readyz 200;
//   - nothing acknowledged is lost.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/http/http_client.h"

namespace jobtrail::testing {

// How long recovery may take before the test fails (it takes about a
// second); the loops poll a condition, they do not sleep.
inline constexpr auto kRecoveryBound = std::chrono::seconds(90);

// A payload of `bytes` random letters (barely compressible, so it takes
// about that much room on disk).
inline std::string RandomPayload(size_t bytes, std::mt19937_64& rng) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string blob(bytes, 'x');
  for (char& c : blob) c = kAlphabet[rng() % (sizeof kAlphabet - 1)];
  return R"({"type":"disk-full","queue":"fill","payload":{"blob":")" + blob + R"("}})";
}

inline std::string JobIdOf(const HttpResult& r) {
  auto doc = r.Json();
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("job_id")) return "";
  return doc["job_id"].GetString();
}

// Polls `done` until it holds or kRecoveryBound passes.
inline bool Eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + kRecoveryBound;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::yield();
  }
  return done();
}

inline void ExpectStorageUnavailable(const HttpResult& r, const std::string& data_dir) {
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(r.ErrorCode(), "STORAGE_UNAVAILABLE") << r.body;
  EXPECT_FALSE(r.Header("Retry-After").empty()) << "a 503 says when to come back";
  // The cause (file names, errno text) is in the server's log only.
  EXPECT_EQ(r.body.find(data_dir), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("No space left"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find(".sst"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find(".log"), std::string::npos) << r.body;
}

struct DiskFullOutcome {
  std::vector<std::string> acked;  // job ids answered 201
  int writes_before_full = 0;
  bool saw_full = false;
  bool recovered = false;
};

// `fill` makes the disk full (or does nothing when the writes themselves
// fill it), `free_space` gives room back. Writes jobs of `payload_bytes`
// until one is refused (at most `max_writes`), then checks the contract.
inline DiskFullOutcome RunDiskFullScenario(HttpClient& client, const std::string& data_dir,
                                           const std::function<void()>& fill,
                                           const std::function<void()>& free_space,
                                           size_t payload_bytes, int max_writes) {
  DiskFullOutcome out;
  std::mt19937_64 rng(20261207);
  for (int i = 0; i < 3; ++i) {
    HttpResult r = client.Post("/v1/jobs", RandomPayload(64, rng),
                               {"Idempotency-Key: before-" + std::to_string(i)});
    EXPECT_EQ(r.status, 201) << r.body;
    out.acked.push_back(JobIdOf(r));
  }
  fill();
  std::string refused_key;
  std::string refused_body;
  for (int i = 0; i < max_writes; ++i) {
    const std::string key = "fill-" + std::to_string(i);
    const std::string body = RandomPayload(payload_bytes, rng);
    HttpResult r = client.Post("/v1/jobs", body, {"Idempotency-Key: " + key});
    if (r.status == 201) {
      out.acked.push_back(JobIdOf(r));
      ++out.writes_before_full;
      continue;
    }
    ExpectStorageUnavailable(r, data_dir);
    refused_key = key;
    refused_body = body;
    out.saw_full = true;
    break;
  }
  EXPECT_TRUE(out.saw_full) << "no write met the full disk in " << max_writes << " writes";
  if (!out.saw_full) return out;

  // Reads go on.
  for (const std::string& id : out.acked) {
    HttpResult r = client.Get("/v1/jobs/" + id);
    EXPECT_EQ(r.status, 200) << "acknowledged job " << id << " unreadable: " << r.body;
  }
  EXPECT_EQ(client.Get("/v1/jobs?limit=5").status, 200);
  EXPECT_EQ(client.Get("/healthz").status, 200);
  HttpResult ready = client.Get("/readyz");
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_EQ(ready.ErrorCode(), "NOT_READY");
  {
    auto doc = ready.Json();
    EXPECT_FALSE(doc.HasParseError()) << ready.body;
    if (!doc.HasParseError() && doc.HasMember("error")) {
      const auto& d = doc["error"]["details"];
      EXPECT_STREQ(d["reason"].GetString(), "storage_unavailable") << ready.body;
      EXPECT_FALSE(d["writable"].GetBool());
    }
    EXPECT_EQ(ready.body.find(data_dir), std::string::npos) << ready.body;
  }
  HttpResult metrics = client.Get("/metrics");
  EXPECT_NE(metrics.body.find("\njobtrail_writable 0\n"), std::string::npos);
  // Still refused while the disk is full; nothing queued up meanwhile.
  ExpectStorageUnavailable(client.Post("/v1/jobs", RandomPayload(64, rng)), data_dir);

  free_space();
  // No restart: the store finds out by itself that it can write again.
  out.recovered = Eventually([&] { return client.Get("/readyz").status == 200; });
  EXPECT_TRUE(out.recovered) << "not ready again once the disk had room";
  // The refused write, retried with its key: applied (once) now.
  HttpResult retried =
      client.Post("/v1/jobs", refused_body, {"Idempotency-Key: " + refused_key});
  EXPECT_EQ(retried.status, 201) << retried.body;
  if (retried.status == 201) out.acked.push_back(JobIdOf(retried));
  HttpResult after = client.Post("/v1/jobs", RandomPayload(64, rng));
  EXPECT_EQ(after.status, 201) << after.body;
  for (const std::string& id : out.acked) {
    EXPECT_EQ(client.Get("/v1/jobs/" + id).status, 200) << "acknowledged job " << id << " lost";
  }
  metrics = client.Get("/metrics");
  EXPECT_NE(metrics.body.find("\njobtrail_writable 1\n"), std::string::npos);
  return out;
}

}  // namespace jobtrail::testing
