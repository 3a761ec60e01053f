#pragma once
// RateLimiter: token buckets keyed by strings ("reader:alice",
// "addr:10.0.0.7", "poll:alice:<job>"), refilled continuously: a rule of
// N per period holds at most N tokens and gains N every period.
// Time comes from the caller (the store's injected clock), so tests move
// time instead of sleeping.
//
// Memory is bounded: each shard holds at most max_buckets / shards buckets
// in least-recently-used order. A new key past that drops the least
// recently used bucket, in O(1): usually one idle for a whole period, which
// is full again, so forgetting it changes nothing; under a flood of new
// keys the one dropped may not be full yet, and its owner -- the least
// recently active caller of that shard -- starts over with a full bucket.
// That bounded leniency is the price of bounded memory (a shard scanned
// for idle buckets under its lock cost O(n) per new key).
//
// Thread-safe (sharded mutexes).
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include <boost/multi_index/hashed_index.hpp>
#include <boost/multi_index/member.hpp>
#include <boost/multi_index/sequenced_index.hpp>
#include <boost/multi_index_container.hpp>

#include "domain/error.h"
#include "domain/job_event.h"

namespace jobtrail::http {

struct RateRule {
  uint64_t limit = 0;   // tokens per period (and the burst); 0: no limit
  Millis period_ms = 0;
  bool enabled() const { return limit > 0 && period_ms > 0; }
};

// "500ms", "30s", "15m", "1h", "7d" (a bare unit is one of it: "s" = "1s").
// Errors: kInvalidArgument.
Result<Millis> ParseDuration(std::string_view text);

// "100/15m", "5/1h", "1/1s", "20/500ms", "off". Errors: kInvalidArgument.
Result<RateRule> ParseRateRule(std::string_view text);
std::string FormatRateRule(const RateRule& rule);

struct RateDecision {
  bool allowed = true;
  uint64_t limit = 0;
  uint64_t remaining = 0;  // whole tokens left after this request
  Millis reset_at = 0;     // when the bucket is full again (ms since epoch)
  Millis retry_after_ms = 0;  // when !allowed: until one token is back
};

class RateLimiter {
 public:
  explicit RateLimiter(size_t max_buckets = 200000) : max_per_shard_(max_buckets / kShards + 1) {}

  // Takes one token from `key`'s bucket under `rule` (which must be enabled).
  RateDecision Take(std::string_view key, const RateRule& rule, Millis now);

  // How many buckets are held (for tests and metrics).
  size_t size() const;

 private:
  static constexpr size_t kShards = 16;
  struct Bucket {
    std::string key;
    // Not indexed, so changed in place through the container's const view.
    mutable int64_t units = 0;  // tokens x period_ms (see Take)
    mutable Millis last = 0;
    mutable Millis period = 0;
  };
  // Most recently used first; looked up by key.
  using Buckets = boost::multi_index_container<
      Bucket, boost::multi_index::indexed_by<
                  boost::multi_index::sequenced<>,
                  boost::multi_index::hashed_unique<
                      boost::multi_index::member<Bucket, std::string, &Bucket::key>>>>;
  struct Shard {
    mutable std::mutex mu;
    Buckets buckets;  // GUARDED_BY(mu)
  };

  size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace jobtrail::http
