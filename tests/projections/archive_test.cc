// The store with log compaction and retention: expired jobs leave the log
// for the archive, their audit history still reads whole, Verify stays
// clean (the fold includes the archive), a restart and a Rebuild give the
// same read models; retention by age for failures apart from successes,
// and by count; backups of a store that compacts.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/projections/store_fixture.h"

namespace jobtrail::testing {
namespace {

class ArchiveTest : public StoreTest {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("jobtrail-archive");
    Open();
  }
  void Open() {
    store_.reset();
    JobStoreOptions options;
    options.data_dir = dir_;
    options.clock = &clock_;
    options.retention_by_type = retention_by_type_;
    options.failed_retention_by_type = failed_retention_;
    options.keep_newest_by_type = keep_newest_;
    options.archive_dir = dir_ + "/archive";
    auto opened = JobStore::Open(options);
    ASSERT_TRUE(opened) << opened.error().ToString();
    store_ = std::move(opened).value();
  }
  void ExpectVerifies() {
    auto report = store_->Verify(nullptr);
    ASSERT_TRUE(report) << report.error().ToString();
    std::string problems;
    for (const auto& p : report.value().problems) problems += p + "\n";
    EXPECT_TRUE(report.value().ok()) << problems;
  }
  std::string Finished(const std::string& type, bool failed) {
    const std::string id = Enqueue(type);
    MustAppend(id, Started{1, "w1", std::nullopt});
    MustAppend(id, Logged{LogLevel::kInfo, "working", "", {}});
    clock_.Advance(1000);
    if (failed) {
      MustAppend(id, Failed{"gave up", "", ""});
    } else {
      MustAppend(id, Completed{R"({"ok":true})", {}});
    }
    return id;
  }
  std::map<std::string, Millis> failed_retention_;
  std::map<std::string, uint64_t> keep_newest_;
};

TEST_F(ArchiveTest, ExpiredJobsLeaveTheLogAndTheirStoryStaysWhole) {
  retention_by_type_["email"] = 3'600'000;
  Open();
  const std::string done = Finished("email", false);
  const std::string failed = Finished("email", true);
  const std::string kept = Finished("report", false);
  auto story = store_->AuditHistory(done);
  ASSERT_TRUE(story);
  clock_.Advance(2 * 3'600'000);
  const std::string fresh = Finished("email", false);
  ASSERT_EQ(store_->RunMaintenance({}).value().expired, 2u);
  auto compacted = store_->CompactLog();
  ASSERT_TRUE(compacted) << compacted.error().ToString();
  EXPECT_EQ(compacted.value().jobs_archived, 2u);
  EXPECT_EQ(compacted.value().events_archived, 10u);  // 4 + expired, twice
  EXPECT_EQ(store_->CompactLog().value().jobs_archived, 0u);  // nothing new

  // The audit history reads the archive: the whole story, expiry included.
  auto archived = store_->AuditHistory(done);
  ASSERT_TRUE(archived) << archived.error().ToString();
  ASSERT_EQ(archived.value().size(), story.value().size() + 1);
  for (size_t i = 0; i < story.value().size(); ++i) {
    EXPECT_EQ(archived.value()[i].event_id, story.value()[i].event_id);
    EXPECT_EQ(archived.value()[i].position, story.value()[i].position);
  }
  EXPECT_TRUE(std::holds_alternative<Expired>(archived.value().back().body));
  EXPECT_FALSE(store_->Status(done));
  EXPECT_TRUE(store_->Status(kept));
  EXPECT_TRUE(store_->Status(fresh));
  // The id is never handed out again.
  EnqueueRequest again;
  again.spec.type = "email";
  again.job_id = done;
  auto reused = store_->Enqueue(std::move(again));
  ASSERT_FALSE(reused);
  EXPECT_EQ(reused.error().reason, "JOB_EXISTS");
  ExpectVerifies();

  // Across a restart and a rebuild: the same read models, still verified.
  const uint64_t events_total = store_->Stats().events_total;
  Open();
  ExpectVerifies();
  ASSERT_TRUE(store_->Rebuild(nullptr));
  ExpectVerifies();
  EXPECT_EQ(store_->Stats().events_total, events_total);
  EXPECT_TRUE(store_->Status(fresh));
  // Life goes on after the archived tail.
  const std::string pending = Enqueue("report");
  MustAppend(pending, Logged{LogLevel::kInfo, "after", "", {}});
  const std::string later = Finished("email", false);
  ExpectVerifies();
  EXPECT_TRUE(store_->Status(later));
}

TEST_F(ArchiveTest, FailuresCanBeKeptLongerThanSuccesses) {
  retention_by_type_["email"] = 3'600'000;       // 1 h
  failed_retention_["email"] = 3 * 3'600'000;    // 3 h for failed and cancelled
  Open();
  const std::string ok = Finished("email", false);
  const std::string bad = Finished("email", true);
  clock_.Advance(2 * 3'600'000);
  EXPECT_FALSE(store_->Status(ok));
  EXPECT_TRUE(store_->Status(bad));
  EXPECT_TRUE(store_->History(bad));
  EXPECT_EQ(store_->RunMaintenance({}).value().expired, 1u);
  EXPECT_TRUE(store_->Status(bad));
  clock_.Advance(2 * 3'600'000);
  EXPECT_FALSE(store_->Status(bad));
  EXPECT_EQ(store_->RunMaintenance({}).value().expired, 1u);
  ASSERT_EQ(store_->CompactLog().value().jobs_archived, 2u);
  ExpectVerifies();
}

TEST_F(ArchiveTest, RetentionByCountKeepsTheNewestFinishedOnes) {
  keep_newest_["email"] = 2;
  Open();
  std::vector<std::string> ids;
  const std::string running = Enqueue("email");  // the oldest, still running
  MustAppend(running, Started{1, "w1", std::nullopt});
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(1000);
    ids.push_back(Finished("email", false));
  }
  EXPECT_EQ(store_->RunMaintenance({}).value().expired, 2u);  // 5 jobs, keep 2, 1 running
  EXPECT_TRUE(store_->Status(running));
  EXPECT_FALSE(store_->Status(ids[0]));
  EXPECT_FALSE(store_->Status(ids[1]));
  EXPECT_TRUE(store_->Status(ids[2]));
  EXPECT_TRUE(store_->Status(ids[3]));
  EXPECT_EQ(store_->RunMaintenance({}).value().expired, 0u);
  ASSERT_EQ(store_->CompactLog().value().jobs_archived, 2u);
  ExpectVerifies();
}

