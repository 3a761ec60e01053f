// Job and event ids: random v4 UUIDs (OpenSSL's generator, drawn a block a
// thread at a time), name-based ids that map
// a repeat of the same (space, name) to the same id, and the format check.
#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "projections/uuid.h"

namespace jobtrail {
namespace {

TEST(UuidTest, RandomUuidsAreVersion4AndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = RandomUuid();
    ASSERT_TRUE(IsUuid(id)) << id;
    EXPECT_EQ(id[14], '4') << id;
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

// Each thread draws from its own block of random bytes: threads drawing at
// once, past several refills each, never hand out the same id.
TEST(UuidTest, ThreadsDrawingAtOnceGetDistinctIds) {
  constexpr int kThreads = 8, kEach = 2000;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ids, t] {
      for (int i = 0; i < kEach; ++i) ids[t].push_back(RandomUuid());
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> seen;
  for (const auto& list : ids) seen.insert(list.begin(), list.end());
  EXPECT_EQ(seen.size(), size_t{kThreads} * kEach);
}

TEST(UuidTest, NameUuidsAreStableAcrossReleases) {
  // Stored job ids were derived this way: the value must never change.
  EXPECT_EQ(NameUuid("jobtrail-idempotency:alice", "order-1001"),
            NameUuid("jobtrail-idempotency:alice", "order-1001"));
  EXPECT_NE(NameUuid("jobtrail-idempotency:alice", "order-1001"),
            NameUuid("jobtrail-idempotency:bob", "order-1001"));
  // SHA-256("space\nname"), version 5 and RFC variant bits set.
  EXPECT_EQ(NameUuid("space", "name"), "76353f24-0f4a-5d09-8b10-47a6935e7098");
}

TEST(UuidTest, FormatCheck) {
  EXPECT_TRUE(IsUuid("d7af71f1-516f-5ed7-9255-ef4eb2265e39"));
  EXPECT_TRUE(IsUuid("D7AF71F1-516F-5ED7-9255-EF4EB2265E39"));
  EXPECT_FALSE(IsUuid("d7af71f1-516f-5ed7-9255-ef4eb2265e3"));
  EXPECT_FALSE(IsUuid("d7af71f1x516f-5ed7-9255-ef4eb2265e39"));
  EXPECT_FALSE(IsUuid("g7af71f1-516f-5ed7-9255-ef4eb2265e39"));
  EXPECT_FALSE(IsUuid(std::string_view("d7af71f1-516f-5ed7-9255-ef4eb2265e3\0", 36)));
  EXPECT_FALSE(IsUuid(""));
}

}  // namespace
}  // namespace jobtrail
