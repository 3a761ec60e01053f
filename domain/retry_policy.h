#pragma once
// How long a job waits before its next attempt, and how many attempts it
// gets. A value type, set per job type and per job; pure code.
//
// Attempt 1 is the first run and does not wait. Before attempt n >= 2 the
// nominal delay is
//   kFixed:        base_delay_ms
//   kExponential:  base_delay_ms * 2^(n-2)   (base, 2*base, 4*base, ...)
// capped at max_delay_ms. Jitter then scales it by a factor in
// [1 - jitter, 1 + jitter), drawn from `unit_random` (injected so tests and
// replays are deterministic), and the result is clamped to [0, max_delay_ms].
//
// Thread safety: a plain struct; const methods are safe to call concurrently.
#include "domain/error.h"
#include "domain/job_event.h"

namespace jobtrail {

struct RetryPolicy {
  enum class Backoff { kFixed, kExponential };

  // Largest values Validate() accepts.
  static constexpr int kMaxAttemptsLimit = 10000;
  static constexpr Millis kMaxDelayLimitMs = Millis{366} * 24 * 3600 * 1000;

  int max_attempts = 3;  // attempts in total, the first run included; >= 1
  Backoff backoff = Backoff::kExponential;
  Millis base_delay_ms = 1000;    // >= 0
  Millis max_delay_ms = 3600000;  // >= base_delay_ms, <= one leap year
  double jitter = 0.2;            // +-fraction of the delay, in [0, 1]

  // The delay in ms before attempt `next_attempt` (1-based; <= 1 gives 0).
  // `unit_random` is a uniform draw from [0, 1): 0 gives the shortest delay
  // (1 - jitter), 0.5 the nominal one, values towards 1 the longest
  // (1 + jitter); values outside [0, 1) are clamped and NaN counts as 0.5.
  // Never overflows, whatever the attempt (attempt 1000 gives the cap).
  // Meaningful only for a policy that passes Validate(); for one that does
  // not, the result is still within [0, max(max_delay_ms, 0)].
  Millis DelayBeforeAttempt(int next_attempt, double unit_random) const;

  // True when a job that has made `attempts_made` attempts may make another.
  bool HasAttemptAfter(int attempts_made) const {
    return attempts_made < max_attempts;
  }

  // kInvalidArgument / INVALID_INPUT naming the field: max_attempts outside
  // [1, kMaxAttemptsLimit], an unknown backoff, a negative base delay, a cap
  // below the base or above kMaxDelayLimitMs, jitter outside [0, 1] or NaN.
  Result<void> Validate() const;

  bool operator==(const RetryPolicy&) const = default;
};

// Parses "BACKOFF:BASE_MS[:MAX_MS[:JITTER]]", e.g. "exponential:1000:3600000"
// or "fixed:30000:30000:0" (the command line's form). Unset parts keep the
// defaults above; the result is validated. Errors: kInvalidArgument.
Result<RetryPolicy> ParseRetryPolicy(std::string_view spec);

}  // namespace jobtrail
