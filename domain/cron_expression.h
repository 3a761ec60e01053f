#pragma once
// A parsed 5-field cron expression bound to an IANA time zone, answering
// "when does it fire next?". Pure code apart from the time zone database,
// which is read from /usr/share/zoneinfo (Debian's tzdata) the first time a
// zone other than "UTC" is parsed.
//
// Syntax (Vixie cron):
//   minute hour day-of-month month day-of-week
//   minute 0-59, hour 0-23, day-of-month 1-31, month 1-12 or JAN-DEC,
//   day-of-week 0-7 or SUN-SAT (0 and 7 are both Sunday). Names are
//   case-insensitive and may be used in ranges (MON-FRI), not in steps.
//   Each field is a comma-separated list of items; an item is `*`, `N`,
//   `N-M`, or any of these followed by `/step` (`*/5`, `10-50/10`, and `5/15`
//   meaning `5-<max>/15`). Fields are separated by spaces or tabs.
//   Macros: @hourly (0 * * * *), @daily and @midnight (0 0 * * *),
//   @weekly (0 0 * * 0), @monthly (0 0 1 * *), @yearly and @annually
//   (0 0 1 1 *), case-insensitive. @reboot is not supported.
//   Day rule: when both day-of-month and day-of-week are restricted, a day
//   matching EITHER fires; when one of them starts with `*` (including
//   `*/2`), only the other one counts. This is Vixie cron's rule.
//
// Times: NextAfter returns instants in ms since the Unix epoch at whole
// minutes of the expression's local time. Local times map to instants by the
// zone's rules, with these rules at daylight-saving changes (cronie's):
//   * "Fixed-time" expressions are those whose minute and hour fields both
//     start with something other than `*` (`30 2 * * *`, `0 9-17 * * 1-5`,
//     @daily). "Wildcard" expressions have `*` first in the minute or the hour
//     field (`*/5 * * * *`, `0 * * * *`, @hourly).
//   * Spring forward (a local time that does not exist, e.g. 02:30 on
//     2025-03-09 in America/New_York): a fixed-time expression fires ONCE at
//     the first instant after the gap (03:00 EDT there), however many of its
//     times fell into the gap. A wildcard expression just follows the wall
//     clock: its times inside the gap do not happen (real time lost none).
//   * Fall back (a local time that occurs twice, e.g. 01:30 on 2025-11-02 in
//     America/New_York): a fixed-time expression fires once, at the FIRST
//     occurrence (01:30 EDT). A wildcard expression follows the wall clock and
//     fires in both occurrences, so `0 * * * *` keeps firing every real hour
//     and `*/5 * * * *` every 5 real minutes.
//   These rules apply to every offset change; cronie instead treats jumps of
//   more than 3 hours (Samoa skipping 2011-12-30) as clock corrections.
//   Known limit of the date library in OS-tzdb mode: it reads the explicit
//   transitions of the zoneinfo files (Debian ships them up to 2037) and not
//   the rule that extends them, so after 2037 every zone stays in the offset
//   of its last transition (standard time for New York and Berlin).
//
// Thread safety: immutable after Parse; all const methods may be called from
// any number of threads. Copies are cheap (the zone is a pointer into the
// process-wide, never-freed tz database).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/error.h"
#include "domain/job_event.h"

namespace date {
class time_zone;
}  // namespace date

namespace jobtrail {

class CronExpression {
 public:
  // Parses `expr` (see above) in `time_zone`, an IANA name such as
  // "Europe/Berlin" or "UTC". Errors, all kInvalidArgument / INVALID_INPUT,
  // with a message naming the field and the problem: wrong field count, empty
  // list item, value out of range, bad or zero step, reversed range, unknown
  // name or macro, unknown or empty time zone.
  static Result<CronExpression> Parse(std::string_view expr,
                                      std::string_view time_zone = "UTC");

  // The first firing instant strictly after `t` (ms since the epoch), always a
  // whole minute of local time. std::nullopt when the expression never fires
  // (`0 0 30 2 *`), when it does not fire within 400 years of `t` (the
  // Gregorian calendar repeats every 400 years), or when `t` or the answer
  // lies outside years 1..9999. Never throws; bounded work.
  std::optional<Millis> NextAfter(Millis t) const;

  // The expression as parsed, fields separated by single spaces, macros in
  // lower case (e.g. "*/5 * * * *", "@daily"). Parse(ToString(), time_zone())
  // gives an equal expression. The time zone is not part of it.
  std::string ToString() const;
  const std::string& time_zone() const { return time_zone_name_; }

  // True for fixed-time expressions (see the DST rules above).
  bool is_fixed_time() const { return fixed_time_; }

  // Same schedule: same matching sets, day rule and time zone (the text may
  // differ: "0 0 * * 7" == "0 0 * * SUN").
  friend bool operator==(const CronExpression& a, const CronExpression& b);

 private:
  CronExpression() = default;

  struct Civil;  // a local calendar minute, defined in the .cc

  bool DayMatches(int year, int month, int day) const;
  int NextDay(int year, int month, int day) const;
  std::optional<Civil> NextLocal(Civil from, int last_year) const;

  // Bit i set: value i matches.
  uint64_t minutes_ = 0;            // 0..59
  uint32_t hours_ = 0;              // 0..23
  uint32_t days_ = 0;               // 1..31
  uint16_t months_ = 0;             // 1..12
  uint8_t weekdays_ = 0;            // 0..6, Sunday = 0
  bool day_of_month_star_ = false;  // the field starts with `*`
  bool day_of_week_star_ = false;
  bool fixed_time_ = false;
  std::string text_;
  std::string time_zone_name_;
  const date::time_zone* zone_ = nullptr;  // nullptr: UTC
};

}  // namespace jobtrail
