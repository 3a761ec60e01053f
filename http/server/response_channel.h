#pragma once
// Answers that do not come back from the route handler: a long-poll parked
// until its job changes, an event stream that keeps writing (http/live/).
//
// A route returns an HttpResponse whose `deferred` is set; the server then
// sends nothing, keeps the connection, and hands it to the deferred answer
// as a ResponseChannel (the Pistache side is pistache_channel.h). No thread
// waits meanwhile. The headers of the returned response (request id, CORS,
// rate limits, added by the request handler and the gate) go out with
// whatever the channel sends later.
//
// Thread safety: every ResponseChannel method may be called from any
// thread; calls are serialized by the channel.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "http/server/http_types.h"

namespace jobtrail::http {

class ResponseChannel {
 public:
  virtual ~ResponseChannel() = default;

  // The final answer, once (a long-poll). The channel is done afterwards.
  virtual void Finish(HttpResponse response) = 0;

  // A streamed answer: the status line and headers now (Transfer-Encoding:
  // chunked on HTTP/1.1), then Write() as often as needed, then End().
  // False when the connection is gone.
  virtual bool BeginStream(const HttpResponse& head) = 0;
  // Queues `bytes` for the socket (one chunk). False when the connection is
  // gone or the stream ended; nothing is queued then.
  virtual bool Write(std::string bytes) = 0;
  // The end of a streamed body. The connection stays open for the next
  // request once the bytes are out.
  virtual void End() = 0;
  // Ends the connection now, whatever is still queued.
  virtual void Abort() = 0;

  // Bytes queued for this connection that the socket has not taken yet:
  // what the server buffers for a slow reader.
  virtual size_t Unsent() const = 0;
  // No more writes (answered, ended, aborted, or the client left).
  virtual bool Closed() const = 0;
  // Everything queued reached the socket, or the connection is gone.
  virtual bool Flushed() const = 0;

  // Called once when the client goes away (or the server ends the
  // connection), on a network thread: keep it short. Set before anything
  // can close the channel; if it is closed already, called at once.
  virtual void OnClose(std::function<void()> handler) = 0;
  // Called (network thread) whenever Unsent() falls to `low_water` or
  // below after having been above it: a paced writer resumes there.
  virtual void OnDrained(size_t low_water, std::function<void()> handler) = 0;
};

class DeferredResponse {
 public:
  virtual ~DeferredResponse() = default;
  // Called once, right after the route returned. `request` is an owned copy
  // of the request as the route saw it (principal, params, request id),
  // valid as long as the caller keeps it.
  virtual void Start(std::shared_ptr<const HttpRequest> request,
                     std::shared_ptr<ResponseChannel> channel) = 0;
};

}  // namespace jobtrail::http
