// The read models' memtable insert hints (projections/view_hints.h): which
// rows share an insert position, and that no key, however short or odd,
// is read past its end.
#include <gtest/gtest.h>

#include <string>

#include "projections/view_hints.h"
#include "projections/view_keys.h"

namespace jobtrail {
namespace {

namespace vk = view_keys;
using std::string_literals::operator""s;

std::string PrefixOf(const rocksdb::SliceTransform& t, const std::string& key) {
  if (!t.InDomain(key)) return "<none>";
  return t.Transform(key).ToString();
}

TEST(ViewHintsTest, OrderedRowsShareTheirIndexOrQueuePrefix) {
  auto t = vk::NewInsertHintPrefix();
  const std::string a = vk::IndexKey(vk::kDimStatus, "running", 'u', 1000, 7, "job-a");
  const std::string b = vk::IndexKey(vk::kDimStatus, "running", 'u', 2000, 9, "job-b");
  EXPECT_EQ(PrefixOf(*t, a), "xstatus\0running\0u"s);
  EXPECT_EQ(PrefixOf(*t, a), PrefixOf(*t, b));
  // Another sort, value or dim is another prefix.
  EXPECT_NE(PrefixOf(*t, a), PrefixOf(*t, vk::IndexKey(vk::kDimStatus, "running", 'c', 1000, 7, "job-a")));
  EXPECT_NE(PrefixOf(*t, a), PrefixOf(*t, vk::IndexKey(vk::kDimStatus, "pending", 'u', 1000, 7, "job-a")));
  EXPECT_EQ(PrefixOf(*t, vk::IndexKey(vk::kDimAll, "", 'c', 5, 1, "job-a")), "xall\0\0c"s);

  EXPECT_EQ(PrefixOf(*t, vk::ClaimKey("emails", 0, 1000, "job-a")), "qemails\0"s);
  EXPECT_EQ(PrefixOf(*t, vk::ClaimKey("emails", 5, 3000, "job-b")), "qemails\0"s);
}

// Rows keyed per job share one hint per family: a batch writes them in key
// order, and a hint per job would cost a memtable ~250 bytes each.
TEST(ViewHintsTest, RowsKeyedPerJobShareTheirFamilysHint) {
  auto t = vk::NewInsertHintPrefix();
  EXPECT_EQ(PrefixOf(*t, vk::JobKey("0f3c2a8e-1111-4222-8333-944455556666")), "j");
  EXPECT_EQ(PrefixOf(*t, vk::CountKey(vk::kDimStatus, "running")), "n");
  EXPECT_EQ(PrefixOf(*t, vk::LogKey("job-a", 3)), "l");
  EXPECT_EQ(PrefixOf(*t, vk::UniqueKey("owner", "key")), "k");
  EXPECT_EQ(PrefixOf(*t, vk::IndexKey(vk::kDimExternalRef, "order-1", 'c', 1, 1, "job-a")),
            "xext\0"s);
  EXPECT_EQ(PrefixOf(*t, vk::IndexKey(vk::kDimExternalRef, "order-2", 'c', 1, 1, "job-b")),
            "xext\0"s);
}

TEST(ViewHintsTest, SingleKeysTakeNoHint) {
  auto t = vk::NewInsertHintPrefix();
  EXPECT_EQ(PrefixOf(*t, std::string(vk::kCheckpointKey)), "<none>");
  EXPECT_EQ(PrefixOf(*t, std::string(vk::kStatsKey)), "<none>");
  EXPECT_EQ(PrefixOf(*t, std::string(vk::kFormatKey)), "<none>");
  EXPECT_EQ(PrefixOf(*t, std::string(vk::kTypeStatsPrefix) + "pdf"), "<none>");
  EXPECT_EQ(PrefixOf(*t, ""), "<none>");
  EXPECT_EQ(PrefixOf(*t, "j"), "<none>");
}

// RocksDB 7.8 shares a prefix's hint between point keys and range
// deletions, which corrupts the memtable: the per-minute history, whose old
// minutes go by DeleteRange, must stay out, start keys and rows alike.
TEST(ViewHintsTest, TheRangeDeletedHistoryTakesNoHint) {
  auto t = vk::NewInsertHintPrefix();
  for (const std::string& key : {"mpdf\0"s, "memail\0"s + vk::EncodeU64(vk::SortableTime(60000)),
                                 "M"s, "Mpdf"s}) {
    EXPECT_FALSE(t->InDomain(key)) << key;
  }
}

TEST(ViewHintsTest, TruncatedKeysAreOutsideTheDomain) {
  auto t = vk::NewInsertHintPrefix();
  for (const std::string& key : {"x"s, "xstatus"s, "xstatus\0running"s, "xstatus\0running\0"s,
                                 "q"s, "qemails"s, "r"s, "j"s, "p"s}) {
    EXPECT_FALSE(t->InDomain(key)) << key;
  }
  EXPECT_EQ(PrefixOf(*t, "xstatus\0running\0u"s), "xstatus\0running\0u"s);
  EXPECT_EQ(PrefixOf(*t, "qemails\0"s), "qemails\0"s);
}

}  // namespace
}  // namespace jobtrail
