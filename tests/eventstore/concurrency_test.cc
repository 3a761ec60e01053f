// RocksEventLog's group commit: bounded groups, one sync per group, and
// rejected appends inside a group (its filesystem held at a gate). The
// backend-independent concurrency tests are in concurrency_contract_test.cc.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "eventstore/log_verifier.h"
#include "eventstore/rocks_event_log.h"
#include "tests/eventstore/log_backend.h"
#include "tests/eventstore/test_fs.h"
#include "tests/eventstore/test_util.h"

namespace jobtrail::eventstore {
namespace {

using testing_util::Events;
using testing_util::Ids;
using testing_util::OpenLog;
using testing_util::TempDir;
using testing_util::TestFs;
using testing_util::ExpectSound;

// Groups bounded to one append each (by events, then by bytes) commit the
// same way, just in more groups.
TEST(GroupBoundsTest, TinyGroupsStillCommitInOrder) {
  for (int bound = 0; bound < 2; ++bound) {
    TempDir dir;
    RocksEventLogOptions options;
    options.durability = Durability::kNoSync;
    (bound == 0 ? options.max_group_events : options.max_group_bytes) = 1;
    auto opened = RocksEventLog::Open(dir.path(), options);
    ASSERT_TRUE(opened);
    auto& log = *opened.value();
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 25; ++i) {
          const std::string stream = "s" + std::to_string(t);
          ASSERT_TRUE(log.Append(stream, uint64_t(i * 2),
                                 Events(stream + "-" + std::to_string(i), 2)));
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(log.LastPosition(), 400u);
    ExpectSound(log, 400);
  }
}

// The commit hook (the read models apply a group there) is told of every
// commit, on the committing thread, only once the events are readable. In
// kNoSync mode the thread that wrote a group calls it before it wakes the
// group's appenders, so no append returns before the hook heard of it. (In
// kSync mode a group that an earlier sync happened to cover may return
// while that sync's thread is still in the hook: the read models' own
// wait, WaitProjected, covers that case.) Appenders racing.
TEST(CommitHookTest, IsToldOfEveryCommitOnceReadable) {
  for (Durability durability : {Durability::kSync, Durability::kNoSync}) {
    TempDir dir;
    auto log = OpenLog(dir.path(), durability);
    ASSERT_NE(log, nullptr);
    std::atomic<uint64_t> told{0};
    std::atomic<int> unreadable{0};
    log->SetCommitHook([&](uint64_t committed) {
      if (log->LastPosition() < committed) unreadable.fetch_add(1);
      uint64_t seen = told.load();
      while (seen < committed && !told.compare_exchange_weak(seen, committed)) {
      }
    });
    std::atomic<int> early{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        const std::string stream = "s" + std::to_string(t);
        for (int i = 0; i < 40; ++i) {
          auto r = log->Append(stream, uint64_t(i), Events(stream + "-" + std::to_string(i), 1));
          ASSERT_TRUE(r);
          if (told.load() < r.value().last_position) early.fetch_add(1);
        }
      });
    }
    for (auto& t : threads) t.join();
    if (durability == Durability::kNoSync) {
      EXPECT_EQ(early.load(), 0) << "appends returned before the hook heard of their commit";
    }
    EXPECT_EQ(unreadable.load(), 0) << "the hook was told of events readers cannot see";
    EXPECT_EQ(told.load(), 320u);
    ExpectSound(*log, 320);
  }
}

