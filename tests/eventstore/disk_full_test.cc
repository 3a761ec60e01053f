// The log on a disk that fills up or fails (FaultyDiskFs): appends are
// refused with kUnavailable while it cannot write, reads go on, nothing
// acknowledged is lost, and appends come back by themselves once the disk
// is usable again (no reopen), with the hash chain whole.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>
#include <vector>

#include "eventstore/log_verifier.h"
#include "eventstore/rocks_event_log.h"
#include "tests/eventstore/faulty_disk_fs.h"
#include "tests/eventstore/test_util.h"

namespace jobtrail::eventstore {
namespace {

using testing_fs::FaultyDiskFs;
using testing_util::Events;
using testing_util::OpenLog;
using testing_util::TempDir;

constexpr auto kRecoveryBound = std::chrono::seconds(60);

void ExpectSound(EventLog& log) {
  auto report = VerifyLog(log, nullptr, nullptr);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report.value().ok()) << report.value().problems.front();
  EXPECT_EQ(report.value().events, log.LastPosition());
}

bool WaitWritable(RocksEventLog& log) {
  return log.WaitWritable(std::chrono::steady_clock::now() + kRecoveryBound);
}

class DiskFullTest : public ::testing::TestWithParam<Durability> {};

TEST_P(DiskFullTest, FullDiskRefusesAppendsThenRecoversByItself) {
  TempDir dir;
  auto [fs, env] = FaultyDiskFs::Make();
  auto log = OpenLog(dir.path(), GetParam(), env.get());
  ASSERT_NE(log, nullptr);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(log->Append("job-" + std::to_string(i), kNoStream, Events("a" + std::to_string(i), 2)));
  }
  const uint64_t acked = log->LastPosition();

  fs->Fail(rocksdb::IOStatus::NoSpace("injected: disk full"));
  auto refused = log->Append("job-x", kNoStream, Events("x", 3));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, StoreCode::kUnavailable) << refused.error().message;
  EXPECT_FALSE(log->writable());
  const LogVitals vitals = log->Vitals();
  EXPECT_FALSE(vitals.storage.writable);
  EXPECT_EQ(vitals.storage.reason, "no_space");
  EXPECT_EQ(vitals.storage.failures, 1u);
  // Refused at once while it cannot write, also retries of the same ids.
  for (int i = 0; i < 3; ++i) {
    auto again = log->Append("job-x", kNoStream, Events("x", 3));
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, StoreCode::kUnavailable);
  }
  // Reads go on, and show exactly what was acknowledged.
  EXPECT_EQ(log->LastPosition(), acked);
  auto all = log->ReadAll(1, 1000);
  ASSERT_TRUE(all);
  EXPECT_EQ(all.value().size(), acked);
  auto stream = log->ReadStream("job-3", 1, 10);
  ASSERT_TRUE(stream);
  EXPECT_EQ(stream.value().size(), 2u);

  fs->Heal();
  ASSERT_TRUE(WaitWritable(*log));
  EXPECT_EQ(log->Vitals().storage.recoveries, 1u);
  // The refused append did not land (its WAL write failed): its retry
  // appends it now, right after what was acknowledged.
  EXPECT_EQ(log->LastPosition(), acked);
  auto retried = log->Append("job-x", kNoStream, Events("x", 3));
  ASSERT_TRUE(retried) << retried.error().message;
  EXPECT_FALSE(retried.value().duplicate);
  EXPECT_EQ(retried.value().first_position, acked + 1);
  auto after = log->Append("job-y", kNoStream, Events("y", 1));
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_EQ(after.value().last_position, log->LastPosition());
  ExpectSound(*log);

  // Everything acknowledged survives a reopen.
  const uint64_t last = log->LastPosition();
  log.reset();
  log = OpenLog(dir.path(), GetParam(), env.get());
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->LastPosition(), last);
  ExpectSound(*log);
}

