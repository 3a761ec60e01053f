#include "http/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include <fmt/format.h>

namespace jobtrail::http {

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
  std::string_view period = text.substr(slash + 1);
  size_t digits = 0;
  uint64_t amount = 0;
  while (digits < period.size() && period[digits] >= '0' && period[digits] <= '9') {
    if (amount > 1'000'000'000) return bad();
    amount = amount * 10 + uint64_t(period[digits] - '0');
    ++digits;
  }
  if (digits == 0) amount = 1;  // "/s" means "/1s"
  const std::string_view unit = period.substr(digits);
  Millis scale = 0;
  if (unit == "ms") scale = 1;
  else if (unit == "s") scale = 1000;
  else if (unit == "m") scale = 60'000;
  else if (unit == "h") scale = 3'600'000;
  else if (unit == "d") scale = 86'400'000;
  else return bad();
  if (limit == 0 || amount == 0) return bad();
  return RateRule{limit, Millis(amount) * scale};
}

std::string FormatRateRule(const RateRule& rule) {
  if (!rule.enabled()) return "off";
  const Millis p = rule.period_ms;
  if (p % 3'600'000 == 0) return fmt::format("{}/{}h", rule.limit, p / 3'600'000);
  if (p % 60'000 == 0) return fmt::format("{}/{}m", rule.limit, p / 60'000);
  if (p % 1000 == 0) return fmt::format("{}/{}s", rule.limit, p / 1000);
  return fmt::format("{}/{}ms", rule.limit, p);
}

void RateLimiter::Evict(Shard& shard, Millis now) {
  // A bucket idle for a whole period is full again: forgetting it is exact.
  for (auto it = shard.buckets.begin(); it != shard.buckets.end();) {
    if (now - it->second.last >= it->second.period) {
      it = shard.buckets.erase(it);
    } else {
      ++it;
    }
  }
}

RateDecision RateLimiter::Take(std::string_view key, const RateRule& rule, Millis now) {
  Shard& shard = shards_[std::hash<std::string_view>{}(key) % kShards];
  const double capacity = double(rule.limit);
  const double per_ms = capacity / double(rule.period_ms);
  std::lock_guard lock(shard.mu);
  auto it = shard.buckets.find(std::string(key));
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= max_per_shard_) Evict(shard, now);
    it = shard.buckets.emplace(std::string(key), Bucket{capacity, now, rule.period_ms}).first;
  }
  Bucket& b = it->second;
  if (now > b.last) {
    b.tokens = std::min(capacity, b.tokens + double(now - b.last) * per_ms);
    b.last = now;
  }
  b.tokens = std::min(b.tokens, capacity);  // the rule may have shrunk
  b.period = rule.period_ms;
  RateDecision d;
  d.limit = rule.limit;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    d.allowed = true;
  } else {
    d.allowed = false;
    d.retry_after_ms = Millis(std::ceil((1.0 - b.tokens) / per_ms));
  }
  d.remaining = uint64_t(std::floor(b.tokens));
  d.reset_at = now + Millis(std::ceil((capacity - b.tokens) / per_ms));
  return d;
}

}  // namespace jobtrail::http