// AppendMany: each part answers as its own Append would, the accepted parts
// land contiguously in one write and one sync, and a part that fails leaves
// the others whole.
TEST(AppendManyTest, PartsAreIndependentAndShareOneSync) {
  TempDir dir;
  auto [fs, env] = TestFs::Make();
  auto log = OpenLog(dir.path(), Durability::kSync, env.get());
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append("seed", kNoStream, Ids({"s1"})));
  const int syncs_before = fs->wal_syncs();
  std::vector<StreamAppend> parts = {
      {"a", kNoStream, Ids({"a1", "a2"})},
      {"seed", kNoStream, Ids({"x1"})},  // stale: seed is at 1
      {"a", 2, Ids({"a3"})},             // the same stream again, after the first part
      {"b", kAnyVersion, Ids({"b1"})},
      {"c", kNoStream, Ids({"c1", "c1"})},  // malformed
  };
  auto results = log->AppendMany(parts);
  ASSERT_EQ(results.size(), parts.size());
  ASSERT_TRUE(results[0] && results[2] && results[3]);
  EXPECT_EQ(results[1].error().code, StoreCode::kWrongExpectedVersion);
  EXPECT_EQ(results[4].error().code, StoreCode::kInvalidArgument);
  EXPECT_EQ(results[0].value().first_position, 2u);
  EXPECT_EQ(results[2].value().first_version, 3u);
  EXPECT_EQ(results[2].value().first_position, 4u);
  EXPECT_EQ(results[3].value().last_position, 5u);
  EXPECT_EQ(fs->wal_syncs() - syncs_before, 1);
  EXPECT_EQ(log->StreamVersion("a").value(), 3u);
  // A retry of the whole call is recognised part by part.
  auto again = log->AppendMany(parts);
  ASSERT_TRUE(again[0] && again[2] && again[3]);
  EXPECT_TRUE(again[0].value().duplicate && again[2].value().duplicate && again[3].value().duplicate);
  EXPECT_EQ(log->LastPosition(), 5u);
  ExpectSound(*log, 5);
}



// Appends lined up behind a leader that is stuck writing form one group.
// Within it, rejected appends (stale version, reused id) leave the accepted
// ones whole, a retry of an append in the same group is recognised, and the
// whole group shares one WAL sync.
TEST(GroupCommitTest, RejectedAppendsInAGroupDoNotAffectTheOthers) {
  TempDir dir;
  auto [fs, env] = TestFs::Make();
  auto log = OpenLog(dir.path(), Durability::kSync, env.get());
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append("seed", kNoStream, Ids({"s1"})));
  const int syncs_before = fs->wal_syncs();

  fs->CloseGate();
  StoreResult<AppendResult> first = StoreError{};
  std::thread leader([&] { first = log->Append("first", kNoStream, Ids({"f1"})); });
  fs->WaitUntilBlocked();  // the leader is inside its WAL write

  struct Request {
    std::string stream;
    uint64_t expected;
    std::vector<EventToAppend> events;
    StoreResult<AppendResult> result = StoreError{};
  };
  std::vector<Request> requests = {
      {"b", kNoStream, Ids({"b1", "b2"})},    // accepted
      {"seed", kNoStream, Ids({"x1"})},       // stale: seed is at 1
      {"c", kAnyVersion, Ids({"c1"})},        // accepted
      {"d", kNoStream, Ids({"d1", "f1"})},    // reuses the leader's id
      {"b", kAnyVersion, Ids({"b1", "b2"})},  // a retry of the first one
      {"e", kNoStream, Ids({"e1", "e1"})},    // malformed
  };
  std::vector<std::thread> followers;
  for (Request& r : requests) {
    followers.emplace_back([&log, &r] { r.result = log->Append(r.stream, r.expected, r.events); });
  }
  // Synchronise on the queue, not on time: all are lined up behind the leader.
  while (log->PendingAppends() != requests.size() + 1) std::this_thread::yield();
  fs->OpenGate();
  leader.join();
  for (auto& t : followers) t.join();

  ASSERT_TRUE(first);
  ASSERT_TRUE(requests[0].result && requests[2].result && requests[4].result);
  EXPECT_EQ(requests[1].result.error().code, StoreCode::kWrongExpectedVersion);
  EXPECT_EQ(requests[3].result.error().code, StoreCode::kInvalidArgument);
  EXPECT_EQ(requests[5].result.error().code, StoreCode::kInvalidArgument);
  // The two appends of b1,b2: one original, one duplicate, same events.
  const AppendResult& b = requests[0].result.value();
  const AppendResult& b_again = requests[4].result.value();
  EXPECT_NE(b.duplicate, b_again.duplicate);
  EXPECT_EQ(b.first_position, b_again.first_position);
  EXPECT_EQ(b.last_position, b_again.last_position);
  EXPECT_EQ(b.last_position - b.first_position, 1u);

  // seed, f1, b1, b2, c1: contiguous, nothing of the rejected ones.
  EXPECT_EQ(log->LastPosition(), 5u);
  auto all = log->ReadAll(1, 100);
  ASSERT_TRUE(all);
  std::vector<std::string> ids;
  for (const auto& e : all.value()) ids.push_back(e.event_id);
  std::sort(ids.begin() + 2, ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"s1", "f1", "b1", "b2", "c1"}));
  EXPECT_TRUE(log->ReadStream("d", 1, 10).value().empty());
  EXPECT_EQ(log->StreamVersion("seed").value(), 1u);
  // Two groups (the leader's, then the six lined up): at most two syncs.
  EXPECT_LE(fs->wal_syncs() - syncs_before, 2);
  EXPECT_GE(fs->wal_syncs() - syncs_before, 1);
  ExpectSound(*log, 5);
}

