#pragma once
// The wake-up half of the PostgreSQL log: a thread with its own connection
// that LISTENs on the commit channel and reports every notified position.
// After (re)connecting it calls `on_connected`, because notifications sent
// while it was away are lost: the log re-reads the head then.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace jobtrail::eventstore::pg_internal {

class Listener {
 public:
  Listener(std::string url, std::function<void(uint64_t)> on_position,
           std::function<void()> on_connected);
  ~Listener();  // stops the thread and closes the connection

  // True while the LISTEN is in place and the head was re-read after it
  // (tests wait for it: from then on, commits arrive by notification).
  bool listening() const { return listening_.load(); }
  // True from a failed connect or a broken connection until the next
  // LISTEN is in place (false while the first connect is under way: a
  // log that just opened has reached its server).
  bool lost() const { return lost_.load(); }
  // Blocks until listening() or `deadline`; returns listening().
  bool WaitListening(std::chrono::steady_clock::time_point deadline);

 private:
  void Loop();
  // Waits for the socket (or a stop); false on stop.
  bool WaitReadable(int socket);

  std::string url_;
  std::function<void(uint64_t)> on_position_;
  std::function<void()> on_connected_;
  int stop_fd_ = -1;  // an eventfd: written once to stop the thread
  std::atomic<bool> stop_{false};
  std::atomic<bool> listening_{false};
  std::atomic<bool> lost_{false};
  std::mutex mu_;
  std::condition_variable cv_;  // stop_ or listening_ changed
  std::thread thread_;
};

}  // namespace jobtrail::eventstore::pg_internal
