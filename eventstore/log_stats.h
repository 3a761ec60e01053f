#pragma once
// What the event log measures about itself, for /metrics: histograms of
// group-commit sizes and WAL sync latencies (fixed buckets, relaxed atomics:
// recording costs a few nanoseconds on the commit path), and when each
// position was committed (CommitClock), from which the read models' lag in
// seconds is derived.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace jobtrail::eventstore {

struct HistogramSnapshot {
  std::vector<double> bounds;     // upper bounds, ascending; +Inf is implied
  std::vector<uint64_t> buckets;  // bounds.size() + 1 counts, not cumulative
  double sum = 0;
  uint64_t count = 0;
};

template <size_t N>
class AtomicHistogram {
 public:
  explicit AtomicHistogram(const std::array<double, N>& bounds) : bounds_(bounds) {}

  void Record(double value) {
    const size_t b = size_t(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                            bounds_.begin());
    buckets_[b].fetch_add(1, std::memory_order_relaxed);
    // The sum in millionths keeps it an integer atomic.
    sum_micro_.fetch_add(uint64_t(value * 1e6), std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
  }

  HistogramSnapshot Snapshot() const {
    HistogramSnapshot s;
    s.bounds.assign(bounds_.begin(), bounds_.end());
    for (const auto& b : buckets_) s.buckets.push_back(b.load(std::memory_order_relaxed));
    s.sum = double(sum_micro_.load(std::memory_order_relaxed)) / 1e6;
    s.count = count_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  std::array<double, N> bounds_;
  std::array<std::atomic<uint64_t>, N + 1> buckets_{};
  std::atomic<uint64_t> sum_micro_{0};
  std::atomic<uint64_t> count_{0};
};

// When positions were committed: a ring of (last position, time) per commit.
// CommittedAt(p) is the time of the first commit that covered p, or of the
// oldest one remembered if p is older (so an age derived from it is never
// larger than the truth). Not thread-safe: the log notes commits under the
// lock it commits under, and looks up under it too (once per scrape).
class CommitClock {
 public:
  using Time = std::chrono::steady_clock::time_point;

  void Note(uint64_t position, Time at) {
    if (size_ > 0 && ring_[(head_ + size_ - 1) % kSize].first >= position) return;
    if (size_ == kSize) {
      head_ = (head_ + 1) % kSize;
      --size_;
    }
    ring_[(head_ + size_) % kSize] = {position, at};
    ++size_;
  }

  std::optional<Time> CommittedAt(uint64_t position) const {
    if (size_ == 0) return std::nullopt;
    size_t lo = 0;
    size_t hi = size_;  // first entry whose position >= `position`
    while (lo < hi) {
      const size_t mid = (lo + hi) / 2;
      if (ring_[(head_ + mid) % kSize].first >= position) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    if (lo == size_) return std::nullopt;  // not committed yet
    return ring_[(head_ + lo) % kSize].second;
  }

 private:
  static constexpr size_t kSize = 4096;
  std::array<std::pair<uint64_t, Time>, kSize> ring_{};
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace jobtrail::eventstore
