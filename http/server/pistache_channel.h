#pragma once
// ResponseChannel (response_channel.h) on a Pistache 0.0.5 connection: how a
// long-poll's late answer and an event stream's chunks reach the socket
// after onRequest has returned, from any thread.
//
// Why not Pistache's ResponseStream: its flush() runs Transport::flush(),
// which drains the reactor's write queue and reads its peer table on the
// calling thread, unsafe off the reactor thread. The channel instead queues
// every write with Peer::send, which only hands the bytes to the peer's
// reactor thread (what ResponseWriter::send does too), and frames the
// chunked body itself.
//
// Unsent(): a write's promise resolves on the reactor thread once the socket
// took all of it, so queued-but-unresolved bytes are what the server holds
// for a slow reader. A write to a peer that went away is dropped by Pistache
// without resolving; the channel is closed by then (below).
//
// The fd: Pistache addresses queued writes by fd number, and a removed
// peer's number can be reused by the next connection. The channel queues a
// write only under its lock, and only while the adapter has not reported a
// disconnection (PeerClosed, called from onDisconnection before Pistache
// closes the fd), so bytes never go to a connection they were not for.
#include <pistache/peer.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>

#include "http/server/pistache_security.h"
#include "http/server/response_channel.h"

namespace jobtrail::http {

class PistacheChannel;

struct ChannelSetup {
  std::weak_ptr<Pistache::Tcp::Peer> peer;
  bool http11 = false;
  bool keep_alive = false;  // the answer says Connection: keep-alive
  // Told when the answer is complete, so the idle timers see the peer again.
  std::shared_ptr<GuardedRequestParser> parser;
  uint64_t answering = 0;  // the request's BeginAnswering token
  // Headers every answer on this channel carries (request id, CORS, rate
  // limits): those of the response that deferred.
  StringPairs headers;
  // Finish() hands its answer here: the adapter's one way to the socket.
  // The promise resolves once the socket took it.
  std::function<Pistache::Async::Promise<ssize_t>(const HttpResponse&)> send;
  // Access log and metrics, once the answer is complete (for a stream: its
  // status and the body bytes written).
  std::function<void(const HttpResponse&)> record;
  // Called once the channel is done (finished, ended, aborted, closed).
  std::function<void(const PistacheChannel*)> on_done;
};

class PistacheChannel final : public ResponseChannel,
                              public std::enable_shared_from_this<PistacheChannel> {
 public:
  explicit PistacheChannel(ChannelSetup setup);
  ~PistacheChannel() override;

  void Finish(HttpResponse response) override;
  bool BeginStream(const HttpResponse& head) override;
  bool Write(std::string bytes) override;
  void End() override;
  void Abort() override;
  size_t Unsent() const override { return unsent_.load(); }
  bool Closed() const override;
  bool Flushed() const override { return gone_.load() || unsent_.load() == 0; }
  void OnClose(std::function<void()> handler) override;
  void OnDrained(size_t low_water, std::function<void()> handler) override;

  // The adapter's onDisconnection: the peer is going away (its fd is about
  // to be closed). Runs the close handler.
  void PeerClosed();

 private:
  enum class State { kWaiting, kStreaming, kEnded, kDone };
  // Queues raw bytes (REQUIRES(mu_), state checked by the caller).
  bool QueueLocked(std::string bytes, std::shared_ptr<Pistache::Tcp::Peer>& peer,
                   Pistache::Async::Promise<ssize_t>& promise);
  // Attaches the accounting to a queued write (without mu_: the promise may
  // have resolved already, and then runs the continuation right here).
  void Track(Pistache::Async::Promise<ssize_t>& promise, size_t bytes);
  void Written(size_t bytes);
  void WriteFailed();
  // The stream's last bytes are out: the peer is idle again.
  void Release();
  void RecordStream();
  void Done();

  ChannelSetup setup_;
  mutable std::mutex mu_;
  State state_ = State::kWaiting;  // GUARDED_BY(mu_)
  bool closed_ = false;            // GUARDED_BY(mu_); no more writes, ever
  std::function<void()> on_close_;  // GUARDED_BY(mu_)
  std::function<void()> on_drained_;  // GUARDED_BY(mu_)
  size_t low_water_ = 0;           // GUARDED_BY(mu_)
  int status_ = 0;                 // GUARDED_BY(mu_); of a stream
  size_t body_bytes_ = 0;          // GUARDED_BY(mu_)
  std::atomic<size_t> unsent_{0};
  std::atomic<bool> recorded_{false};
  std::atomic<bool> released_{false};
  std::atomic<bool> done_{false};
  std::atomic<bool> gone_{false};  // the connection ended (queued bytes are lost)
};

}  // namespace jobtrail::http
