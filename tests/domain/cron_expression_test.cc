// CronExpression: syntax, the field-by-field search, calendar edges (month
// ends, leap years, year end) and daylight-saving changes. Expected instants
// are written in UTC ("2025-03-09T07:00Z"), with the local time in comments.
#include "domain/cron_expression.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace jobtrail {
namespace {

Millis Utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0) {
  const std::chrono::sys_days days{std::chrono::year{y} / mo / d};
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             days.time_since_epoch())
             .count() +
         (Millis{h} * 60 + mi) * 60000;
}

std::string Iso(std::optional<Millis> t) {
  if (!t) return "never";
  using std::chrono::floor;
  const std::chrono::sys_time<std::chrono::milliseconds> tp{
      std::chrono::milliseconds{*t}};
  const auto day = floor<std::chrono::days>(tp);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{tp - day};
  std::string out = fmt::format(
      "{:04}-{:02}-{:02}T{:02}:{:02}", static_cast<int>(ymd.year()),
      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
      hms.hours().count(), hms.minutes().count());
  if (hms.seconds().count() != 0 || hms.subseconds().count() != 0) {
    out += fmt::format(":{:02}.{:03}", hms.seconds().count(),
                       hms.subseconds().count());
  }
  return out + "Z";
}

CronExpression Cron(std::string_view expr, std::string_view tz = "UTC") {
  Result<CronExpression> cron = CronExpression::Parse(expr, tz);
  if (!cron) {
    ADD_FAILURE() << expr << " in " << tz << ": " << cron.error().ToString();
    return CronExpression::Parse("* * * * *").value();
  }
  return cron.value();
}

// The first `n` firings after `t`.
std::vector<std::string> Fires(const CronExpression& cron, Millis t, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    const std::optional<Millis> next = cron.NextAfter(t);
    out.push_back(Iso(next));
    if (!next) break;
    t = *next;
  }
  return out;
}

using V = std::vector<std::string>;

// --- The five schedules of seed 001 -----------------------------------------

TEST(CronExpressionTest, SeedSchedules) {
  const Millis t = Utc(2026, 1, 20, 15, 30);
  // ExpireServers: every hour.
  EXPECT_EQ(Fires(Cron("0 * * * *"), t, 3),
            (V{"2026-01-20T16:00Z", "2026-01-20T17:00Z", "2026-01-20T18:00Z"}));
  // DeleteServers: daily at 03:00.
  EXPECT_EQ(Fires(Cron("0 3 * * *"), t, 2),
            (V{"2026-01-21T03:00Z", "2026-01-22T03:00Z"}));
  // SendEmails: every 5 minutes.
  EXPECT_EQ(Fires(Cron("*/5 * * * *"), t, 3),
            (V{"2026-01-20T15:35Z", "2026-01-20T15:40Z", "2026-01-20T15:45Z"}));
  // GenerateExpiryEmails and GenerateDeletionEmails: daily at 08:00, 09:00.
  EXPECT_EQ(Iso(Cron("0 8 * * *").NextAfter(t)), "2026-01-21T08:00Z");
  EXPECT_EQ(Iso(Cron("0 9 * * *").NextAfter(t)), "2026-01-21T09:00Z");
  EXPECT_EQ(Iso(Cron("0 9 * * *").NextAfter(Utc(2026, 1, 20, 8, 59))),
            "2026-01-20T09:00Z");
}

TEST(CronExpressionTest, NextIsStrictlyAfterAndOnWholeMinutes) {
  const CronExpression every_minute = Cron("* * * * *");
  const Millis t = Utc(2025, 5, 5, 10, 0);
  EXPECT_EQ(Iso(every_minute.NextAfter(t)), "2025-05-05T10:01Z");
  EXPECT_EQ(Iso(every_minute.NextAfter(t - 1)), "2025-05-05T10:00Z");
  EXPECT_EQ(Iso(every_minute.NextAfter(t + 59999)), "2025-05-05T10:01Z");
  EXPECT_EQ(Iso(Cron("0 3 * * *").NextAfter(Utc(2025, 5, 5, 3, 0))),
            "2025-05-06T03:00Z");
  // Before the epoch too.
  EXPECT_EQ(Iso(Cron("0 0 * * *").NextAfter(-1)), "1970-01-01T00:00Z");
}

// --- Syntax ------------------------------------------------------------------

