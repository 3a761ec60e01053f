// FormatTime is total and ParseTime refuses what FormatTime cannot write:
// times are RFC 3339 from year 0000 to 9999 (projections/job_json.h).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "projections/job_json.h"

namespace jobtrail {
namespace {

constexpr Millis kMin = std::numeric_limits<Millis>::min();
constexpr Millis kMax = std::numeric_limits<Millis>::max();

TEST(TimeBoundsTest, FormatTimeWritesEveryInt64AsRfc3339) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTime(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTime(1705314645123), "2024-01-15T10:30:45.123Z");
  EXPECT_EQ(FormatTime(951782400000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatTime(kEarliestTime), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTime(kLatestTime), "9999-12-31T23:59:59.999Z");
  // Beyond what RFC 3339 can write: the nearest time it can.
  EXPECT_EQ(FormatTime(kMin), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTime(kMin + 1), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTime(kEarliestTime - 1), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTime(kMax), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTime(kLatestTime + 1), "9999-12-31T23:59:59.999Z");
}

TEST(TimeBoundsTest, ParseTimeRefusesTimesOutsideTheYears0000To9999) {
  EXPECT_EQ(ParseTime("9223372036854775807"), std::nullopt);
  EXPECT_EQ(ParseTime("-9223372036854775808"), std::nullopt);
  EXPECT_EQ(ParseTime("253402300800000"), std::nullopt);
  EXPECT_EQ(ParseTime("-62167219200001"), std::nullopt);
  EXPECT_EQ(ParseTime("9999-12-31T23:59:59.999-01:00"), std::nullopt);
  EXPECT_EQ(ParseTime("0000-01-01T00:00:00+01:00"), std::nullopt);

  EXPECT_EQ(ParseTime("253402300799999"), kLatestTime);
  EXPECT_EQ(ParseTime("-62167219200000"), kEarliestTime);
  EXPECT_EQ(ParseTime("9999-12-31T23:59:59.999Z"), kLatestTime);
  EXPECT_EQ(ParseTime("0000-01-01T00:00:00Z"), kEarliestTime);
  EXPECT_EQ(ParseTime(FormatTime(1705314645123)), 1705314645123);
}

}  // namespace
}  // namespace jobtrail
