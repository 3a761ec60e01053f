// The read models are a pure function of the log: a rebuild from scratch
// reproduces the live views byte for byte, and Verify says so.
#include <rocksdb/db.h>

#include <map>

#include "projections/rocks_job_store.h"
#include "tests/projections/store_fixture.h"

namespace jobtrail::testing {
namespace {

class RebuildTest : public StoreTest {
 protected:
  std::map<std::string, std::string> DumpViews() {
    auto* rocks = dynamic_cast<RocksJobStore*>(store_.get());
    EXPECT_NE(rocks, nullptr);
    std::map<std::string, std::string> out;
    std::unique_ptr<rocksdb::Iterator> it(rocks->views()->NewIterator(rocksdb::ReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) out[it->key().ToString()] = it->value().ToString();
    return out;
  }
  void WriteVariedHistory() {
    for (int i = 0; i < 60; ++i) {
      clock_.Advance(997);
      const std::string id = Enqueue(i % 3 ? "pdf" : "email", i % 2 ? "alice" : "bob",
                                     i % 5 ? "" : "ref-" + std::to_string(i));
      if (i % 4 == 0) continue;
      // Jobs that will error run without a lease: the worker decides the retry.
      std::optional<Millis> lease;
      if (i % 4 != 1) lease = clock_.Now() + 60000;
      MustAppend(id, Started{0, "w", lease});
      MustAppend(id, Logged{LogLevel::kWarn, "slow page", R"({"ms":900})", {{"user", "u1"}}});
      if (i % 4 == 1) {
        MustAppend(id, Screenshot("boom", i));
        MustAppend(id, Retried{0, clock_.Now() + 1000, 1000});
        MustAppend(id, Started{});
      }
      clock_.Advance(i * 13);
      if (i % 7 == 0) {
        MustAppend(id, Cancelled{"operator", "ops"});
      } else if (i % 4 == 2) {
        MustAppend(id, Failed{"gave up", "Fatal", ""});
      } else {
        MustAppend(id, Completed{R"({"ok":true})", {}});
      }
      // Webhook attempts about the final event: a subscription's (which
      // the deliveries read model keeps) and a callback's (history only).
      if (i % 3 != 1) {
        const uint64_t final_version = store_->Status(id).value().version;
        WebhookAttempted attempt{"d-" + std::to_string(i), i % 3 == 0 ? "wh_a" : "",
                                 final_version, "completed", 1, 500, "HTTP 500", 12,
                                 WebhookOutcome::kRetrying, clock_.Now() + 5000};
        MustAppend(id, attempt);
        attempt.attempt = 2;
        attempt.status_code = 204;
        attempt.error.clear();
        attempt.outcome = WebhookOutcome::kDelivered;
        attempt.next_attempt_at.reset();
        MustAppend(id, attempt);
      }
    }
  }
};

TEST_F(RebuildTest, RebuildReproducesLiveViewsByteForByte) {
  WriteVariedHistory();
  const auto live = DumpViews();
  ASSERT_GT(live.size(), 100u);
  // 15 jobs (i % 3 == 0, not i % 4 == 0) with two attempts each for
  // subscription wh_a, newest first.
  auto attempts = store_->WebhookAttempts("wh_a", 0, 1000);
  ASSERT_TRUE(attempts);
  EXPECT_EQ(attempts.value().attempts_json.size(), 30u);
  EXPECT_EQ(attempts.value().next_before, 0u);
  EXPECT_NE(attempts.value().attempts_json.front().find(R"("outcome":"delivered")"),
            std::string::npos);
  EXPECT_TRUE(store_->WebhookAttempts("wh_b", 0, 10).value().attempts_json.empty());
  uint64_t last_reported = 0;
  auto rebuilt = store_->Rebuild([&](uint64_t done, uint64_t) { last_reported = done; });
  ASSERT_TRUE(rebuilt) << rebuilt.error().ToString();
  EXPECT_EQ(last_reported, store_->Progress().log_position);
  const auto fresh = DumpViews();
  EXPECT_EQ(fresh.size(), live.size());
  EXPECT_TRUE(fresh == live);
  // Writes keep working after a rebuild.
  const std::string id = Enqueue();
  EXPECT_EQ(store_->Status(id).value().version, 1u);
}

TEST_F(RebuildTest, ExpiredJobsLeaveEveryViewLiveAndOnRebuild) {
  WriteVariedHistory();  // 60 jobs; every fourth stays pending
  std::vector<std::string> ids;
  auto page = store_->List(ListQuery{.limit = 100});
  ASSERT_TRUE(page);
  for (const std::string& doc : page.value().items_json) {
    ids.push_back(doc.substr(doc.find("\"id\":\"") + 6, 36));
  }
  ASSERT_EQ(ids.size(), 60u);
  clock_.Advance(3'600'000);
  MaintenanceOptions cleanup;
  cleanup.cleanup_older_than_ms = 60'000;
  auto report = store_->RunMaintenance(cleanup);
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_EQ(report.value().cleaned, 45u);
  EXPECT_EQ(store_->RunMaintenance(cleanup).value().cleaned, 0u);
  EXPECT_EQ(store_->List(ListQuery{.limit = 100}).value().total, 15u);
  EXPECT_EQ(store_->Stats().total, 15u);

  const auto live = DumpViews();
  size_t expired = 0;
  for (const std::string& id : ids) {
    if (store_->Status(id)) continue;
    ++expired;
    EXPECT_EQ(store_->Status(id).error().reason, "JOB_NOT_FOUND");
    EXPECT_EQ(store_->History(id).error().reason, "JOB_NOT_FOUND");
    auto audit = store_->AuditHistory(id);
    ASSERT_TRUE(audit);
    EXPECT_EQ(audit.value().back().actor, "system");
    EXPECT_EQ(std::get<Expired>(audit.value().back().body).reason, "cleanup");
    for (const auto& [key, value] : live) {
      EXPECT_EQ(key.find(id), std::string::npos) << "a view still holds " << id;
    }
  }
  EXPECT_EQ(expired, 45u);

  ASSERT_TRUE(store_->Rebuild(nullptr));
  EXPECT_TRUE(DumpViews() == live);
  auto verified = store_->Verify(nullptr);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified.value().ok());
}

TEST_F(RebuildTest, VerifyPassesOnAHealthyStore) {
  WriteVariedHistory();
  auto report = store_->Verify(nullptr);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report.value().ok()) << report.value().problems.front();
  EXPECT_EQ(report.value().events, store_->Progress().log_position);
}

TEST_F(RebuildTest, VerifyNoticesATamperedReadModel) {
  WriteVariedHistory();
  auto* rocks = dynamic_cast<RocksJobStore*>(store_.get());
  const std::string id = Enqueue();
  std::string key = "j" + id;
  std::string value;
  ASSERT_TRUE(rocks->views()->Get(rocksdb::ReadOptions(), key, &value).ok());
  ASSERT_TRUE(rocks->views()->Put(rocksdb::WriteOptions(), key, value + " ").ok());
  auto report = store_->Verify(nullptr);
  ASSERT_TRUE(report);
  ASSERT_FALSE(report.value().ok());
  EXPECT_NE(report.value().problems[0].find("differs"), std::string::npos);
}

TEST_F(RebuildTest, RestartReplaysOnlyTheTail) {
  WriteVariedHistory();
  const auto checkpointed = store_->Progress().projected_position;
  Reopen();
  // The projector starts from its checkpoint, not from position 0.
  EXPECT_EQ(store_->Progress().projected_position, checkpointed);
  EXPECT_TRUE(store_->Progress().ready);
}

}  // namespace
}  // namespace jobtrail::testing