TEST(CronExpressionTest, RangesStepsAndLists) {
  const Millis t = Utc(2025, 5, 5, 10, 0);
  EXPECT_EQ(Fires(Cron("10-50/10 * * * *"), t, 6),
            (V{"2025-05-05T10:10Z", "2025-05-05T10:20Z", "2025-05-05T10:30Z",
               "2025-05-05T10:40Z", "2025-05-05T10:50Z", "2025-05-05T11:10Z"}));
  EXPECT_EQ(Fires(Cron("1,15,30 * * * *"), t, 4),
            (V{"2025-05-05T10:01Z", "2025-05-05T10:15Z", "2025-05-05T10:30Z",
               "2025-05-05T11:01Z"}));
  EXPECT_EQ(Fires(Cron("5/15 * * * *"), t, 5),
            (V{"2025-05-05T10:05Z", "2025-05-05T10:20Z", "2025-05-05T10:35Z",
               "2025-05-05T10:50Z", "2025-05-05T11:05Z"}));
  EXPECT_EQ(Fires(Cron("0 9-17/4 * * *"), t, 3),
            (V{"2025-05-05T13:00Z", "2025-05-05T17:00Z", "2025-05-06T09:00Z"}));
  EXPECT_EQ(Fires(Cron("0 0 1-3,20 * *"), t, 4),
            (V{"2025-05-20T00:00Z", "2025-06-01T00:00Z", "2025-06-02T00:00Z",
               "2025-06-03T00:00Z"}));
  EXPECT_EQ(Fires(Cron("0 0 1 */4 *"), t, 3),
            (V{"2025-09-01T00:00Z", "2026-01-01T00:00Z", "2026-05-01T00:00Z"}));
}

TEST(CronExpressionTest, NamesAreCaseInsensitive) {
  EXPECT_EQ(Cron("0 9 * JAN,jul mon-FRI"), Cron("0 9 * 1,7 1-5"));
  EXPECT_EQ(Cron("0 9 * Dec Sat"), Cron("0 9 * 12 6"));
  // 2025-05-05 is a Monday: Mon-Fri skips the weekend.
  EXPECT_EQ(Fires(Cron("0 9 * * MON-FRI"), Utc(2025, 5, 9, 10, 0), 2),
            (V{"2025-05-12T09:00Z", "2025-05-13T09:00Z"}));
}

TEST(CronExpressionTest, SevenIsSunday) {
  EXPECT_EQ(Cron("0 0 * * 7"), Cron("0 0 * * 0"));
  EXPECT_EQ(Cron("0 0 * * SUN"), Cron("0 0 * * 0"));
  EXPECT_EQ(Cron("0 0 * * 5-7"), Cron("0 0 * * 0,5,6"));
  // 2025-05-11 is a Sunday.
  EXPECT_EQ(Iso(Cron("0 0 * * 7").NextAfter(Utc(2025, 5, 5))),
            "2025-05-11T00:00Z");
}

TEST(CronExpressionTest, Macros) {
  EXPECT_EQ(Cron("@hourly"), Cron("0 * * * *"));
  EXPECT_EQ(Cron("@daily"), Cron("0 0 * * *"));
  EXPECT_EQ(Cron("@midnight"), Cron("0 0 * * *"));
  EXPECT_EQ(Cron("@weekly"), Cron("0 0 * * 0"));
  EXPECT_EQ(Cron("@monthly"), Cron("0 0 1 * *"));
  EXPECT_EQ(Cron("@yearly"), Cron("0 0 1 1 *"));
  EXPECT_EQ(Cron("@annually"), Cron("0 0 1 1 *"));
  EXPECT_EQ(Cron(" @DAILY ").ToString(), "@daily");
  EXPECT_EQ(Iso(Cron("@weekly").NextAfter(Utc(2025, 5, 5))),
            "2025-05-11T00:00Z");
}

TEST(CronExpressionTest, ToStringNormalizesSpacesAndRoundTrips) {
  const CronExpression cron =
      Cron("  */5\t 9-17  * JAN  mon ", "Europe/Berlin");
  EXPECT_EQ(cron.ToString(), "*/5 9-17 * JAN mon");
  EXPECT_EQ(cron.time_zone(), "Europe/Berlin");
  EXPECT_EQ(Cron(cron.ToString(), cron.time_zone()), cron);
  EXPECT_FALSE(Cron("0 0 * * *", "UTC") == Cron("0 0 * * *", "Europe/Berlin"));
  const CronExpression copy = cron;
  EXPECT_EQ(copy.NextAfter(Utc(2025, 5, 5)), cron.NextAfter(Utc(2025, 5, 5)));
}

