#pragma once
// WorkPool: a fixed set of threads running submitted tasks in FIFO order,
// with a bounded queue. The HTTP server runs its writes here, so that a
// write waiting for fsync and the read models (read-your-writes) does not
// hold a Pistache reactor thread, and the reads behind it, and so that many
// writes wait together and share one group commit.
//
// Thread-safe. Stop() runs what is queued, then joins; Submit() after Stop()
// returns false.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace jobtrail::http {

class WorkPool {
 public:
  WorkPool(size_t threads, size_t max_queued);
  ~WorkPool() { Stop(); }
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // False when the queue is full or the pool is stopping; the task is not
  // run then.
  bool Submit(std::function<void()> task);
  void Stop();
  // Tasks waiting for a thread now (a gauge for /metrics).
  size_t queued() {
    std::lock_guard lock(mu_);
    return queue_.size();
  }

 private:
  void Run();

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                    // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;
};

}  // namespace jobtrail::http
