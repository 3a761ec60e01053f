#pragma once
// One Server-Sent Events stream: a job's events (GET /v1/jobs/{id}/stream)
// or the global feed (GET /v1/events/stream).
//
// Wire format (text/event-stream): each event is
//     id: <global log position>
//     data: <the event's JSON, as GET /v1/events has it>
// so a client that reconnects with Last-Event-ID gets every event after it
// exactly once, in position order, whatever happened in between (restart,
// kill -9: positions are the durable log's). Control messages have no id
// (a client's last id stays the last event's):
//     event: end      the stream is complete (a job's final event, `limit`)
//     event: dropped  the server ended the stream (SLOW_CONSUMER: the
//                     client read too slowly; SHUTTING_DOWN); reconnect
//                     with Last-Event-ID to resume
// and ": keep-alive" comments keep idle connections open through proxies.
//
// A stream first reads what it must replay from the store, page by page and
// paced by the socket (it pauses while half of max_buffered_bytes is
// queued), while the hub's events for it are kept aside; then, inside
// LiveHub::Exclusive, it takes those and goes live: every event is either
// read or handed out, none twice (positions decide). A live stream whose
// reader falls max_buffered_bytes behind is dropped.
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "http/live/live_event.h"
#include "http/live/live_hub.h"
#include "http/server/principal.h"
#include "http/server/response_channel.h"

namespace jobtrail::http::live {

struct StreamSpec {
  std::string job_id;           // a job's stream; empty: the global feed
  uint64_t after_position = 0;  // carry events with positions after this
  uint64_t after_version = 0;   // a job's stream: its version at after_position
  EventFilter filter;           // the feed's filters
  Principal principal;          // the feed: whose events it may carry
  uint64_t limit = 0;           // the feed: end after this many events; 0: never
};

// The SSE frames (exposed for tests).
std::string EventFrame(const LiveEvent& e);
std::string ControlFrame(std::string_view event, std::string_view json);

class EventStream : public std::enable_shared_from_this<EventStream> {
 public:
  EventStream(std::shared_ptr<LiveHub> hub, StreamSpec spec,
              std::shared_ptr<ResponseChannel> channel);

  // Sends the head, registers with the hub, starts the replay.
  void Begin();
  // The hub's events, in position order, under its lock; never blocks.
  // False: the stream is finished (the hub forgets it).
  bool Offer(const std::shared_ptr<const LiveEvent>& e);
  // The server is shutting down.
  void Shutdown();

  const std::string& job_id() const { return spec_.job_id; }
  const std::shared_ptr<ResponseChannel>& channel() const { return channel_; }

 private:
  enum class State { kReplaying, kLive, kDone };
  void Replay();  // on the live pool
  // The next page after the cursor from the store; `end`: none after it.
  Result<std::vector<std::shared_ptr<const LiveEvent>>> ReadPage(uint64_t position,
                                                                 uint64_t version, bool& end);
  // Writes `e` if the stream carries it. False: the stream is finished.
  bool DeliverLocked(const LiveEvent& e);
  bool WriteLocked(const std::string& frame);
  void EndLocked(std::string_view reason);
  void DropLocked(std::string_view code, std::string_view message);
  void Heartbeat();
  void ArmHeartbeatLocked(Millis at);  // REQUIRES(mu_)
  void Resume();  // the socket drained while the replay was paused
  void Forget();  // leaves the hub (never under mu_)

  std::shared_ptr<LiveHub> hub_;
  const StreamSpec spec_;
  std::shared_ptr<ResponseChannel> channel_;
  const size_t max_buffered_;

  std::mutex mu_;
  State state_ = State::kReplaying;  // GUARDED_BY(mu_)
  uint64_t cursor_ = 0;    // GUARDED_BY(mu_); the last position handled
  uint64_t version_ = 0;   // GUARDED_BY(mu_); a job's stream: its version there
  std::deque<std::shared_ptr<const LiveEvent>> held_;  // GUARDED_BY(mu_); while replaying
  bool overflow_ = false;  // GUARDED_BY(mu_); held_ gave up: read the store again
  bool paused_ = false;    // GUARDED_BY(mu_); replay waits for the socket
  uint64_t delivered_ = 0;  // GUARDED_BY(mu_)
  Millis last_write_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace jobtrail::http::live