TEST(CronExpressionTest, FixedTimeVersusWildcard) {
  EXPECT_TRUE(Cron("30 2 * * *").is_fixed_time());
  EXPECT_TRUE(Cron("0 9-17 * * 1-5").is_fixed_time());
  EXPECT_TRUE(Cron("@daily").is_fixed_time());
  EXPECT_FALSE(Cron("0 * * * *").is_fixed_time());
  EXPECT_FALSE(Cron("*/5 * * * *").is_fixed_time());
  EXPECT_FALSE(Cron("30 */2 * * *").is_fixed_time());
  EXPECT_FALSE(Cron("@hourly").is_fixed_time());
}

// --- Errors ------------------------------------------------------------------

struct BadCase {
  std::string_view expr;
  std::string_view message_part;
};

TEST(CronExpressionTest, EveryErrorIsInvalidInputNamingTheProblem) {
  const BadCase cases[] = {
      {"", "expression is empty"},
      {"   ", "expression is empty"},
      {"* * * *",
       "expected 5 fields (minute hour day-of-month month "
       "day-of-week), got 4"},
      {"* * * * * *", "got 6"},
      {"60 * * * *", "minute: value 60 is out of range 0-59"},
      {"* 24 * * *", "hour: value 24 is out of range 0-23"},
      {"* * 0 * *", "day-of-month: value 0 is out of range 1-31"},
      {"* * 32 * *", "day-of-month: value 32 is out of range 1-31"},
      {"* * * 0 *", "month: value 0 is out of range 1-12"},
      {"* * * 13 *", "month: value 13 is out of range 1-12"},
      {"* * * * 8", "day-of-week: value 8 is out of range 0-7"},
      {"99999999999 * * * *", "minute: value 99999999999 is out of range"},
      {"1-60 * * * *", "minute: value 60 is out of range"},
      {"*/0 * * * *",
       "minute: bad step \"0\" in \"*/0\" (expected a number "
       "1-59)"},
      {"*/60 * * * *", "minute: bad step \"60\""},
      {"* */24 * * *", "hour: bad step \"24\""},
      {"*/ * * * *", "minute: bad step \"\""},
      {"*/x * * * *", "minute: bad step \"x\""},
      {"*/-1 * * * *", "minute: bad step \"-1\""},
      {"*/1/2 * * * *", "minute: bad step \"1/2\""},
      {"/5 * * * *", "minute: missing range before '/' in \"/5\""},
      {"1,,2 * * * *", "minute: empty list item in \"1,,2\""},
      {",1 * * * *", "minute: empty list item"},
      {"* * * * 1,", "day-of-week: empty list item"},
      {"5-1 * * * *", "minute: range \"5-1\" is reversed"},
      {"* * * * FRI-MON", "day-of-week: range \"FRI-MON\" is reversed"},
      {"1- * * * *", "minute: missing value"},
      {"-1 * * * *", "minute: missing value"},
      {"* * * FOO *",
       "month: unknown name \"FOO\" (expected a number 1-12 or "
       "JAN-DEC)"},
      {"* * * MON *", "month: unknown name \"MON\""},
      {"* * * * JAN",
       "day-of-week: unknown name \"JAN\" (expected a number "
       "0-7 or SUN-SAT)"},
      {"* * * * MONDAY", "day-of-week: unknown name \"MONDAY\""},
      {"MON * * * *", "minute: invalid value \"MON\" (expected a number 0-59)"},
      {"* * 1.5 * *", "day-of-month: invalid value \"1.5\""},
      {"* * * */FEB *", "month: bad step \"FEB\""},
      {"@reboot", "@reboot is not supported"},
      {"@every", "unknown macro \"@every\""},
      {"@daily 5", "macro @daily takes no fields, got 1 more"},
  };
  for (const BadCase& c : cases) {
    const Result<CronExpression> cron = CronExpression::Parse(c.expr);
    ASSERT_FALSE(cron) << "accepted: \"" << c.expr << "\"";
    EXPECT_EQ(cron.error().code, Code::kInvalidArgument) << c.expr;
    EXPECT_EQ(cron.error().reason, "INVALID_INPUT") << c.expr;
    EXPECT_NE(cron.error().message.find(c.message_part), std::string::npos)
        << "\"" << c.expr << "\" gave: " << cron.error().message;
    EXPECT_NE(cron.error().message.find("cron expression"), std::string::npos);
  }
}

