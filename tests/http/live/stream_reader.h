#pragma once
// An SSE client on its own thread, collecting what it receives, so a test
// can act (append, restart the server) and wait for what the stream shows:
// WaitUntil waits on a condition variable, never on the clock.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tests/http/live/sse_client.h"

namespace jobtrail::testing {

class StreamReader {
 public:
  using Events = std::vector<SseEvent>;
  // `stop_when` (may be null) is asked after each received event: true
  // ends the connection there (a client killed midway).
  StreamReader(std::string url, std::vector<std::string> headers,
               std::function<bool(const Events&)> stop_when = nullptr)
      : thread_([this, url = std::move(url), headers = std::move(headers),
                 stop_when = std::move(stop_when)] {
          SseClient client;
          SseResult result = client.Stream(
              url, headers,
              [&](const SseEvent& e) {
                std::lock_guard lock(mu_);
                events_.push_back(e);
                changed_.notify_all();
                return !(stop_when && stop_when(events_));
              },
              &cancel_);
          std::lock_guard lock(mu_);
          result_ = result;
          finished_ = true;
          changed_.notify_all();
        }) {}
  ~StreamReader() {
    cancel_ = true;
    thread_.join();
  }

  // Waits until `pred(events)` holds or the stream ended; returns pred's
  // last answer. A test that waits in vain fails after `limit`.
  bool WaitUntil(const std::function<bool(const Events&)>& pred,
                 std::chrono::seconds limit = std::chrono::seconds(60)) {
    std::unique_lock lock(mu_);
    changed_.wait_for(lock, limit, [&] { return pred(events_) || finished_; });
    return pred(events_);
  }
  // Waits for the stream to end (server ended it, or stop_when).
  bool WaitFinished(std::chrono::seconds limit = std::chrono::seconds(60)) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, limit, [&] { return finished_; });
  }
  Events events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  SseResult result() const {
    std::lock_guard lock(mu_);
    return result_;
  }
  bool finished() const {
    std::lock_guard lock(mu_);
    return finished_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  Events events_;
  SseResult result_;
  bool finished_ = false;
  std::atomic<bool> cancel_{false};
  std::thread thread_;  // last: starts once the rest is ready
};

// The ids (log positions) of the data events among `events`.
inline std::vector<uint64_t> EventIds(const StreamReader::Events& events) {
  std::vector<uint64_t> ids;
  for (const SseEvent& e : events) {
    if (!e.id.empty()) ids.push_back(std::stoull(e.id));
  }
  return ids;
}

inline bool HasControl(const StreamReader::Events& events, const std::string& name) {
  for (const SseEvent& e : events) {
    if (e.event == name) return true;
  }
  return false;
}

}  // namespace jobtrail::testing
