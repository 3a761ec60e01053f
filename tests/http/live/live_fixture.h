#pragma once
// In-process servers with the live module (http/live/) mounted, its timers
// on a manual clock: a test moves the clock and calls Tick() instead of
// waiting for a deadline or a heartbeat.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "http/live/live.h"
#include "tests/http/live/stream_reader.h"
#include "tests/http/live_server.h"
#include "tests/http/live_server.h"

namespace jobtrail::testing {

// What every live fixture adds to its server.
class LiveModule {
 protected:
  void Enable(http::ServerOptions& server) {
    live_options_.clock = &live_clock_;
    handle_ = http::live::EnableLive(server, live_options_);
  }
  http::live::LiveHub& hub() { return *handle_->hub(); }
  // Waits until the hub's figures satisfy `pred` (they change on other
  // threads: a request parked, a stream registered).
  bool WaitForHub(const std::function<bool(const http::live::LiveStats&)>& pred) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!pred(hub().Stats())) {
      if (std::chrono::steady_clock::now() > give_up) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  }
  bool WaitForWaiters(size_t n) {
    return WaitForHub([n](const http::live::LiveStats& s) { return s.waiters == n; });
  }
  bool WaitForStreams(size_t n) {
    return WaitForHub([n](const http::live::LiveStats& s) { return s.streams == n; });
  }
  // Moves the live clock and fires what fell due.
  void Advance(Millis ms) {
    live_clock_.Advance(ms);
    hub().Tick();
  }

  ManualClock live_clock_{1'000'000};
  http::live::LiveOptions live_options_;
  std::shared_ptr<http::live::LiveHandle> handle_;
};

// Authentication off (every request is an admin): the API's behaviour.
class LiveTest : public ServerTest, public LiveModule {
 protected:
  void SetUp() override {
    dir_ = MakeHttpTempDir("jobtrail-live");
    options_.host = "127.0.0.1";
    options_.port = 0;
    options_.threads = 2;
    options_.access_log = false;
    options_.security.auth.insecure_no_auth = true;
    Configure();
    Enable(options_);
    Start();
  }
  // Before the server starts: change live_options_ or options_.
  virtual void Configure() {}

  // A GET on its own connection and thread.
  std::future<HttpResult> AsyncGet(const std::string& path, std::vector<std::string> headers = {}) {
    return std::async(std::launch::async, [base = base_, path, headers] {
      HttpClient client(base);
      return client.Get(path, headers);
    });
  }
  static bool Ready(std::future<HttpResult>& f) {
    return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  }
};

}  // namespace jobtrail::testing
