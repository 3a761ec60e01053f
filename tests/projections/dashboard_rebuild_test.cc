// The dashboard's read models (search index, per-minute history) and manual
// retries are pure functions of the log like every other view: a rebuild
// gives the live views byte for byte, whatever the batching, and Verify
// agrees.
#include <rocksdb/db.h>

#include <map>

#include "projections/rocks_job_store.h"
#include "projections/stats_state.h"
#include "tests/projections/store_fixture.h"

namespace jobtrail::testing {
namespace {

class DashboardRebuildTest : public StoreTest {
 protected:
  std::map<std::string, std::string> DumpViews() {
    auto* rocks = dynamic_cast<RocksJobStore*>(store_.get());
    EXPECT_NE(rocks, nullptr);
    std::map<std::string, std::string> out;
    std::unique_ptr<rocksdb::Iterator> it(rocks->views()->NewIterator(rocksdb::ReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) out[it->key().ToString()] = it->value().ToString();
    return out;
  }
  size_t CountPrefix(const std::map<std::string, std::string>& views, char prefix) {
    size_t n = 0;
    for (const auto& [k, v] : views) n += !k.empty() && k[0] == prefix;
    return n;
  }
};

TEST_F(DashboardRebuildTest, RebuildGivesTheLiveSearchAndSeriesRows) {
  for (int day = 0; day < 10; ++day) {
    for (int i = 0; i < 12; ++i) {
      clock_.Advance(61'000);
      EnqueueRequest r;
      r.spec.type = i % 2 ? "form-fill" : "pdf";
      r.spec.owner = i % 3 ? "alice" : "bob";
      r.spec.unique_key = i == 5 ? "nightly" : "";
      r.spec.payload_json = R"({"firstName":"John )" + std::to_string(day * 100 + i) + R"(","n":7})";
      r.actor = "api";
      auto out = store_->Enqueue(std::move(r));
      ASSERT_TRUE(out) << out.error().ToString();
      const std::string id = out.value().job_id;
      if (i % 4 == 0) continue;
      MustAppend(id, Started{});
      MustAppend(id, Logged{LogLevel::kInfo, "page " + std::to_string(i) + " loaded", "", {}});
      if (i % 4 == 1) {
        MustAppend(id, Screenshot("Element not found: #btn" + std::to_string(i), i));
        MustAppend(id, Failed{});
        MustAppend(id, Retried{0, clock_.Now(), 0, /*manual=*/true});
        MustAppend(id, Started{});
        MustAppend(id, Completed{"{}", {}});
      } else if (i % 4 == 2) {
        MustAppend(id, Cancelled{"not needed", "ops"});
        MustAppend(id, Retried{0, clock_.Now(), 0, /*manual=*/true});
      } else {
        MustAppend(id, Failed{"gave up", "Fatal", ""});
      }
    }
    clock_.Advance(kDayMs - 12 * 61'000);
  }
  MaintenanceOptions cleanup;
  cleanup.cleanup_older_than_ms = 5 * kDayMs;  // some jobs leave every view
  ASSERT_TRUE(store_->RunMaintenance(cleanup));

  const auto live = DumpViews();
  EXPECT_GT(CountPrefix(live, 'p'), 100u);  // postings
  EXPECT_GT(CountPrefix(live, 'v'), 10u);   // tokens per job
  EXPECT_GT(CountPrefix(live, 'm'), 50u);   // per-minute rows
  ASSERT_TRUE(store_->Rebuild(nullptr));
  const auto rebuilt = DumpViews();
  EXPECT_EQ(rebuilt.size(), live.size());
  EXPECT_TRUE(rebuilt == live);
  auto verified = store_->Verify(nullptr);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified.value().ok()) << verified.value().problems.front();
}

TEST_F(DashboardRebuildTest, ARetriedJobDoesNotTakeItsUniqueKeyBack) {
  EnqueueRequest r;
  r.spec.type = "nightly";
  r.spec.owner = "alice";
  r.spec.unique_key = "report";
  r.actor = "api";
  auto first = store_->Enqueue(r);
  ASSERT_TRUE(first);
  MustAppend(first.value().job_id, Cancelled{"no", "ops"});
  auto second = store_->Enqueue(r);  // the key is free again: a new job
  ASSERT_TRUE(second);
  ASSERT_NE(second.value().job_id, first.value().job_id);
  MustAppend(first.value().job_id, Retried{0, clock_.Now(), 0, /*manual=*/true});
  MustAppend(first.value().job_id, Started{});
  MustAppend(first.value().job_id, Completed{"{}", {}});
  // The second still holds the key.
  auto again = store_->Enqueue(r);
  ASSERT_TRUE(again);
  EXPECT_EQ(again.value().job_id, second.value().job_id);
  EXPECT_TRUE(again.value().duplicate);
}

}  // namespace
}  // namespace jobtrail::testing