TEST(CronExpressionTest, UnknownOrEmptyTimeZoneIsInvalidInput) {
  for (std::string_view tz : {"Mars/Olympus_Mons", "europe/berlin",
                              "../../etc/passwd", "Europe/Berlin "}) {
    const Result<CronExpression> cron = CronExpression::Parse("0 3 * * *", tz);
    ASSERT_FALSE(cron) << tz;
    EXPECT_EQ(cron.error().reason, "INVALID_INPUT");
    EXPECT_NE(cron.error().message.find("unknown time zone"), std::string::npos)
        << cron.error().message;
  }
  const Result<CronExpression> empty = CronExpression::Parse("0 3 * * *", "");
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("time zone is empty"),
            std::string::npos);
  EXPECT_TRUE(CronExpression::Parse("0 3 * * *", "Etc/UTC"));
  EXPECT_TRUE(CronExpression::Parse("0 3 * * *", "America/New_York"));
}

// --- Calendar
// ------------------------------------------------------------------

TEST(CronExpressionTest, ThirtyFirstSkipsShortMonths) {
  EXPECT_EQ(Fires(Cron("0 0 31 * *"), Utc(2025, 1, 31), 6),
            (V{"2025-03-31T00:00Z", "2025-05-31T00:00Z", "2025-07-31T00:00Z",
               "2025-08-31T00:00Z", "2025-10-31T00:00Z", "2025-12-31T00:00Z"}));
  EXPECT_EQ(Fires(Cron("0 12 30 * *"), Utc(2025, 1, 31), 2),
            (V{"2025-03-30T12:00Z", "2025-04-30T12:00Z"}));
}

TEST(CronExpressionTest, LeapDay) {
  EXPECT_EQ(Iso(Cron("0 0 29 2 *").NextAfter(Utc(2025, 1, 1))),
            "2028-02-29T00:00Z");
  // 2100 is not a leap year.
  EXPECT_EQ(Iso(Cron("0 0 29 2 *").NextAfter(Utc(2096, 3, 1))),
            "2104-02-29T00:00Z");
  EXPECT_EQ(
      Iso(Cron("0 0 29 2 *", "America/New_York").NextAfter(Utc(2025, 1, 1))),
      "2028-02-29T05:00Z");
  // Day-of-week starts with `*`, so both must match: Feb 29 on a Sunday.
  EXPECT_EQ(Iso(Cron("0 0 29 2 */7").NextAfter(Utc(2025, 1, 1))),
            "2032-02-29T00:00Z");
}

TEST(CronExpressionTest, ImpossibleExpressionsNeverFire) {
  for (std::string_view tz : {"UTC", "Europe/Berlin", "America/New_York"}) {
    EXPECT_EQ(Cron("0 0 30 2 *", tz).NextAfter(Utc(2025, 1, 1)), std::nullopt);
    EXPECT_EQ(Cron("0 0 31 4,6,9,11 *", tz).NextAfter(Utc(2025, 1, 1)),
              std::nullopt);
  }
}

TEST(CronExpressionTest, OutsideSupportedYearsIsNever) {
  EXPECT_EQ(Cron("* * * * *").NextAfter(Utc(9999, 12, 31, 12)), std::nullopt);
  EXPECT_EQ(Cron("0 0 1 1 *").NextAfter(Utc(9999, 6, 1)), std::nullopt);
  EXPECT_EQ(Cron("* * * * *").NextAfter(INT64_MAX), std::nullopt);
  EXPECT_EQ(Cron("* * * * *").NextAfter(INT64_MIN), std::nullopt);
}

TEST(CronExpressionTest, DayOfMonthOrDayOfWeek) {
  // Both restricted: the 13th OR any Friday.
  EXPECT_EQ(Fires(Cron("0 0 13 * 5"), Utc(2025, 6, 1), 9),
            (V{"2025-06-06T00:00Z", "2025-06-13T00:00Z", "2025-06-20T00:00Z",
               "2025-06-27T00:00Z", "2025-07-04T00:00Z", "2025-07-11T00:00Z",
               "2025-07-13T00:00Z", "2025-07-18T00:00Z", "2025-07-25T00:00Z"}));
  // Day-of-month starts with `*`: odd days AND Mondays.
  EXPECT_EQ(Fires(Cron("0 0 */2 * 1"), Utc(2025, 6, 1), 4),
            (V{"2025-06-09T00:00Z", "2025-06-23T00:00Z", "2025-07-07T00:00Z",
               "2025-07-21T00:00Z"}));
  // One of them `*`: only the other counts.
  EXPECT_EQ(Fires(Cron("0 0 13 * *"), Utc(2025, 6, 1), 2),
            (V{"2025-06-13T00:00Z", "2025-07-13T00:00Z"}));
  EXPECT_EQ(Fires(Cron("0 0 * * 5"), Utc(2025, 6, 1), 2),
            (V{"2025-06-06T00:00Z", "2025-06-13T00:00Z"}));
}

