#include "domain/cron_expression.h"

#include <date/date.h>
#include <date/tz.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <exception>
#include <span>
#include <utility>
#include <vector>

namespace jobtrail {
namespace {

// Supported calendar years; the date library's day counts are ints, and
// nobody schedules before year 1 or after 9999.
constexpr int kFirstYear = 1;
constexpr int kLastYear = 9999;
// The Gregorian calendar repeats every 400 years: no match within that many
// years of the start means no match ever.
constexpr int kSearchYears = 401;
// Upper bound on zone periods (between two offset changes) one search may
// cross; real zones have a few hundred in total.
constexpr int kMaxPeriods = 4096;
constexpr int64_t kMinutesPerDay = 24 * 60;
constexpr int64_t kMsPerMinute = 60 * 1000;

constexpr std::array<std::string_view, 12> kMonthNames = {
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN",
    "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kDayNames = {
    "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

struct FieldSpec {
  std::string_view name;
  int min;
  int max;       // largest value accepted (7 for day-of-week)
  int star_max;  // what `*` and `N/step` run up to (6 for day-of-week)
  std::span<const std::string_view> names;  // names[i] is value min + i
};

constexpr FieldSpec kMinuteSpec{"minute", 0, 59, 59, {}};
constexpr FieldSpec kHourSpec{"hour", 0, 23, 23, {}};
constexpr FieldSpec kDayOfMonthSpec{"day-of-month", 1, 31, 31, {}};
constexpr FieldSpec kMonthSpec{"month", 1, 12, 12, kMonthNames};
constexpr FieldSpec kDayOfWeekSpec{"day-of-week", 0, 7, 6, kDayNames};

struct Macro {
  std::string_view name;
  std::string_view fields;
};
constexpr std::array<Macro, 7> kMacros = {{
    {"@hourly", "0 * * * *"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},
    {"@monthly", "0 0 1 * *"},
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
}};

Error FieldError(const FieldSpec& spec, std::string problem) {
  return InvalidArgument(fmt::format("{}: {}", spec.name, problem));
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string_view> SplitFields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

// The value of a string of digits, or `too_big` if it has more than 3 (out of
// range for every field, and no overflow).
int SmallNumber(std::string_view digits, int too_big) {
  if (digits.size() > 3) return too_big;
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

// A number or (where the field has them) a name, within [min, max].
Result<int> ParseValue(std::string_view token, const FieldSpec& spec) {
  if (token.empty()) return FieldError(spec, "missing value");
  if (AllDigits(token)) {
    const int value = SmallNumber(token, spec.max + 1);
    if (value < spec.min || value > spec.max) {
      return FieldError(spec, fmt::format("value {} is out of range {}-{}",
                                          token, spec.min, spec.max));
    }
    return value;
  }
  if (spec.names.empty()) {
    return FieldError(spec, fmt::format("invalid value \"{}\" (expected a "
                                        "number {}-{})",
                                        token, spec.min, spec.max));
  }
  const std::string upper = Upper(token);
  for (size_t i = 0; i < spec.names.size(); ++i) {
    if (upper == spec.names[i]) return spec.min + static_cast<int>(i);
  }
  return FieldError(spec, fmt::format("unknown name \"{}\" (expected a "
                                      "number {}-{} or {}-{})",
                                      token, spec.min, spec.max,
                                      spec.names.front(), spec.names.back()));
}

// One list item: `*`, `N`, `N-M`, optionally followed by `/step`.
Result<uint64_t> ParseItem(std::string_view item, const FieldSpec& spec) {
  std::string_view range = item;
  int step = 1;
  const bool has_step = item.find('/') != std::string_view::npos;
  if (has_step) {
    const size_t slash = item.find('/');
    range = item.substr(0, slash);
    std::string_view step_text = item.substr(slash + 1);
    if (range.empty()) {
      return FieldError(
          spec, fmt::format("missing range before '/' in \"{}\"", item));
    }
    if (!AllDigits(step_text)) {
      return FieldError(spec, fmt::format("bad step \"{}\" in \"{}\" (expected "
                                          "a number 1-{})",
                                          step_text, item, spec.max));
    }
    step = SmallNumber(step_text, spec.max + 1);
    if (step < 1 || step > spec.max) {
      return FieldError(spec, fmt::format("bad step \"{}\" in \"{}\" (expected "
                                          "a number 1-{})",
                                          step_text, item, spec.max));
    }
  }
  int lo = spec.min;
  int hi = spec.star_max;
  if (range != "*") {
    const size_t dash = range.find('-');
    if (dash == std::string_view::npos) {
      BOOST_OUTCOME_TRY(value, ParseValue(range, spec));
      lo = value;
      hi = has_step ? std::max(value, spec.star_max) : value;
    } else {
      BOOST_OUTCOME_TRY(first, ParseValue(range.substr(0, dash), spec));
      BOOST_OUTCOME_TRY(last, ParseValue(range.substr(dash + 1), spec));
      if (first > last) {
        return FieldError(spec, fmt::format("range \"{}\" is reversed (start "
                                            "after end)",
                                            range));
      }
      lo = first;
      hi = last;
    }
  }
  uint64_t bits = 0;
  for (int v = lo; v <= hi; v += step) bits |= uint64_t{1} << v;
  return bits;
}

// A comma-separated list of items; bit v set when value v matches.
Result<uint64_t> ParseField(std::string_view field, const FieldSpec& spec) {
  uint64_t bits = 0;
  size_t start = 0;
  while (true) {
    const size_t comma = field.find(',', start);
    const std::string_view item = field.substr(
        start, comma == std::string_view::npos ? comma : comma - start);
    if (item.empty()) {
      return FieldError(spec, fmt::format("empty list item in \"{}\"", field));
    }
    BOOST_OUTCOME_TRY(item_bits, ParseItem(item, spec));
    bits |= item_bits;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return bits;
}

Result<const date::time_zone*> ResolveZone(std::string_view name) {
  if (name.empty()) return InvalidArgument("time zone is empty");
  if (name == "UTC") return static_cast<const date::time_zone*>(nullptr);
  try {
    return date::locate_zone(name);
  } catch (const std::exception& e) {
    // The tz database throws for unknown names and when it cannot be read.
    return InvalidArgument(
        fmt::format("unknown time zone \"{}\" ({})", name, e.what()));
  } catch (...) {
    return InvalidArgument(fmt::format("unknown time zone \"{}\"", name));
  }
}

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}
int64_t CeilDiv(int64_t a, int64_t b) { return -FloorDiv(-a, b); }

int DaysInMonth(int year, int month) {
  return static_cast<int>(static_cast<unsigned>(
      (date::year{year} / date::month{static_cast<unsigned>(month)} /
       date::last)
          .day()));
}

// A stretch of time with one UTC offset (seconds since the epoch).
struct Period {
  int64_t begin_s;
  int64_t end_s;
  int64_t offset_s;
};

// Far enough for years 1..9999, small enough that *1000 does not overflow.
constexpr int64_t kFarSeconds = int64_t{1} << 50;

Period PeriodAt(const date::time_zone* zone, int64_t s) {
  if (zone == nullptr) return {-kFarSeconds, kFarSeconds, 0};
  const date::sys_info info =
      zone->get_info(date::sys_seconds{std::chrono::seconds{s}});
  return {info.begin.time_since_epoch().count(),
          info.end.time_since_epoch().count(), info.offset.count()};
}

}  // namespace

struct CronExpression::Civil {
  int year, month, day, hour, minute;

  // Minutes since 1970-01-01 00:00 of the same calendar (local or UTC).
  int64_t ToMinutes() const {
    const date::sys_days days{date::year{year} /
                              date::month{static_cast<unsigned>(month)} /
                              date::day{static_cast<unsigned>(day)}};
    return int64_t{days.time_since_epoch().count()} * kMinutesPerDay +
           hour * 60 + minute;
  }
  static Civil FromMinutes(int64_t minutes) {
    const int64_t days = FloorDiv(minutes, kMinutesPerDay);
    const int64_t rest = minutes - days * kMinutesPerDay;
    const date::year_month_day ymd{
        date::sys_days{date::days{static_cast<int>(days)}}};
    return {static_cast<int>(ymd.year()),
            static_cast<int>(static_cast<unsigned>(ymd.month())),
            static_cast<int>(static_cast<unsigned>(ymd.day())),
            static_cast<int>(rest / 60), static_cast<int>(rest % 60)};
  }
};

Result<CronExpression> CronExpression::Parse(std::string_view expr,
                                             std::string_view time_zone) {
  const std::string shown(expr.substr(0, 100));
  auto fail = [&](const Error& e) {
    return InvalidArgument(
        fmt::format("cron expression \"{}\": {}", shown, e.message));
  };
  CronExpression cron;
  std::vector<std::string_view> fields = SplitFields(expr);
  if (fields.empty()) return fail(InvalidArgument("expression is empty"));
  if (fields[0].front() == '@') {
    const std::string macro = Lower(fields[0]);
    const auto it =
        std::find_if(kMacros.begin(), kMacros.end(),
                     [&](const Macro& m) { return m.name == macro; });
    if (macro == "@reboot") {
      return fail(InvalidArgument("@reboot is not supported"));
    }
    if (it == kMacros.end()) {
      return fail(InvalidArgument(fmt::format(
          "unknown macro \"{}\" (expected @hourly, @daily, @midnight, "
          "@weekly, @monthly, @yearly or @annually)",
          fields[0])));
    }
    if (fields.size() != 1) {
      return fail(InvalidArgument(fmt::format(
          "macro {} takes no fields, got {} more", macro, fields.size() - 1)));
    }
    cron.text_ = macro;
    fields = SplitFields(it->fields);
  } else if (fields.size() != 5) {
    return fail(InvalidArgument(fmt::format(
        "expected 5 fields (minute hour day-of-month month day-of-week), "
        "got {}",
        fields.size())));
  } else {
    cron.text_ = fmt::format("{}", fmt::join(fields, " "));
  }

  const std::array<const FieldSpec*, 5> specs = {
      &kMinuteSpec, &kHourSpec, &kDayOfMonthSpec, &kMonthSpec, &kDayOfWeekSpec};
  std::array<uint64_t, 5> bits{};
  for (size_t i = 0; i < specs.size(); ++i) {
    Result<uint64_t> field = ParseField(fields[i], *specs[i]);
    if (!field) return fail(field.error());
    bits[i] = field.value();
  }
  cron.minutes_ = bits[0];
  cron.hours_ = static_cast<uint32_t>(bits[1]);
  cron.days_ = static_cast<uint32_t>(bits[2]);
  cron.months_ = static_cast<uint16_t>(bits[3]);
  // Day-of-week 7 is Sunday, like 0.
  cron.weekdays_ = static_cast<uint8_t>((bits[4] | (bits[4] >> 7)) & 0x7F);
  cron.fixed_time_ = fields[0].front() != '*' && fields[1].front() != '*';
  cron.day_of_month_star_ = fields[2].front() == '*';
  cron.day_of_week_star_ = fields[4].front() == '*';

  Result<const date::time_zone*> zone = ResolveZone(time_zone);
  if (!zone) return fail(zone.error());
  cron.zone_ = zone.value();
  cron.time_zone_name_ = std::string(time_zone);
  return cron;
}

std::string CronExpression::ToString() const { return text_; }

bool operator==(const CronExpression& a, const CronExpression& b) {
  return a.minutes_ == b.minutes_ && a.hours_ == b.hours_ &&
         a.days_ == b.days_ && a.months_ == b.months_ &&
         a.weekdays_ == b.weekdays_ &&
         a.day_of_month_star_ == b.day_of_month_star_ &&
         a.day_of_week_star_ == b.day_of_week_star_ &&
         a.fixed_time_ == b.fixed_time_ && a.zone_ == b.zone_;
}

bool CronExpression::DayMatches(int year, int month, int day) const {
  const bool dom = (days_ >> day) & 1;
  const date::weekday wd{date::sys_days{
      date::year{year} / date::month{static_cast<unsigned>(month)} /
      date::day{static_cast<unsigned>(day)}}};
  const bool dow = (weekdays_ >> wd.c_encoding()) & 1;
  // Vixie cron: a `*` in either day field makes the days an AND, otherwise
  // an OR.
  if (day_of_month_star_ || day_of_week_star_) return dom && dow;
  return dom || dow;
}

// The first matching day >= `day` in the month, or -1.
int CronExpression::NextDay(int year, int month, int day) const {
  const int last = DaysInMonth(year, month);
  for (int d = day; d <= last; ++d) {
    if (DayMatches(year, month, d)) return d;
  }
  return -1;
}

namespace {
// The smallest set bit >= from, at most max; -1 if none.
int NextBit(uint64_t bits, int from, int max) {
  for (int v = from; v <= max; ++v) {
    if ((bits >> v) & 1) return v;
  }
  return -1;
}
}  // namespace

// The first matching calendar minute >= `from`, searching field by field
// (months, then days, then hours, then minutes) so an impossible or rare
// expression costs at most a few hundred thousand cheap steps.
std::optional<CronExpression::Civil> CronExpression::NextLocal(
    Civil from, int last_year) const {
  int y = from.year, mo = from.month, d = from.day, h = from.hour,
      mi = from.minute;
  while (y <= last_year) {
    const int next_month = NextBit(months_, mo, 12);
    if (next_month < 0) {
      ++y, mo = 1, d = 1, h = 0, mi = 0;
      continue;
    }
    if (next_month != mo) mo = next_month, d = 1, h = 0, mi = 0;
    const int next_day = NextDay(y, mo, d);
    if (next_day < 0) {
      ++mo, d = 1, h = 0, mi = 0;
      continue;
    }
    if (next_day != d) d = next_day, h = 0, mi = 0;
    const int next_hour = NextBit(hours_, h, 23);
    if (next_hour < 0) {
      ++d, h = 0, mi = 0;
      continue;
    }
    if (next_hour != h) h = next_hour, mi = 0;
    const int next_minute = NextBit(minutes_, mi, 59);
    if (next_minute < 0) {
      ++h, mi = 0;
      continue;
    }
    return Civil{y, mo, d, h, next_minute};
  }
  return std::nullopt;
}

// Walks the zone's periods of constant offset from `t` on. In each period the
// first matching local minute after the lower bound is a candidate; if it lies
// past the period's end, the next period is tried, unless the period ends in
// a spring-forward gap containing a match of a fixed-time expression, which
// fires at the gap's end. After a fall back, a fixed-time expression starts
// its search past the repeated local times, so they fire only the first time.
std::optional<Millis> CronExpression::NextAfter(Millis t) const {
  static const int64_t kMinMs =
      int64_t{date::sys_days{date::year{kFirstYear} / 1 / 1}
                  .time_since_epoch()
                  .count()} *
      kMinutesPerDay * kMsPerMinute;
  static const int64_t kMaxMs =
      int64_t{date::sys_days{date::year{kLastYear} / 12 / 31}
                  .time_since_epoch()
                  .count()} *
      kMinutesPerDay * kMsPerMinute;
  if (t < kMinMs || t >= kMaxMs) return std::nullopt;
  try {
    const int last_year =
        std::min(kLastYear, Civil::FromMinutes(FloorDiv(t, kMsPerMinute)).year +
                                kSearchYears);
    int64_t from_ms = t + 1;  // inclusive lower bound
    for (int i = 0; i < kMaxPeriods; ++i) {
      const Period period = PeriodAt(zone_, FloorDiv(from_ms, 1000));
      int64_t local_from =
          CeilDiv(from_ms + period.offset_s * 1000, kMsPerMinute);
      if (fixed_time_ && zone_ != nullptr) {
        const Period before = PeriodAt(zone_, period.begin_s - 1);
        if (before.offset_s > period.offset_s) {  // a fall back
          local_from = std::max(local_from,
                                CeilDiv(period.begin_s + before.offset_s, 60));
        }
      }
      const std::optional<Civil> local =
          NextLocal(Civil::FromMinutes(local_from), last_year);
      if (!local) return std::nullopt;
      const int64_t local_minutes = local->ToMinutes();
      const int64_t at_ms = (local_minutes * 60 - period.offset_s) * 1000;
      if (at_ms < period.end_s * 1000) return at_ms;
      const Period after = PeriodAt(zone_, period.end_s);
      if (fixed_time_ && after.offset_s > period.offset_s &&
          local_minutes * 60 < period.end_s + after.offset_s) {
        return period.end_s * 1000;  // the match fell into the gap
      }
      from_ms = period.end_s * 1000;
    }
  } catch (...) {
    // The tz database does not throw for a zone it has loaded; should it
    // ever, "no next run" is the one answer this signature can give.
  }
  return std::nullopt;
}

}  // namespace jobtrail
