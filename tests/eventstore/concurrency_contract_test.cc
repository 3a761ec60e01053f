// The EventLog contract under many appenders at once, on every backend
// (log_backend.h): positions and versions stay contiguous, exactly one of
// several same-version appends wins, AppendMany and Append interleave
// without loss, and the hash chain stays sound.
#include <gtest/gtest.h>

#include <barrier>
#include <map>
#include <mutex>
#include <thread>

#include "tests/eventstore/log_backend.h"
#include "tests/eventstore/test_util.h"

namespace jobtrail::eventstore {
namespace {

using testing_util::ConcurrencyTest;
using testing_util::Events;
using testing_util::ExpectSound;

TEST_P(ConcurrencyTest, DistinctStreamsGetContiguousPositionsAndVersions) {
  EventLog* log = log_.get();
  constexpr int kThreads = 16;
  constexpr int kAppends = 60;
  std::mutex mu;
  std::map<uint64_t, std::string> id_at_position;  // from the append results
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string stream = "job-" + std::to_string(t);
      uint64_t version = 0;
      for (int i = 0; i < kAppends; ++i) {
        const int count = 1 + (i + t) % 3;
        const std::string prefix = stream + "-" + std::to_string(i);
        auto r = log->Append(stream, version, Events(prefix, count));
        ASSERT_TRUE(r) << r.error().message;
        ASSERT_EQ(r.value().first_version, version + 1);
        ASSERT_EQ(r.value().last_position - r.value().first_position + 1, uint64_t(count));
        version = r.value().last_version;
        std::lock_guard lock(mu);
        for (int k = 0; k < count; ++k) {
          id_at_position[r.value().first_position + k] = prefix + "-" + std::to_string(k);
        }
      }
    });
  }
  for (auto& t : threads) t.join();

  auto all = log->ReadAll(1, 1 << 20);
  ASSERT_TRUE(all);
  ASSERT_EQ(all.value().size(), id_at_position.size());
  EXPECT_EQ(log->LastPosition(), id_at_position.size());
  for (size_t i = 0; i < all.value().size(); ++i) {
    const StoredEvent& e = all.value()[i];
    ASSERT_EQ(e.position, i + 1);
    ASSERT_EQ(e.event_id, id_at_position[e.position]);
  }
  // A batch's events are adjacent in the global order.
  for (int t = 0; t < kThreads; ++t) {
    auto stream = log->ReadStream("job-" + std::to_string(t), 1, 1000);
    ASSERT_TRUE(stream);
    for (size_t v = 0; v < stream.value().size(); ++v) {
      ASSERT_EQ(stream.value()[v].version, v + 1);
    }
  }
  ExpectSound(*log, id_at_position.size());
}

TEST_P(ConcurrencyTest, ExactlyOneOfTheSameExpectedVersionWins) {
  EventLog* log = log_.get();
  constexpr int kThreads = 8;
  constexpr int kRounds = 40;
  std::barrier sync_point(kThreads);
  std::mutex mu;
  std::map<int, int> wins;    // round -> appends accepted
  std::map<int, int> losses;  // round -> kWrongExpectedVersion
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        sync_point.arrive_and_wait();  // everyone sees the stream at `round`
        auto r = log->Append("contended", uint64_t(round),
                             Events("r" + std::to_string(round) + "-t" + std::to_string(t), 1));
        {
          std::lock_guard lock(mu);
          if (r) {
            ++wins[round];
          } else if (r.error().code == StoreCode::kWrongExpectedVersion &&
                     r.error().current_version == uint64_t(round + 1)) {
            ++losses[round];
          }
        }
        sync_point.arrive_and_wait();  // the round is over for everyone
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int round = 0; round < kRounds; ++round) {
    EXPECT_EQ(wins[round], 1) << "round " << round;
    EXPECT_EQ(losses[round], kThreads - 1) << "round " << round;
  }
  EXPECT_EQ(log->StreamVersion("contended").value(), uint64_t(kRounds));
  ExpectSound(*log, kRounds);
}