TEST_F(ArchiveTest, ABackupCarriesTheArchiveAndServes) {
  retention_by_type_["email"] = 3'600'000;
  Open();
  const std::string gone = Finished("email", false);
  clock_.Advance(2 * 3'600'000);
  const std::string live = Finished("email", false);
  ASSERT_EQ(store_->RunMaintenance({}).value().expired, 1u);
  ASSERT_EQ(store_->CompactLog().value().jobs_archived, 1u);
  auto report = store_->Backup(dir_ + "/../" + std::filesystem::path(dir_).filename().string() +
                               "-copy");
  ASSERT_TRUE(report) << report.error().ToString();
  EXPECT_TRUE(report.value().archive_copied);
  const std::string copy = report.value().path;
  // The original's archive goes away: the copy reads its own.
  store_.reset();
  std::filesystem::remove_all(dir_ + "/archive");
  JobStoreOptions options;
  options.data_dir = copy;
  options.clock = &clock_;
  auto restored = JobStore::Open(options);
  ASSERT_TRUE(restored) << restored.error().ToString();
  EXPECT_TRUE(restored.value()->Status(live));
  auto story = restored.value()->AuditHistory(gone);
  ASSERT_TRUE(story) << story.error().ToString();
  EXPECT_EQ(story.value().size(), 5u);
  auto verified = restored.value()->Verify(nullptr);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified.value().ok()) << verified.value().problems.front();
  restored.value().reset();
  std::filesystem::remove_all(copy);
}

}  // namespace
}  // namespace jobtrail::testing
