// The status cache: replaces on put, empties a shard over budget, clears.
#include <gtest/gtest.h>

#include "projections/status_cache.h"

namespace jobtrail {
namespace {

std::shared_ptr<const StatusDocument> Doc(uint64_t version, size_t json_bytes = 10) {
  auto doc = std::make_shared<StatusDocument>();
  doc->version = version;
  doc->json.assign(json_bytes, 'x');
  return doc;
}

TEST(StatusCacheTest, PutReplacesAndGetReturnsTheLatest) {
  StatusCache cache(1 << 20);
  EXPECT_EQ(cache.Get("a"), nullptr);
  cache.Put("a", Doc(1));
  cache.Put("a", Doc(2));
  ASSERT_NE(cache.Get("a"), nullptr);
  EXPECT_EQ(cache.Get("a")->version, 2u);
  cache.Clear();
  EXPECT_EQ(cache.Get("a"), nullptr);
}

TEST(StatusCacheTest, AShardOverBudgetIsEmptiedNotOverfilled) {
  StatusCache cache(16 * 4096);  // 4 KiB per shard
  for (int i = 0; i < 1000; ++i) cache.Put("job-" + std::to_string(i), Doc(1, 1000));
  int present = 0;
  for (int i = 0; i < 1000; ++i) present += cache.Get("job-" + std::to_string(i)) != nullptr;
  EXPECT_GT(present, 0);
  EXPECT_LE(present, 16 * 4);  // at most ~4 one-KiB documents per shard
}

}  // namespace
}  // namespace jobtrail