TEST_P(ConcurrencyTest, AnyVersionAppendsToOneStreamInterleaveWithoutGaps) {
  EventLog* log = log_.get();
  constexpr int kThreads = 8;
  constexpr int kAppends = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends; ++i) {
        auto r = log->Append("shared", kAnyVersion,
                             Events("t" + std::to_string(t) + "-" + std::to_string(i), 2));
        ASSERT_TRUE(r) << r.error().message;
        ASSERT_EQ(r.value().last_version, r.value().first_version + 1);
      }
    });
  }
  for (auto& t : threads) t.join();
  auto stream = log->ReadStream("shared", 1, 10000);
  ASSERT_TRUE(stream);
  ASSERT_EQ(stream.value().size(), size_t(kThreads * kAppends * 2));
  for (size_t v = 0; v < stream.value().size(); ++v) {
    ASSERT_EQ(stream.value()[v].version, v + 1);
    ASSERT_EQ(stream.value()[v].position, v + 1);
  }
  ExpectSound(*log, kThreads * kAppends * 2);
}

TEST_P(ConcurrencyTest, AppendManyInterleavesWithAppends) {
  EventLog* log = log_.get();
  constexpr int kThreads = 8;
  constexpr int kRounds = 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRounds; ++i) {
        const std::string tag = std::to_string(t) + "-" + std::to_string(i);
        if (t % 2 == 0) {
          std::vector<StreamAppend> parts;
          for (int k = 0; k < 3; ++k) {
            parts.push_back({"m" + tag + "-" + std::to_string(k), kNoStream,
                             Events("m" + tag + "-" + std::to_string(k), 2)});
          }
          for (auto& r : log->AppendMany(std::move(parts))) ASSERT_TRUE(r);
        } else {
          ASSERT_TRUE(log->Append("s" + tag, kNoStream, Events("s" + tag, 1)));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  const uint64_t expected = (kThreads / 2) * kRounds * 6 + (kThreads / 2) * kRounds;
  EXPECT_EQ(log->LastPosition(), expected);
  ExpectSound(*log, expected);
}

// AppendMany: each part answers as its own Append would (one part's error
// does not stop the others; parts may name the same stream, in order), and
// a retry of the whole call is recognised part by part.
TEST_P(ConcurrencyTest, AppendManyPartsAnswerAsAppendsWould) {
  using testing_util::Ids;
  ASSERT_TRUE(log_->Append("seed", kNoStream, Ids({"s1"})));
  std::vector<StreamAppend> parts = {
      {"a", kNoStream, Ids({"a1", "a2"})},
      {"seed", kNoStream, Ids({"x1"})},  // stale: seed is at 1
      {"a", 2, Ids({"a3"})},             // the same stream again, after the first part
      {"b", kAnyVersion, Ids({"b1"})},
      {"c", kNoStream, Ids({"c1", "c1"})},  // malformed
      {"d", kNoStream, Ids({"a1"})},        // an id of the first part
  };
  auto results = log_->AppendMany(parts);
  ASSERT_EQ(results.size(), parts.size());
  ASSERT_TRUE(results[0] && results[2] && results[3]);
  EXPECT_EQ(results[1].error().code, StoreCode::kWrongExpectedVersion);
  EXPECT_EQ(results[1].error().current_version, 1u);
  EXPECT_EQ(results[4].error().code, StoreCode::kInvalidArgument);
  EXPECT_EQ(results[5].error().code, StoreCode::kInvalidArgument);
  EXPECT_EQ(results[0].value().first_position, 2u);
  EXPECT_EQ(results[2].value().first_version, 3u);
  EXPECT_EQ(results[2].value().first_position, 4u);
  EXPECT_EQ(results[3].value().last_position, 5u);
  EXPECT_EQ(log_->StreamVersion("a").value(), 3u);
  auto again = log_->AppendMany(parts);
  ASSERT_TRUE(again[0] && again[2] && again[3]);
  EXPECT_TRUE(again[0].value().duplicate && again[2].value().duplicate &&
              again[3].value().duplicate);
  EXPECT_EQ(again[2].value().first_position, 4u);
  EXPECT_EQ(log_->LastPosition(), 5u);
  EXPECT_TRUE(log_->AppendMany({}).empty());
  ExpectSound(*log_, 5);
}

}  // namespace
}  // namespace jobtrail::eventstore
