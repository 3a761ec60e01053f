#pragma once
// A JobStore in a fresh temporary data directory, with a manual clock, and
// helpers to write the common transitions.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>

#include "domain/clock.h"
#include "projections/job_store.h"

namespace jobtrail::testing {

inline std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  char* made = mkdtemp(tmpl.data());
  EXPECT_NE(made, nullptr);
  return tmpl;
}

inline constexpr Millis kStart = 1705314600000;  // 2024-01-15T10:30:00Z

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("jobtrail-store");
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void Reopen() {
    store_.reset();
    JobStoreOptions options;
    options.data_dir = dir_;
    options.clock = &clock_;
    options.retention_by_type = retention_by_type_;
    auto opened = JobStore::Open(options);
    ASSERT_TRUE(opened) << opened.error().ToString();
    store_ = std::move(opened).value();
  }

  std::string Enqueue(const std::string& type = "email", const std::string& owner = "alice",
                      const std::string& external_ref = "", int max_attempts = 3,
                      const std::string& queue = "") {
    EnqueueRequest r;
    r.spec.type = type;
    r.spec.owner = owner;
    r.spec.external_ref = external_ref;
    r.spec.max_attempts = max_attempts;
    if (!queue.empty()) r.spec.queue = queue;
    r.actor = "api";
    auto out = store_->Enqueue(std::move(r));
    EXPECT_TRUE(out) << out.error().ToString();
    return out ? out.value().job_id : std::string();
  }
  Result<WriteOutcome> Append(const std::string& id, EventBody body,
                              std::optional<uint64_t> expected = std::nullopt,
                              const std::string& actor = "worker-1") {
    AppendRequest r;
    r.job_id = id;
    r.events.push_back(std::move(body));
    r.expected_version = expected;
    r.actor = actor;
    return store_->Append(std::move(r));
  }
  void MustAppend(const std::string& id, EventBody body) {
    auto out = Append(id, std::move(body));
    ASSERT_TRUE(out) << out.error().ToString();
  }
  static Errored Screenshot(const std::string& message, int n) {
    Errored e;
    e.error_type = "FormFillError";
    e.message = message;
    e.stage = "form-filling";
    e.artifacts.push_back(Artifact{"screenshot", "https://s3.example/shot" + std::to_string(n) + ".png",
                                   "screenshots/shot" + std::to_string(n) + ".png", "image/png", ""});
    return e;
  }

  // A job that errored twice with screenshots, was retried twice by its
  // (unleased) worker and completed: the story replay and audit tests tell.
  std::string WriteRetriedJob() {
    const std::string id = Enqueue("form-fill", "alice", "507f1f77bcf86cd799439011", 3);
    MustAppend(id, Started{1, "w1", std::nullopt});
    clock_.Advance(5000);
    MustAppend(id, Screenshot("Element not found: #btnSubmit", 1));
    MustAppend(id, Retried{2, clock_.Now() + 60000, 60000});
    clock_.Advance(60000);
    MustAppend(id, Started{2, "w2", std::nullopt});
    MustAppend(id, Screenshot("Timeout waiting for element", 2));
    MustAppend(id, Retried{3, clock_.Now() + 120000, 120000});
    clock_.Advance(120000);
    MustAppend(id, Started{3, "w1", std::nullopt});
    MustAppend(id, Completed{R"({"confirmation":"ABC123"})", {}});
    return id;
  }

  std::string dir_;
  ManualClock clock_{kStart};
  std::map<std::string, Millis> retention_by_type_;  // applied by Reopen()
  std::unique_ptr<JobStore> store_;
};

}  // namespace jobtrail::testing
