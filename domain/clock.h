#pragma once
// The one source of time. Everything that needs "now" takes a Clock&, so
// tests move time forward instead of sleeping.
#include <atomic>
#include <chrono>

#include "domain/job_event.h"

namespace jobtrail {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis Now() const = 0;  // ms since the Unix epoch; thread-safe
};

class SystemClock final : public Clock {
 public:
  Millis Now() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Millis start) : now_(start) {}
  Millis Now() const override { return now_.load(); }
  void Advance(Millis ms) { now_.fetch_add(ms); }
  void Set(Millis ms) { now_.store(ms); }

 private:
  std::atomic<Millis> now_;
};

}  // namespace jobtrail
