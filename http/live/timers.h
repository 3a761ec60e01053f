#pragma once
// One thread for every deadline of the live module: long-polls that run
// out, heartbeats of idle event streams, dropped streams whose last bytes
// take too long. Entries are callbacks in a min-heap; nothing is cancelled
// (a callback holds weak pointers and does nothing once its object is
// done), so arming is cheap and 10,000 parked long-polls cost 10,000 heap
// entries and no thread.
//
// Time comes from a Clock in milliseconds: a steady clock and the thread in
// production; tests inject a ManualClock, and nothing fires until they call
// Tick() after moving it (no thread is started then).
//
// Thread-safe. Callbacks run on the timer thread (or in Tick's caller),
// without the timers' lock: keep them short, hand real work to a pool.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include "domain/clock.h"

namespace jobtrail::http::live {

// Milliseconds of std::chrono::steady_clock: deadlines that wall-clock
// jumps do not move.
class SteadyClock final : public Clock {
 public:
  Millis Now() const override;
};

class Timers {
 public:
  // `injected` null: the steady clock, and Start() runs the thread.
  explicit Timers(const Clock* injected);
  ~Timers() { Stop(); }
  Timers(const Timers&) = delete;
  Timers& operator=(const Timers&) = delete;

  void Start();
  // Joins the thread; entries not yet due are dropped.
  void Stop();

  Millis Now() const { return clock_->Now(); }
  void At(Millis when, std::function<void()> callback);
  // Runs every entry due by Now() (tests with an injected clock).
  void Tick();
  size_t pending() const;

 private:
  struct Entry {
    Millis when;
    uint64_t seq;  // FIFO among equal deadlines
    std::function<void()> callback;
    bool operator>(const Entry& o) const { return when != o.when ? when > o.when : seq > o.seq; }
  };
  void Run();
  // Pops the entries due by `now` (REQUIRES(mu_)).
  std::vector<std::function<void()>> TakeDue(Millis now);

  SteadyClock steady_;
  const Clock* clock_;
  const bool own_thread_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;  // GUARDED_BY(mu_)
  uint64_t seq_ = 0;     // GUARDED_BY(mu_)
  bool stopping_ = false;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace jobtrail::http::live
