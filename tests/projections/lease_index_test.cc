// LeaseIndex: leases by deadline, moved and dropped, and what ran out.
#include "projections/lease_index.h"

#include <gtest/gtest.h>

namespace jobtrail {
namespace {

using Ids = std::vector<std::string>;

TEST(LeaseIndexTest, MovesAndDropsLeasesAndListsTheOverdueEarliestFirst) {
  LeaseIndex leases;
  leases.Set("a", 300);
  leases.Set("b", 100);
  leases.Set("c", 200);
  leases.Set("d", std::nullopt);  // holds none: nothing to drop
  EXPECT_EQ(leases.size(), 3u);
  EXPECT_EQ(leases.Before(250, 100, 100).ids, (Ids{"b", "c"}));
  EXPECT_EQ(leases.Before(200, 100, 100).ids, Ids{"b"});  // strictly before
  leases.Set("b", 400);  // a heartbeat moves it
  leases.Set("c", 200);  // the same deadline again changes nothing
  EXPECT_EQ(leases.Before(1000, 100, 100).ids, (Ids{"c", "a", "b"}));
  leases.Set("a", std::nullopt);  // the job ended
  EXPECT_EQ(leases.size(), 2u);
  EXPECT_EQ(leases.Before(1000, 100, 100).ids, (Ids{"c", "b"}));
  leases.Clear();
  EXPECT_EQ(leases.size(), 0u);
  EXPECT_EQ(leases.Before(1000, 100, 100).count, 0u);
}

TEST(LeaseIndexTest, CountsUpToItsLimitAndListsFewer) {
  LeaseIndex leases;
  for (int i = 0; i < 10; ++i) leases.Set("job-" + std::to_string(i), 100 + i);
  const LeaseIndex::Overdue some = leases.Before(1000, 7, 3);
  EXPECT_EQ(some.count, 7u);
  EXPECT_EQ(some.ids, (Ids{"job-0", "job-1", "job-2"}));
  EXPECT_EQ(leases.Before(105, 100, 100).count, 5u);
}

}  // namespace
}  // namespace jobtrail
