#include "domain/retry_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string>
#include <vector>
#include <cmath>

namespace jobtrail {

Millis RetryPolicy::DelayBeforeAttempt(int next_attempt,
                                       double unit_random) const {
  if (next_attempt <= 1) return 0;
  const Millis cap = std::max<Millis>(max_delay_ms, 0);
  const Millis base = std::clamp<Millis>(base_delay_ms, 0, cap);
  Millis delay = base;
  if (backoff == Backoff::kExponential) {
    // base << shift <= cap whenever base <= cap >> shift, so no overflow.
    const int shift = next_attempt - 2;
    delay = (shift >= 62 || base > (cap >> shift)) ? cap : base << shift;
  }
  double u = std::isnan(unit_random) ? 0.5 : std::clamp(unit_random, 0.0, 1.0);
  const double j = std::isnan(jitter) ? 0.0 : std::clamp(jitter, 0.0, 1.0);
  const double scaled =
      static_cast<double>(delay) * (1.0 + j * (2.0 * u - 1.0));
  // Compare in double before converting: a cap near INT64_MAX rounds up to
  // 2^63, which does not convert back.
  if (!(scaled > 0.0)) return 0;
  if (scaled >= static_cast<double>(cap)) return cap;
  return std::min<Millis>(std::llround(scaled), cap);
}

Result<void> RetryPolicy::Validate() const {
  if (max_attempts < 1 || max_attempts > kMaxAttemptsLimit) {
    return InvalidArgument(fmt::format(
        "retry policy: max_attempts is {}, must be between 1 and {}",
        max_attempts, kMaxAttemptsLimit));
  }
  if (backoff != Backoff::kFixed && backoff != Backoff::kExponential) {
    return InvalidArgument(fmt::format("retry policy: unknown backoff {}",
                                       static_cast<int>(backoff)));
  }
  if (base_delay_ms < 0) {
    return InvalidArgument(
        fmt::format("retry policy: base_delay_ms is {}, must not be negative",
                    base_delay_ms));
  }
  if (max_delay_ms < base_delay_ms || max_delay_ms > kMaxDelayLimitMs) {
    return InvalidArgument(fmt::format(
        "retry policy: max_delay_ms is {}, must be between base_delay_ms ({}) "
        "and {}",
        max_delay_ms, base_delay_ms, kMaxDelayLimitMs));
  }
  if (!(jitter >= 0.0 && jitter <= 1.0)) {
    return InvalidArgument(fmt::format(
        "retry policy: jitter is {}, must be a fraction between 0 and 1",
        jitter));
  }
  return Ok();
}

Result<RetryPolicy> ParseRetryPolicy(std::string_view spec) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t colon = spec.find(':', start);
    parts.emplace_back(spec.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  auto bad = [&](std::string_view why) {
    return InvalidArgument(fmt::format("retry policy '{}': {} (want BACKOFF:BASE_MS[:MAX_MS[:JITTER]])",
                                       spec, why));
  };
  if (parts.size() < 2 || parts.size() > 4) return bad("wrong number of parts");
  RetryPolicy policy;
  if (parts[0] == "fixed") {
    policy.backoff = RetryPolicy::Backoff::kFixed;
  } else if (parts[0] == "exponential") {
    policy.backoff = RetryPolicy::Backoff::kExponential;
  } else {
    return bad("backoff must be 'fixed' or 'exponential'");
  }
  auto number = [](const std::string& text, auto& out) {
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, out);
    return ec == std::errc() && ptr == end;
  };
  if (!number(parts[1], policy.base_delay_ms)) return bad("base delay is not a whole number of ms");
  policy.max_delay_ms = std::max(policy.max_delay_ms, policy.base_delay_ms);
  if (parts.size() > 2 && !number(parts[2], policy.max_delay_ms)) {
    return bad("max delay is not a whole number of ms");
  }
  if (parts.size() > 3) {
    char* end = nullptr;
    policy.jitter = std::strtod(parts[3].c_str(), &end);
    if (end != parts[3].c_str() + parts[3].size() || parts[3].empty()) return bad("jitter is not a number");
  }
  BOOST_OUTCOME_TRYV(policy.Validate());
  return policy;
}

}  // namespace jobtrail
