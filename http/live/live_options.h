#pragma once
// Options of the live module (http/live/): long-polls and event streams.
#include <cstddef>

#include "domain/clock.h"
#include "domain/error.h"

namespace jobtrail::http::live {

// The most a long-poll may wait, whatever the options say (documented).
inline constexpr Millis kMaxWaitCeilingMs = 60'000;

struct LiveOptions {
  // The longest a long-poll waits: ?wait=N above it waits this long.
  Millis max_wait_ms = kMaxWaitCeilingMs;
  // An event stream that wrote nothing for this long gets a comment line,
  // so that proxies do not close it as idle.
  Millis heartbeat_ms = 15'000;
  // Bytes the server holds for one stream's slow reader: a live stream
  // beyond it is dropped (with a final message; the client resumes from
  // its last id), a catching-up stream pauses at half of it.
  size_t max_buffered_bytes = size_t{1} << 20;
  // How long a dropped stream's last bytes may take before its connection
  // is closed.
  Millis drop_grace_ms = 10'000;
  // Parked long-polls and open streams at most; more: a long-poll is
  // answered at once, a stream refused with 503 OVERLOADED.
  size_t max_waiters = 100'000;
  size_t max_streams = 10'000;
  // Threads that answer woken long-polls and run streams' catch-up reads.
  size_t threads = 2;
  // Null: a steady clock and a timer thread. Tests inject a ManualClock
  // and fire deadlines with LiveHub::Tick() after moving it.
  const Clock* clock = nullptr;
};

// Errors: kInvalidArgument naming the option.
Result<void> CheckLiveOptions(const LiveOptions& options);

}  // namespace jobtrail::http::live
