// RetryPolicy: backoff sequences, the cap, jitter bounds with an injected
// random draw, overflow safety and validation.
#include "domain/retry_policy.h"

#include <gtest/gtest.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace jobtrail {
namespace {

constexpr double kNoJitter = 0.5;  // the draw that gives the nominal delay
constexpr double kAlmostOne = 0.9999999999;

std::vector<Millis> Delays(const RetryPolicy& policy, int attempts,
                           double unit_random) {
  std::vector<Millis> out;
  for (int a = 1; a <= attempts; ++a) {
    out.push_back(policy.DelayBeforeAttempt(a, unit_random));
  }
  return out;
}

TEST(RetryPolicyTest, DefaultsAreValid) {
  const RetryPolicy policy;
  EXPECT_EQ(policy.max_attempts, 3);
  EXPECT_EQ(policy.backoff, RetryPolicy::Backoff::kExponential);
  EXPECT_EQ(policy.base_delay_ms, 1000);
  EXPECT_EQ(policy.max_delay_ms, 3600000);
  EXPECT_DOUBLE_EQ(policy.jitter, 0.2);
  EXPECT_TRUE(policy.Validate());
}

TEST(RetryPolicyTest, ExponentialDoublesFromTheSecondAttempt) {
  RetryPolicy policy;
  policy.jitter = 0;
  EXPECT_EQ(
      Delays(policy, 8, 0.0),
      (std::vector<Millis>{0, 1000, 2000, 4000, 8000, 16000, 32000, 64000}));
}

TEST(RetryPolicyTest, FixedWaitsTheBaseEveryTime) {
  RetryPolicy policy;
  policy.backoff = RetryPolicy::Backoff::kFixed;
  policy.base_delay_ms = 5000;
  EXPECT_EQ(Delays(policy, 5, kNoJitter),
            (std::vector<Millis>{0, 5000, 5000, 5000, 5000}));
  EXPECT_EQ(policy.DelayBeforeAttempt(1000, kNoJitter), 5000);
}

TEST(RetryPolicyTest, ExponentialIsCapped) {
  RetryPolicy policy;
  policy.base_delay_ms = 1000;
  policy.max_delay_ms = 10000;
  EXPECT_EQ(Delays(policy, 7, kNoJitter),
            (std::vector<Millis>{0, 1000, 2000, 4000, 8000, 10000, 10000}));
}

TEST(RetryPolicyTest, FirstAttemptAndNonsenseAttemptsDoNotWait) {
  const RetryPolicy policy;
  EXPECT_EQ(policy.DelayBeforeAttempt(1, kAlmostOne), 0);
  EXPECT_EQ(policy.DelayBeforeAttempt(0, kAlmostOne), 0);
  EXPECT_EQ(policy.DelayBeforeAttempt(-5, kAlmostOne), 0);
  EXPECT_EQ(policy.DelayBeforeAttempt(INT_MIN, kAlmostOne), 0);
}

TEST(RetryPolicyTest, JitterIsSymmetricAroundTheNominalDelay) {
  const RetryPolicy policy;  // jitter 0.2
  EXPECT_EQ(policy.DelayBeforeAttempt(2, 0.0), 800);
  EXPECT_EQ(policy.DelayBeforeAttempt(2, 0.25), 900);
  EXPECT_EQ(policy.DelayBeforeAttempt(2, 0.5), 1000);
  EXPECT_EQ(policy.DelayBeforeAttempt(2, 0.75), 1100);
  EXPECT_EQ(policy.DelayBeforeAttempt(2, kAlmostOne), 1200);
  EXPECT_EQ(policy.DelayBeforeAttempt(4, 0.0), 3200);
  EXPECT_EQ(policy.DelayBeforeAttempt(4, kAlmostOne), 4800);
  for (double u = 0; u < 1; u += 0.01) {
    const Millis d = policy.DelayBeforeAttempt(3, u);
    EXPECT_GE(d, 1600) << u;
    EXPECT_LE(d, 2400) << u;
  }
}

TEST(RetryPolicyTest, JitterNeverExceedsTheCap) {
  const RetryPolicy policy;  // cap one hour
  // Nominal delay is the cap from attempt 14 on (1000 * 2^12 > 3600000).
  EXPECT_EQ(policy.DelayBeforeAttempt(14, 0.0), 2880000);
  EXPECT_EQ(policy.DelayBeforeAttempt(14, kNoJitter), 3600000);
  EXPECT_EQ(policy.DelayBeforeAttempt(14, kAlmostOne), 3600000);
  RetryPolicy full = policy;
  full.jitter = 1.0;
  EXPECT_EQ(full.DelayBeforeAttempt(2, 0.0), 0);
  EXPECT_EQ(full.DelayBeforeAttempt(2, kAlmostOne), 2000);
  EXPECT_EQ(full.DelayBeforeAttempt(30, kAlmostOne), 3600000);
}

TEST(RetryPolicyTest, OutOfRangeDrawsAreClamped) {
  const RetryPolicy policy;
  EXPECT_EQ(policy.DelayBeforeAttempt(2, -3.0), 800);
  EXPECT_EQ(policy.DelayBeforeAttempt(2, 7.0), 1200);
  EXPECT_EQ(policy.DelayBeforeAttempt(2, std::nan("")), 1000);
  EXPECT_EQ(
      policy.DelayBeforeAttempt(2, std::numeric_limits<double>::infinity()),
      1200);
}

TEST(RetryPolicyTest, HugeAttemptNumbersDoNotOverflow) {
  const RetryPolicy policy;
  for (int attempt : {62, 63, 64, 65, 1000, 100000, INT_MAX}) {
    EXPECT_EQ(policy.DelayBeforeAttempt(attempt, kNoJitter), 3600000)
        << attempt;
    EXPECT_EQ(policy.DelayBeforeAttempt(attempt, 0.0), 2880000) << attempt;
    EXPECT_EQ(policy.DelayBeforeAttempt(attempt, kAlmostOne), 3600000)
        << attempt;
  }
  // Even a policy Validate() refuses stays in [0, cap].
  RetryPolicy wide;
  wide.base_delay_ms = 1;
  wide.max_delay_ms = std::numeric_limits<Millis>::max();
  EXPECT_EQ(wide.DelayBeforeAttempt(1000, kAlmostOne),
            std::numeric_limits<Millis>::max());
  EXPECT_EQ(wide.DelayBeforeAttempt(64, kNoJitter),
            std::numeric_limits<Millis>::max());
  EXPECT_EQ(wide.DelayBeforeAttempt(63, kNoJitter), Millis{1} << 61);
  RetryPolicy negative;
  negative.base_delay_ms = -10;
  negative.max_delay_ms = -5;
  EXPECT_EQ(negative.DelayBeforeAttempt(5, kAlmostOne), 0);
}

TEST(RetryPolicyTest, ZeroBaseNeverWaits) {
  RetryPolicy policy;
  policy.base_delay_ms = 0;
  EXPECT_EQ(Delays(policy, 5, kAlmostOne),
            (std::vector<Millis>{0, 0, 0, 0, 0}));
}

TEST(RetryPolicyTest, AttemptsLeft) {
  const RetryPolicy policy;  // 3 attempts
  EXPECT_TRUE(policy.HasAttemptAfter(0));
  EXPECT_TRUE(policy.HasAttemptAfter(1));
  EXPECT_TRUE(policy.HasAttemptAfter(2));
  EXPECT_FALSE(policy.HasAttemptAfter(3));
  EXPECT_FALSE(policy.HasAttemptAfter(4));
}

struct BadPolicy {
  std::string_view name;
  RetryPolicy policy;
  std::string_view message_part;
};

RetryPolicy With(void (*change)(RetryPolicy&)) {
  RetryPolicy p;
  change(p);
  return p;
}

TEST(RetryPolicyTest, ValidationNamesTheBadField) {
  const BadPolicy cases[] = {
      {"zero attempts", With([](RetryPolicy& p) { p.max_attempts = 0; }),
       "max_attempts is 0, must be between 1 and 10000"},
      {"negative attempts", With([](RetryPolicy& p) { p.max_attempts = -1; }),
       "max_attempts is -1"},
      {"too many attempts",
       With([](RetryPolicy& p) { p.max_attempts = 10001; }),
       "max_attempts is 10001"},
      {"unknown backoff", With([](RetryPolicy& p) {
         p.backoff = static_cast<RetryPolicy::Backoff>(7);
       }),
       "unknown backoff 7"},
      {"negative base", With([](RetryPolicy& p) { p.base_delay_ms = -1; }),
       "base_delay_ms is -1, must not be negative"},
      {"cap below base", With([](RetryPolicy& p) {
         p.base_delay_ms = 5000;
         p.max_delay_ms = 4000;
       }),
       "max_delay_ms is 4000, must be between base_delay_ms (5000)"},
      {"cap too large", With([](RetryPolicy& p) {
         p.max_delay_ms = RetryPolicy::kMaxDelayLimitMs + 1;
       }),
       "max_delay_ms is 31622400001"},
      {"negative jitter", With([](RetryPolicy& p) { p.jitter = -0.1; }),
       "jitter is -0.1, must be a fraction between 0 and 1"},
      {"jitter above one", With([](RetryPolicy& p) { p.jitter = 1.5; }),
       "jitter is 1.5"},
      {"NaN jitter", With([](RetryPolicy& p) { p.jitter = std::nan(""); }),
       "jitter is nan"},
  };
  for (const BadPolicy& c : cases) {
    const Result<void> r = c.policy.Validate();
    ASSERT_FALSE(r) << c.name;
    EXPECT_EQ(r.error().code, Code::kInvalidArgument) << c.name;
    EXPECT_EQ(r.error().reason, "INVALID_INPUT") << c.name;
    EXPECT_NE(r.error().message.find(c.message_part), std::string::npos)
        << c.name << ": " << r.error().message;
  }
}

TEST(RetryPolicyTest, BoundaryValuesAreValid) {
  RetryPolicy policy;
  policy.max_attempts = 1;
  policy.base_delay_ms = 0;
  policy.max_delay_ms = 0;
  policy.jitter = 0;
  EXPECT_TRUE(policy.Validate());
  policy.max_attempts = RetryPolicy::kMaxAttemptsLimit;
  policy.max_delay_ms = RetryPolicy::kMaxDelayLimitMs;
  policy.jitter = 1;
  policy.backoff = RetryPolicy::Backoff::kFixed;
  EXPECT_TRUE(policy.Validate());
}

}  // namespace
}  // namespace jobtrail