// A log whose WAL sync is held: "first" is written (position 2, after
// "seed") and its sync waits at the TestFs sync gate until Release().
class HeldSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = OpenLog(dir_.path(), Durability::kSync, env_.get());
    ASSERT_NE(log_, nullptr);
    ASSERT_TRUE(log_->Append("seed", kNoStream, Ids({"s1"})));
    fs_->CloseSyncGate();
    syncing_ = std::thread([this] { EXPECT_TRUE(log_->Append("first", kNoStream, Ids({"f1"}))); });
    fs_->WaitUntilSyncBlocked();
    groups_ = log_->Vitals().group_events.count;
  }
  void Release() {
    fs_->OpenSyncGate();
    syncing_.join();
  }
  void TearDown() override {
    if (syncing_.joinable()) Release();
  }
  uint64_t GroupsWritten() { return log_->Vitals().group_events.count - groups_; }

  TempDir dir_;
  std::pair<std::shared_ptr<TestFs>, std::unique_ptr<rocksdb::Env>> fs_env_ = TestFs::Make();
  std::shared_ptr<TestFs>& fs_ = fs_env_.first;
  std::unique_ptr<rocksdb::Env>& env_ = fs_env_.second;
  std::unique_ptr<RocksEventLog> log_;
  std::thread syncing_;
  uint64_t groups_ = 0;
};

// While a sync runs, a small group waits for it to end: appends lining up
// meanwhile are written as one group after it, not a group each.
TEST_F(HeldSyncTest, SmallGroupsWaitForTheRunningSyncAndGoAsOne) {
  std::vector<std::thread> followers;
  for (int i = 0; i < 5; ++i) {
    followers.emplace_back([this, i] {
      const std::string n = std::to_string(i);
      EXPECT_TRUE(log_->Append("f" + n, kNoStream, {{"e" + n, "data"}}));
    });
  }
  // Until all five wait, or (wrongly) a group is written during the sync.
  while (log_->PendingAppends() != 5 && GroupsWritten() == 0) std::this_thread::yield();
  EXPECT_EQ(GroupsWritten(), 0u);  // none written during the sync
  EXPECT_EQ(log_->PendingAppends(), 5u);
  Release();
  for (auto& t : followers) t.join();
  EXPECT_EQ(GroupsWritten(), 1u);  // the five as one group
  EXPECT_EQ(log_->LastPosition(), 7u);
  ExpectSound(*log_, 7);
}

// A group of kSmallGroupEvents or more does not wait: it is written while
// the sync runs (so appenders who keep the disk busy keep it busy), and
// committed by the next sync.
TEST_F(HeldSyncTest, ABigGroupIsWrittenWhileASyncRuns) {
  std::vector<EventToAppend> big;
  for (size_t i = 0; i < RocksEventLog::kSmallGroupEvents; ++i) {
    big.push_back({"b" + std::to_string(i), "data"});
  }
  std::thread writer([&] { EXPECT_TRUE(log_->Append("big", kNoStream, big)); });
  // Written with the sync still held (it then waits for the next sync).
  while (GroupsWritten() != 1) std::this_thread::yield();
  EXPECT_EQ(log_->LastPosition(), 1u);  // not committed: "first"'s sync is still held
  Release();
  writer.join();
  EXPECT_EQ(log_->LastPosition(), 2 + RocksEventLog::kSmallGroupEvents);
  ExpectSound(*log_, 2 + RocksEventLog::kSmallGroupEvents);
}

}  // namespace
}  // namespace jobtrail::eventstore
