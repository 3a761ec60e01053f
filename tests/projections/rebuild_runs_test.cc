// The fast rebuild (projections/rebuild.h) in its corners: rows split over
// many runs (later runs overwrite and delete what earlier ones wrote), jobs
// handed on before they are final and refolded when more events come, jobs
// folded in partitions side by side (their events interleaved in the log,
// a unique key passed from a job in one partition to a job in another),
// and a rebuild cut short, which the next open must redo.
#include <rocksdb/db.h>

#include <map>

#include "eventstore/rocks_event_log.h"
#include "projections/rebuild.h"
#include "projections/view_keys.h"
#include "tests/projections/store_fixture.h"

namespace jobtrail::testing {
namespace {

using Rows = std::map<std::string, std::string>;

Rows Dump(rocksdb::DB* db) {
  Rows out;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) out[it->key().ToString()] = it->value().ToString();
  EXPECT_TRUE(it->status().ok());
  return out;
}

std::unique_ptr<rocksdb::DB> OpenDb(const std::string& path) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, path, &raw);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return std::unique_ptr<rocksdb::DB>(raw);
}

class RebuildRunsTest : public StoreTest {
 protected:
  // Every kind of row: log lines, leases (running at the end), claim rows
  // (pending, retrying), unique keys, external refs, errors, every final
  // state, and expiries long after a job ended.
  void WriteHistory() {
    std::vector<std::string> ids;
    for (int i = 0; i < 40; ++i) {
      clock_.Advance(1009);
      EnqueueRequest r;
      r.spec.type = i % 3 ? "pdf" : "email";
      r.spec.owner = i % 2 ? "alice" : "bob";
      if (i % 5 == 0) r.spec.external_ref = "ref-" + std::to_string(i);
      if (i % 6 == 0) r.spec.unique_key = "u-" + std::to_string(i);
      r.actor = "api";
      auto out = store_->Enqueue(std::move(r));
      ASSERT_TRUE(out) << out.error().ToString();
      ids.push_back(out.value().job_id);
    }
    for (int i = 0; i < 40; ++i) {
      const std::string& id = ids[size_t(i)];
      if (i % 8 == 0) continue;  // stays pending
      std::optional<Millis> lease;
      if (i % 4 != 1) lease = clock_.Now() + 60000;
      MustAppend(id, Started{0, "w", lease});
      MustAppend(id, Logged{LogLevel::kInfo, "page 1", "", {}});
      MustAppend(id, Logged{LogLevel::kWarn, "page 2", R"({"ms":9})", {{"user", "u1"}}});
      if (i % 4 == 1) {
        MustAppend(id, Screenshot("boom", i));
        MustAppend(id, Retried{0, clock_.Now() + 1000, 1000});
        if (i % 8 == 1) continue;  // stays retrying
        MustAppend(id, Started{});
      }
      if (i % 8 == 2) continue;  // stays running, with a lease
      clock_.Advance(i * 17);
      if (i % 7 == 0) {
        MustAppend(id, Cancelled{"operator", "ops"});
      } else if (i % 4 == 2) {
        MustAppend(id, Failed{"gave up", "Fatal", ""});
      } else {
        MustAppend(id, Completed{R"({"ok":true})", {}});
      }
    }
    clock_.Advance(3'600'000);
    MaintenanceOptions cleanup;
    cleanup.cleanup_older_than_ms = 60'000;
    auto report = store_->RunMaintenance(cleanup);
    ASSERT_TRUE(report) << report.error().ToString();
    ASSERT_GT(report.value().cleaned, 0u);
    // Jobs after the cleanup, so that the log does not end with expiries.
    Enqueue("email", "carol", "ref-late");
  }
  // Jobs that take one unique key in turn, each after the last let it go
  // (completed, failed, cancelled, retried by hand), their events
  // interleaved with those of jobs that hold their own keys.
  void PassUniqueKeys() {
    for (int i = 0; i < 12; ++i) {
      clock_.Advance(7);
      EnqueueRequest r;
      r.spec.type = "sync";
      r.spec.owner = "dora";
      r.spec.unique_key = i < 6 ? "nightly" : "hourly";
      r.actor = "api";
      auto out = store_->Enqueue(std::move(r));
      ASSERT_TRUE(out) << out.error().ToString();
      const std::string id = out.value().job_id;
      const std::string other = Enqueue("pdf", "erin");
      MustAppend(id, Started{});
      MustAppend(other, Started{});
      MustAppend(other, Logged{LogLevel::kInfo, "between", "", {}});
      if (i == 5 || i == 11) {
        // The last of each key: "nightly"'s still holds it (running),
        // "hourly"'s lets it go at the very end of the log.
        if (i == 11) MustAppend(id, Failed{"gave up", "Fatal", ""});
        break;
      }
      if (i % 3 == 0) {
        MustAppend(id, Cancelled{"operator", "ops"});
      } else if (i % 3 == 1) {
        MustAppend(id, Failed{"gave up", "Fatal", ""});
      } else {
        MustAppend(id, Completed{R"({"ok":true})", {}});
      }
      MustAppend(other, Completed{R"({"ok":true})", {}});
    }
  }
  // Rebuilds into a scratch database with these options and compares it
  // with `live`.
  void ExpectRebuildGives(const Rows& live, size_t partitions, size_t max_active,
                          size_t run_bytes) {
    eventstore::RocksEventLogOptions log_options;
    log_options.create_if_missing = false;
    auto log = eventstore::RocksEventLog::Open(dir_ + "/log", log_options);
    ASSERT_TRUE(log) << log.error().message;
    const std::string views_dir = dir_ + "/scratch-views";
    auto views = OpenDb(views_dir);
    ASSERT_TRUE(views->Put(rocksdb::WriteOptions(), view_keys::kFormatKey,
                           view_keys::kRebuildingFormat).ok());
    RebuildOptions options;
    options.run_bytes = run_bytes;
    options.max_active_jobs = max_active;
    options.partitions = partitions;
    options.scratch_dir = dir_ + "/scratch-runs";
    uint64_t reported = 0;
    auto rebuilt = RebuildViews(*log.value(), log.value()->LastPosition(), *views, options,
                                [&](uint64_t done, uint64_t) { reported = done; });
    ASSERT_TRUE(rebuilt) << rebuilt.error().ToString();
    EXPECT_EQ(reported, log.value()->LastPosition());
    EXPECT_TRUE(Dump(views.get()) == live) << "partitions " << partitions << ", run_bytes "
                                           << run_bytes << ", max_active_jobs " << max_active;
    EXPECT_FALSE(std::filesystem::exists(options.scratch_dir));
    (void)views->Close();
    views.reset();
    ASSERT_TRUE(rocksdb::DestroyDB(views_dir, rocksdb::Options()).ok());
  }
  Rows LiveViews() {
    store_.reset();  // flushes the views; reopened read-only below
    auto db = OpenDb(dir_ + "/views");
    Rows rows = Dump(db.get());
    (void)db->Close();
    return rows;
  }
};