TEST(CronExpressionTest, AcrossYearEnd) {
  EXPECT_EQ(Iso(Cron("0 0 1 1 *").NextAfter(Utc(2025, 12, 31, 23, 59))),
            "2026-01-01T00:00Z");
  EXPECT_EQ(Iso(Cron("59 23 31 12 *").NextAfter(Utc(2025, 12, 31, 23, 59))),
            "2026-12-31T23:59Z");
  EXPECT_EQ(Fires(Cron("*/5 * * * *"), Utc(2025, 12, 31, 23, 52), 3),
            (V{"2025-12-31T23:55Z", "2026-01-01T00:00Z", "2026-01-01T00:05Z"}));
  // Midnight on New Year in New York is 05:00 UTC.
  EXPECT_EQ(
      Iso(Cron("@yearly", "America/New_York").NextAfter(Utc(2025, 12, 31, 12))),
      "2026-01-01T05:00Z");
  // The weekday carries over the year boundary: 2026-01-02 is a Friday.
  EXPECT_EQ(Iso(Cron("0 9 * * FRI").NextAfter(Utc(2025, 12, 27))),
            "2026-01-02T09:00Z");
}

// --- Daylight saving
// ---------------------------------------------------------- America/New_York:
// 2025-03-09 02:00 EST -> 03:00 EDT (07:00Z);
//                   2025-11-02 02:00 EDT -> 01:00 EST (06:00Z).
// Europe/Berlin:    2025-03-30 02:00 CET -> 03:00 CEST (01:00Z);
//                   2025-10-26 03:00 CEST -> 02:00 CET (01:00Z).

TEST(CronExpressionDstTest, NewYorkSpringForwardDaily0230FiresOnceAfterGap) {
  const CronExpression cron = Cron("30 2 * * *", "America/New_York");
  EXPECT_EQ(Fires(cron, Utc(2025, 3, 7, 12), 3),
            (V{"2025-03-08T07:30Z",     // 02:30 EST
               "2025-03-09T07:00Z",     // 02:30 does not exist: 03:00 EDT
               "2025-03-10T06:30Z"}));  // 02:30 EDT
}

TEST(CronExpressionDstTest, NewYorkSpringForwardHourlySkipsMissingHour) {
  EXPECT_EQ(
      Fires(Cron("0 * * * *", "America/New_York"), Utc(2025, 3, 9, 5, 30), 3),
      (V{"2025-03-09T06:00Z",     // 01:00 EST
         "2025-03-09T07:00Z",     // 03:00 EDT, an hour later
         "2025-03-09T08:00Z"}));  // 04:00 EDT
}

TEST(CronExpressionDstTest, SpringForwardCollapsesGapTimesToOneFiring) {
  const CronExpression cron = Cron("0,30 2 * * *", "America/New_York");
  EXPECT_EQ(Fires(cron, Utc(2025, 3, 9, 6, 59), 2),
            (V{"2025-03-09T07:00Z", "2025-03-10T06:00Z"}));
  // A time in the gap and 03:00 itself land on the same instant: once.
  EXPECT_EQ(Fires(Cron("0 2,3 * * *", "America/New_York"), Utc(2025, 3, 9), 3),
            (V{"2025-03-09T07:00Z", "2025-03-10T06:00Z", "2025-03-10T07:00Z"}));
}

