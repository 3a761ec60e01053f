// Power loss, simulated: a filesystem that drops whatever was not synced.
// kSync loses nothing acknowledged; kNoSync loses only an unsynced tail and
// never leaves a hole or a broken chain.
#include <gtest/gtest.h>

#include "eventstore/log_verifier.h"
#include "eventstore/rocks_event_log.h"
#include "tests/eventstore/test_fs.h"
#include "tests/eventstore/test_util.h"

namespace jobtrail::eventstore {
namespace {

using testing_util::Events;
using testing_util::OpenLog;
using testing_util::TempDir;
using testing_util::TestFs;

// Appends `count` appends of 1-3 events to a few streams; returns the last
// acknowledged position.
uint64_t AppendSome(EventLog& log, const std::string& tag, int count) {
  uint64_t last = 0;
  for (int i = 0; i < count; ++i) {
    auto r = log.Append("job-" + std::to_string(i % 5), kAnyVersion,
                        Events(tag + std::to_string(i), 1 + i % 3));
    EXPECT_TRUE(r);
    if (r) last = r.value().last_position;
  }
  return last;
}

// Closes `log` as a power cut would and returns the log as reopened.
std::unique_ptr<RocksEventLog> PowerCut(std::unique_ptr<RocksEventLog> log, TestFs& fs,
                                        const std::string& dir) {
  fs.Crash();
  log.reset();  // its closing sync and writes are dropped
  fs.DropUnsyncedData();
  EXPECT_EQ(fs.truncate_failures(), 0);
  return OpenLog(dir);
}

void ExpectSound(EventLog& log) {
  auto report = VerifyLog(log, nullptr, nullptr);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report.value().ok()) << report.value().problems.front();
  EXPECT_EQ(report.value().events, log.LastPosition());
}

TEST(FaultTest, SyncedLogLosesNothingAcknowledged) {
  TempDir dir;
  auto [fs, env] = TestFs::Make();
  auto log = OpenLog(dir.path(), Durability::kSync, env.get());
  ASSERT_NE(log, nullptr);
  const uint64_t acked = AppendSome(*log, "e", 40);
  log = PowerCut(std::move(log), *fs, dir.path());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->LastPosition(), acked);
  ExpectSound(*log);
}

TEST(FaultTest, UnsyncedLogLosesOnlyTheUnsyncedTail) {
  TempDir dir;
  auto [fs, env] = TestFs::Make();
  uint64_t synced = 0;
  {
    auto log = OpenLog(dir.path(), Durability::kNoSync, env.get());
    ASSERT_NE(log, nullptr);
    synced = AppendSome(*log, "first", 20);
  }  // a clean close syncs
  auto log = OpenLog(dir.path(), Durability::kNoSync, env.get());
  ASSERT_NE(log, nullptr);
  const uint64_t acked = AppendSome(*log, "second", 20);
  ASSERT_GT(acked, synced);
  log = PowerCut(std::move(log), *fs, dir.path());
  ASSERT_NE(log, nullptr);
  EXPECT_GE(log->LastPosition(), synced);
  EXPECT_LT(log->LastPosition(), acked);  // the unsynced tail is gone...
  ExpectSound(*log);                      // ...and what is left is whole
  // The log goes on from where it was cut.
  auto r = log->Append("job-new", kNoStream, Events("after", 2));
  ASSERT_TRUE(r);
  EXPECT_EQ(r.value().first_position, log->LastPosition() - 1);
  ExpectSound(*log);
}

// A failed sync is reported as an error, never acknowledged, and stops the
// log (as RocksDB stops on a failed WAL write): later appends fail too until
// it is reopened. Nothing acknowledged is lost and the log stays whole.
// A failed WAL sync refuses the append (never acknowledged, not readable)
// and every append after it until the log has recovered by itself: then
// the unconfirmed append is durable, and its retry settles it.
TEST(FaultTest, FailedSyncIsRefusedUntilTheLogRecovers) {
  TempDir dir;
  auto [fs, env] = TestFs::Make();
  auto log = OpenLog(dir.path(), Durability::kSync, env.get());
  ASSERT_NE(log, nullptr);
  const uint64_t acked = AppendSome(*log, "before", 10);

  fs->FailWalSyncs(true);
  auto failed = log->Append("job-x", kNoStream, Events("x", 2));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, StoreCode::kUnavailable);
  EXPECT_EQ(log->LastPosition(), acked);  // not visible to readers either
  fs->FailWalSyncs(false);
  ASSERT_TRUE(log->WaitWritable(std::chrono::steady_clock::now() + std::chrono::seconds(60)));
  auto retry = log->Append("job-x", kNoStream, Events("x", 2));
  ASSERT_TRUE(retry) << retry.error().message;
  EXPECT_EQ(retry.value().first_position, acked + 1);
  auto after = log->Append("job-y", kNoStream, Events("y", 1));
  ASSERT_TRUE(after) << after.error().message;
  ExpectSound(*log);
  log.reset();

  log = OpenLog(dir.path());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->LastPosition(), acked + 3);
  ExpectSound(*log);
}

}  // namespace
}  // namespace jobtrail::eventstore