TEST_F(RebuildRunsTest, ManySmallRunsAndRefoldedJobsGiveTheLiveViews) {
  WriteHistory();
  const Rows live = LiveViews();
  ASSERT_GT(live.size(), 100u);
  for (size_t partitions : {size_t{1}, size_t{2}, size_t{3}}) {
    for (size_t max_active : {size_t{1}, size_t{3}, size_t{1000}}) {
      for (size_t run_bytes : {size_t{1}, size_t{2000}, size_t{1} << 20}) {
        ExpectRebuildGives(live, partitions, max_active, run_bytes);
      }
    }
  }
}

TEST_F(RebuildRunsTest, AUniqueKeyPassedBetweenPartitionsEndsWithItsLastHolder) {
  PassUniqueKeys();
  const Rows live = LiveViews();
  // "nightly" is held by its last job; "hourly" by nobody.
  size_t unique_rows = 0;
  for (const auto& [key, value] : live) unique_rows += key.starts_with("kdora") ? 1 : 0;
  ASSERT_EQ(unique_rows, 1u);
  for (size_t partitions : {size_t{1}, size_t{2}, size_t{3}, size_t{5}}) {
    for (size_t max_active : {size_t{1}, size_t{2}, size_t{1000}}) {
      ExpectRebuildGives(live, partitions, max_active, size_t{1} << 20);
      ExpectRebuildGives(live, partitions, max_active, 1);
    }
  }
}

TEST_F(RebuildRunsTest, ARebuildCutShortIsRedoneAtTheNextOpen) {
  WriteHistory();
  const Rows live = LiveViews();
  {
    // What a crash in the middle of a rebuild leaves: some rows, no
    // checkpoint, and the format key saying so.
    auto db = OpenDb(dir_ + "/views");
    rocksdb::WriteBatch half;
    ASSERT_TRUE(half.Delete(view_keys::kCheckpointKey).ok());
    ASSERT_TRUE(half.Put(view_keys::kFormatKey, view_keys::kRebuildingFormat).ok());
    ASSERT_TRUE(half.Put("jnot-a-job", "left over").ok());
    ASSERT_TRUE(db->Write(rocksdb::WriteOptions(), &half).ok());
    (void)db->Close();
  }
  Reopen();
  EXPECT_TRUE(store_->Progress().ready);
  auto verified = store_->Verify(nullptr);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified.value().ok()) << verified.value().problems.front();
  EXPECT_TRUE(LiveViews() == live);
}

}  // namespace
}  // namespace jobtrail::testing
