#include "http/live/timers.h"

#include <chrono>

namespace jobtrail::http::live {

Millis SteadyClock::Now() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Timers::Timers(const Clock* injected)
    : clock_(injected != nullptr ? injected : &steady_), own_thread_(injected == nullptr) {}

void Timers::Start() {
  if (!own_thread_ || thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { Run(); });
}

void Timers::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    heap_ = {};
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Timers::At(Millis when, std::function<void()> callback) {
  bool earliest = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    earliest = heap_.empty() || when < heap_.top().when;
    heap_.push(Entry{when, seq_++, std::move(callback)});
  }
  // Only an earlier deadline changes how long the thread sleeps.
  if (earliest) changed_.notify_one();
}

size_t Timers::pending() const {
  std::lock_guard lock(mu_);
  return heap_.size();
}

std::vector<std::function<void()>> Timers::TakeDue(Millis now) {
  std::vector<std::function<void()>> due;
  while (!heap_.empty() && heap_.top().when <= now) {
    // priority_queue::top is const; the callback is moved out before pop.
    due.push_back(std::move(const_cast<Entry&>(heap_.top()).callback));
    heap_.pop();
  }
  return due;
}

void Timers::Tick() {
  std::vector<std::function<void()>> due;
  {
    std::lock_guard lock(mu_);
    due = TakeDue(clock_->Now());
  }
  for (auto& callback : due) callback();
}

void Timers::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (heap_.empty()) {
      changed_.wait(lock);
      continue;
    }
    const Millis wait = heap_.top().when - clock_->Now();
    if (wait > 0) {
      changed_.wait_for(lock, std::chrono::milliseconds(wait));
      continue;
    }
    std::vector<std::function<void()>> due = TakeDue(clock_->Now());
    lock.unlock();
    for (auto& callback : due) callback();
    lock.lock();
  }
}

}  // namespace jobtrail::http::live