TEST(CronExpressionDstTest, NewYorkFallBackFixedTimeFiresFirstOccurrenceOnly) {
  const CronExpression cron = Cron("30 1 * * *", "America/New_York");
  EXPECT_EQ(Fires(cron, Utc(2025, 11, 1, 12), 2),
            (V{"2025-11-02T05:30Z",     // 01:30 EDT, the first 01:30
               "2025-11-03T06:30Z"}));  // 01:30 EST next day
  // Asked during the repeated hour, after the first 01:30: not again.
  EXPECT_EQ(Iso(cron.NextAfter(Utc(2025, 11, 2, 5, 45))), "2025-11-03T06:30Z");
  EXPECT_EQ(Iso(cron.NextAfter(Utc(2025, 11, 2, 6, 15))), "2025-11-03T06:30Z");
  EXPECT_EQ(Fires(Cron("0,30 1 * * *", "America/New_York"),
                  Utc(2025, 11, 2, 4, 59), 3),
            (V{"2025-11-02T05:00Z", "2025-11-02T05:30Z", "2025-11-03T06:00Z"}));
  // 02:30 is not repeated in New York: once, in EST.
  EXPECT_EQ(
      Fires(Cron("30 2 * * *", "America/New_York"), Utc(2025, 11, 1, 12), 2),
      (V{"2025-11-02T07:30Z", "2025-11-03T07:30Z"}));
}

TEST(CronExpressionDstTest, NewYorkFallBackWildcardFollowsTheWallClock) {
  EXPECT_EQ(
      Fires(Cron("0 * * * *", "America/New_York"), Utc(2025, 11, 2, 3, 30), 4),
      (V{"2025-11-02T04:00Z",     // 00:00 EDT
         "2025-11-02T05:00Z",     // 01:00 EDT
         "2025-11-02T06:00Z",     // 01:00 EST
         "2025-11-02T07:00Z"}));  // 02:00 EST
  EXPECT_EQ(Fires(Cron("*/5 * * * *", "America/New_York"),
                  Utc(2025, 11, 2, 5, 50), 3),
            (V{"2025-11-02T05:55Z",     // 01:55 EDT
               "2025-11-02T06:00Z",     // 01:00 EST
               "2025-11-02T06:05Z"}));  // 01:05 EST
}

TEST(CronExpressionDstTest, BerlinSpringForward) {
  EXPECT_EQ(Fires(Cron("30 2 * * *", "Europe/Berlin"), Utc(2025, 3, 28, 12), 3),
            (V{"2025-03-29T01:30Z",     // 02:30 CET
               "2025-03-30T01:00Z",     // 02:30 does not exist: 03:00 CEST
               "2025-03-31T00:30Z"}));  // 02:30 CEST
  EXPECT_EQ(
      Fires(Cron("0 * * * *", "Europe/Berlin"), Utc(2025, 3, 29, 23, 30), 3),
      (V{"2025-03-30T00:00Z",     // 01:00 CET
         "2025-03-30T01:00Z",     // 03:00 CEST
         "2025-03-30T02:00Z"}));  // 04:00 CEST
}

TEST(CronExpressionDstTest, BerlinFallBack) {
  const CronExpression daily = Cron("30 2 * * *", "Europe/Berlin");
  EXPECT_EQ(Fires(daily, Utc(2025, 10, 25, 12), 2),
            (V{"2025-10-26T00:30Z",     // 02:30 CEST, the first 02:30
               "2025-10-27T01:30Z"}));  // 02:30 CET next day
  EXPECT_EQ(Iso(daily.NextAfter(Utc(2025, 10, 26, 0, 45))),
            "2025-10-27T01:30Z");
  EXPECT_EQ(
      Fires(Cron("0 * * * *", "Europe/Berlin"), Utc(2025, 10, 25, 22, 30), 4),
      (V{"2025-10-25T23:00Z",     // 01:00 CEST
         "2025-10-26T00:00Z",     // 02:00 CEST
         "2025-10-26T01:00Z",     // 02:00 CET
         "2025-10-26T02:00Z"}));  // 03:00 CET
}

TEST(CronExpressionDstTest, DailyRunsAtLocalTimeAllYear) {
  const CronExpression cron = Cron("0 3 * * *", "Europe/Berlin");
  EXPECT_EQ(Iso(cron.NextAfter(Utc(2025, 1, 15))), "2025-01-15T02:00Z");
  EXPECT_EQ(Iso(cron.NextAfter(Utc(2025, 7, 15))), "2025-07-15T01:00Z");
}

TEST(CronExpressionDstTest, ConcurrentUseOfOneZone) {
  const CronExpression cron = Cron("30 2 * * *", "Australia/Sydney");
  const std::optional<Millis> expected = cron.NextAfter(Utc(2025, 4, 5));
  std::vector<std::thread> threads;
  std::vector<std::optional<Millis>> got(4);
  for (size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] {
      const CronExpression mine =
          CronExpression::Parse("30 2 * * *", "Australia/Sydney").value();
      got[i] = mine.NextAfter(Utc(2025, 4, 5));
    });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, expected);
}

}  // namespace
}  // namespace jobtrail