namespace jobtrail {
namespace {

TEST(ParseRetryPolicyTest, ReadsTheCommandLineForm) {
  auto exp = ParseRetryPolicy("exponential:1000:60000");
  ASSERT_TRUE(exp) << exp.error().message;
  EXPECT_EQ(exp.value().backoff, RetryPolicy::Backoff::kExponential);
  EXPECT_EQ(exp.value().base_delay_ms, 1000);
  EXPECT_EQ(exp.value().max_delay_ms, 60000);
  auto fixed = ParseRetryPolicy("fixed:30000:30000:0");
  ASSERT_TRUE(fixed);
  EXPECT_EQ(fixed.value().backoff, RetryPolicy::Backoff::kFixed);
  EXPECT_EQ(fixed.value().jitter, 0.0);
  EXPECT_EQ(fixed.value().DelayBeforeAttempt(5, 0.9), 30000);
  // A base above the default cap raises the cap with it.
  EXPECT_EQ(ParseRetryPolicy("fixed:7200000").value().max_delay_ms, 7200000);
}

TEST(ParseRetryPolicyTest, RejectsMalformedSpecs) {
  for (const char* spec : {"", "exponential", "linear:1000", "fixed:abc", "fixed:10:5",
                           "fixed:10:20:2.5", "fixed:10:20:x", "fixed:1:2:0.1:9", "fixed:-5"}) {
    auto parsed = ParseRetryPolicy(spec);
    EXPECT_FALSE(parsed) << spec;
    if (!parsed) EXPECT_EQ(parsed.error().reason, "INVALID_INPUT") << spec;
  }
}

}  // namespace
}  // namespace jobtrail