TEST_P(DiskFullTest, IoErrorsWhileSyncingAndWritingRecoverToo) {
  TempDir dir;
  auto [fs, env] = FaultyDiskFs::Make();
  auto log = OpenLog(dir.path(), GetParam(), env.get());
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append("job-1", kNoStream, Events("before", 2)));
  fs->Fail(rocksdb::IOStatus::IOError("injected: EIO"), /*syncs=*/true);
  auto refused = log->Append("job-2", kNoStream, Events("during", 1));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, StoreCode::kUnavailable);
  EXPECT_EQ(log->Vitals().storage.reason, "io_error");
  fs->Heal();
  ASSERT_TRUE(WaitWritable(*log));
  ASSERT_TRUE(log->Append("job-2", kNoStream, Events("during", 1)));
  ASSERT_TRUE(log->Append("job-3", kNoStream, Events("after", 1)));
  ExpectSound(*log);
}

// Many appenders while the disk fills: every append is answered (none
// hangs, the process stays up), and every acknowledged one is in the log
// after the recovery and after a reopen.
TEST_P(DiskFullTest, ConcurrentAppendersAcrossAFullDiskLoseNothingAcknowledged) {
  TempDir dir;
  auto [fs, env] = FaultyDiskFs::Make();
  auto log = OpenLog(dir.path(), GetParam(), env.get());
  ASSERT_NE(log, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 120;
  std::atomic<int> answered{0};
  std::atomic<int> refusals{0};
  // Every appender stops a quarter of the way in until the disk is full:
  // without it, appenders on a busy machine (unsynced appends take
  // microseconds) could all finish before the test filled the disk, and no
  // append would meet the full disk at all.
  std::atomic<int> at_quarter{0};
  std::atomic<bool> disk_full{false};
  std::vector<std::map<std::string, uint64_t>> acked(kThreads);  // stream -> last version
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // An appender that fails an assertion early still counts as arrived,
      // so that the test fails instead of waiting for it.
      bool arrived = false;
      struct Arrival {
        bool& arrived;
        std::atomic<int>& count;
        ~Arrival() {
          if (!arrived) count.fetch_add(1);
        }
      } arrival{arrived, at_quarter};
      for (int i = 0; i < kPerThread; ++i) {
        if (i == kPerThread / 4) {
          arrived = true;
          at_quarter.fetch_add(1);
          while (!disk_full.load()) std::this_thread::yield();
        }
        const std::string stream = "t" + std::to_string(t) + "-" + std::to_string(i);
        for (;;) {
          auto r = log->Append(stream, kAnyVersion, Events(stream, 1 + i % 3));
          answered.fetch_add(1);
          if (r) {
            acked[t][stream] = r.value().last_version;
            break;
          }
          ASSERT_EQ(r.error().code, StoreCode::kUnavailable) << r.error().message;
          refusals.fetch_add(1);
          ASSERT_TRUE(WaitWritable(*log));  // then retry with the same ids
        }
      }
    });
  }
  // Fill the disk once every appender has some appends in (and waits),
  // heal once some were refused.
  while (at_quarter.load() < kThreads) std::this_thread::yield();
  fs->Fail(rocksdb::IOStatus::NoSpace("injected: disk full"));
  disk_full.store(true);
  while (refusals.load() == 0 && answered.load() < kThreads * kPerThread) {
    std::this_thread::yield();
  }
  fs->Heal();
  for (auto& t : threads) t.join();
  EXPECT_GT(refusals.load(), 0);
  ExpectSound(*log);
  log.reset();
  log = OpenLog(dir.path(), GetParam(), env.get());
  ASSERT_NE(log, nullptr);
  ExpectSound(*log);
  for (const auto& per_thread : acked) {
    for (const auto& [stream, version] : per_thread) {
      auto v = log->StreamVersion(stream);
      ASSERT_TRUE(v);
      EXPECT_EQ(v.value(), version) << stream;  // exactly once: ids deduplicate retries
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Durability, DiskFullTest,
                         ::testing::Values(Durability::kSync, Durability::kNoSync),
                         [](const auto& info) {
                           return info.param == Durability::kSync ? "Sync" : "NoSync";
                         });

}  // namespace
}  // namespace jobtrail::eventstore
