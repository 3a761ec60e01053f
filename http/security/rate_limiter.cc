#include "http/security/rate_limiter.h"

#include <algorithm>
#include <cstdint>
#include <functional>

#include <fmt/format.h>

namespace jobtrail::http {

Result<Millis> ParseDuration(std::string_view text) {
  auto bad = [&] {
    return InvalidArgument(
        fmt::format("duration '{}' must be N followed by ms, s, m, h or d (e.g. 7d)", text));
  };
  size_t digits = 0;
  uint64_t amount = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    if (amount > 1'000'000'000) return bad();
    amount = amount * 10 + uint64_t(text[digits] - '0');
    ++digits;
  }
  if (digits == 0) amount = 1;  // "/s" means "/1s"
  const std::string_view unit = text.substr(digits);
  Millis scale = 0;
  if (unit == "ms") scale = 1;
  else if (unit == "s") scale = 1000;
  else if (unit == "m") scale = 60'000;
  else if (unit == "h") scale = 3'600'000;
  else if (unit == "d") scale = 86'400'000;
  else return bad();
  if (amount == 0) return bad();
  return Millis(amount) * scale;
}

Result<RateRule> ParseRateRule(std::string_view text) {
  if (text == "off") return RateRule{};
  const size_t slash = text.find('/');
  auto bad = [&] {
    return InvalidArgument(fmt::format(
        "rate limit '{}' must be N/PERIOD (e.g. 100/15m, 5/1h, 1/1s, 200/500ms) or off", text));
  };
  if (slash == std::string_view::npos || slash == 0) return bad();
  uint64_t limit = 0;
  for (char c : text.substr(0, slash)) {
    if (c < '0' || c > '9' || limit > 1'000'000'000) return bad();
    limit = limit * 10 + uint64_t(c - '0');
  }
  auto period = ParseDuration(text.substr(slash + 1));
  if (!period || limit == 0) return bad();
  // The limiter counts in limit x period units (see Take): keep them in range.
  const Millis period_ms = period.value();
  if (period_ms > 366 * 86'400'000LL || limit > uint64_t(INT64_MAX / period_ms)) {
    return InvalidArgument(fmt::format("rate limit '{}' is too large (at most a year's period)",
                                       text));
  }
  return RateRule{limit, period_ms};
}

std::string FormatRateRule(const RateRule& rule) {
  if (!rule.enabled()) return "off";
  const Millis p = rule.period_ms;
  if (p % 3'600'000 == 0) return fmt::format("{}/{}h", rule.limit, p / 3'600'000);
  if (p % 60'000 == 0) return fmt::format("{}/{}m", rule.limit, p / 60'000);
  if (p % 1000 == 0) return fmt::format("{}/{}s", rule.limit, p / 1000);
  return fmt::format("{}/{}ms", rule.limit, p);
}

size_t RateLimiter::size() const {
  size_t n = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    n += shard.buckets.size();
  }
  return n;
}

RateDecision RateLimiter::Take(std::string_view key, const RateRule& rule, Millis now) {
  Shard& shard = shards_[std::hash<std::string_view>{}(key) % kShards];
  // Integer arithmetic in units of 1/period_ms of a token: one token is
  // period_ms units and a millisecond brings back `limit` of them, so a
  // bucket left alone for exactly a period is exactly full again.
  const int64_t limit = int64_t(rule.limit);
  const int64_t period = rule.period_ms;
  const int64_t capacity = limit * period;
  std::lock_guard lock(shard.mu);
  auto& order = shard.buckets.get<0>();
  auto& by_key = shard.buckets.get<1>();
  auto found = by_key.find(std::string(key));
  Buckets::iterator it;
  if (found == by_key.end()) {
    // The least recently used goes: O(1), and memory stays bounded.
    if (order.size() >= max_per_shard_) order.pop_back();
    it = order.push_front(Bucket{std::string(key), capacity, now, period}).first;
  } else {
    it = shard.buckets.project<0>(found);
    order.relocate(order.begin(), it);
  }
  const Bucket& b = *it;
  if (now > b.last) {
    b.units += std::min<int64_t>(now - b.last, period) * limit;
    b.last = now;
  }
  b.units = std::min(b.units, capacity);  // full, or the rule shrank
  b.period = period;
  RateDecision d;
  d.limit = rule.limit;
  if (b.units >= period) {
    b.units -= period;
    d.allowed = true;
  } else {
    d.allowed = false;
    d.retry_after_ms = (period - b.units + limit - 1) / limit;
  }
  d.remaining = uint64_t(b.units / period);
  d.reset_at = now + (capacity - b.units + limit - 1) / limit;
  return d;
}

}  // namespace jobtrail::http
