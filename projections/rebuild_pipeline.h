#pragma once
// The plumbing between a rebuild's threads (rebuild.h): bounded queues, the
// first error that stops them all, and the batches of raw events the
// reader hands to the partitions. Internal to rebuild*.cc.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/error.h"

namespace jobtrail::rebuild {

// A bounded queue between threads. Close(): no more pushes, pops drain
// what is there. Close(abort): everything is dropped and nobody waits.
template <typename T>
class Channel {
 public:
  explicit Channel(size_t depth) : depth_(depth) {}
  bool Push(T item) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return items_.size() < depth_ || closed_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }
  std::optional<T> Pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !items_.empty() || closed_; });
    if (items_.empty() || aborted_) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }
  void Close(bool abort = false) {
    std::lock_guard lock(mu_);
    closed_ = true;
    aborted_ = aborted_ || abort;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

 private:
  const size_t depth_;
  std::mutex mu_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<T> items_;   // GUARDED_BY(mu_)
  bool closed_ = false;   // GUARDED_BY(mu_)
  bool aborted_ = false;  // GUARDED_BY(mu_)
};

// The first error of any thread; it stops the others.
class Failure {
 public:
  void Set(Error error) {
    std::lock_guard lock(mu_);
    if (!error_) error_ = std::move(error);
    failed_.store(true);
  }
  bool failed() const { return failed_.load(); }
  std::optional<Error> error() {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  std::atomic<bool> failed_{false};
  std::mutex mu_;
  std::optional<Error> error_;
};

// Events of one partition's jobs, in log order, copied out of the log's
// read buffers (they are only valid during the scan's callback).
struct EventBatch {
  struct Ref {
    uint64_t position = 0;
    uint64_t version = 0;
    uint32_t at = 0;  // the stream's bytes, then the data's, in `bytes`
    uint32_t stream_size = 0;
    uint32_t data_size = 0;
  };
  std::string bytes;
  std::vector<Ref> refs;

  void Add(uint64_t position, std::string_view stream, uint64_t version, std::string_view data) {
    // The data starts on a multiple of 8 bytes (`bytes` itself is aligned
    // by the allocator): Cap'n Proto reads it in place, without a copy.
    const size_t at = (bytes.size() + stream.size() + 7) / 8 * 8 - stream.size();
    refs.push_back(Ref{position, version, uint32_t(at), uint32_t(stream.size()),
                       uint32_t(data.size())});
    bytes.resize(at);
    bytes.append(stream);
    bytes.append(data);
  }
  std::string_view stream(const Ref& r) const { return {bytes.data() + r.at, r.stream_size}; }
  std::string_view data(const Ref& r) const {
    return {bytes.data() + r.at + r.stream_size, r.data_size};
  }
  void Clear() {
    bytes.clear();
    refs.clear();
  }
};

}  // namespace jobtrail::rebuild
