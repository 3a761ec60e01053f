#include "http/server/pistache_channel.h"

#include <pistache/http_defs.h>
#include <sys/socket.h>

#include <fmt/format.h>

namespace jobtrail::http {
namespace {

namespace PHttp = Pistache::Http;

void AppendHeader(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

}  // namespace

PistacheChannel::PistacheChannel(ChannelSetup setup) : setup_(std::move(setup)) {}

PistacheChannel::~PistacheChannel() {
  // Dropped without an answer (a bug in the caller) or mid-stream: end the
  // connection rather than leave the client waiting for bytes that never
  // come. No continuation can run any more (they hold weak pointers).
  bool unanswered = false;
  {
    std::lock_guard lock(mu_);
    unanswered = !closed_ && (state_ == State::kWaiting || state_ == State::kStreaming);
    if (unanswered) {
      closed_ = true;
      if (auto peer = setup_.peer.lock()) ::shutdown(peer->fd(), SHUT_RDWR);
    }
  }
  if (!done_.exchange(true) && setup_.on_done) setup_.on_done(this);
}

bool PistacheChannel::QueueLocked(std::string bytes, std::shared_ptr<Pistache::Tcp::Peer>& peer,
                                  Pistache::Async::Promise<ssize_t>& promise) {
  peer = setup_.peer.lock();
  if (!peer) {
    closed_ = true;
    return false;
  }
  const size_t n = bytes.size();
  unsent_.fetch_add(n);
  promise = peer->send(Pistache::RawBuffer(std::move(bytes), n));
  return true;
}

void PistacheChannel::Track(Pistache::Async::Promise<ssize_t>& promise, size_t bytes) {
  std::weak_ptr<PistacheChannel> weak = weak_from_this();
  promise.then(
      [weak, bytes](ssize_t) {
        if (auto self = weak.lock()) self->Written(bytes);
      },
      [weak, bytes](std::exception_ptr) {
        if (auto self = weak.lock()) {
          self->unsent_.fetch_sub(bytes);
          self->WriteFailed();
        }
      });
}

void PistacheChannel::Finish(HttpResponse response) {
  Pistache::Async::Promise<ssize_t> promise = Pistache::Async::Promise<ssize_t>::resolved(ssize_t{0});
  bool sent = false;
  {
    std::lock_guard lock(mu_);
    if (state_ != State::kWaiting || closed_) return;
    state_ = State::kDone;
    for (const auto& header : setup_.headers) response.headers.push_back(header);
    // Under the lock: the peer cannot be reported gone (and its fd reused)
    // while the answer is being queued.
    if (setup_.peer.lock()) {
      // Counted as one unsent byte until the socket took it all, so that a
      // drain can wait for the answer to be out.
      unsent_.fetch_add(1);
      promise = setup_.send(response);
      sent = true;
    }
    closed_ = true;
  }
  if (sent) Track(promise, 1);
  if (!recorded_.exchange(true) && setup_.record) setup_.record(response);
  Done();
}

bool PistacheChannel::BeginStream(const HttpResponse& head) {
  std::shared_ptr<Pistache::Tcp::Peer> peer;
  Pistache::Async::Promise<ssize_t> promise = Pistache::Async::Promise<ssize_t>::resolved(ssize_t{0});
  std::string bytes =
      fmt::format("HTTP/1.{} {} {}\r\n", setup_.http11 ? 1 : 0, head.status,
                  PHttp::codeString(static_cast<PHttp::Code>(head.status)));
  if (!head.content_type.empty()) AppendHeader(bytes, "Content-Type", head.content_type);
  for (const auto& [name, value] : head.headers) AppendHeader(bytes, name, value);
  for (const auto& [name, value] : setup_.headers) AppendHeader(bytes, name, value);
  AppendHeader(bytes, "Connection", setup_.http11 && setup_.keep_alive ? "keep-alive" : "close");
  // HTTP/1.0 has no chunks: the body ends with the connection.
  if (setup_.http11) AppendHeader(bytes, "Transfer-Encoding", "chunked");
  bytes += "\r\n";
  const size_t n = bytes.size();
  {
    std::lock_guard lock(mu_);
    if (state_ != State::kWaiting || closed_) return false;
    if (!QueueLocked(std::move(bytes), peer, promise)) return false;
    state_ = State::kStreaming;
    status_ = head.status;
  }
  Track(promise, n);
  return true;
}

bool PistacheChannel::Write(std::string bytes) {
  if (bytes.empty()) return true;  // an empty chunk would end the body
  std::shared_ptr<Pistache::Tcp::Peer> peer;
  Pistache::Async::Promise<ssize_t> promise = Pistache::Async::Promise<ssize_t>::resolved(ssize_t{0});
  const size_t body = bytes.size();
  std::string framed;
  if (setup_.http11) {
    framed = fmt::format("{:x}\r\n", body);
    framed += bytes;
    framed += "\r\n";
  } else {
    framed = std::move(bytes);
  }
  const size_t n = framed.size();
  {
    std::lock_guard lock(mu_);
    if (state_ != State::kStreaming || closed_) return false;
    if (!QueueLocked(std::move(framed), peer, promise)) return false;
    body_bytes_ += body;
  }
  Track(promise, n);
  return true;
}

void PistacheChannel::End() {
  std::shared_ptr<Pistache::Tcp::Peer> peer;
  Pistache::Async::Promise<ssize_t> promise = Pistache::Async::Promise<ssize_t>::resolved(ssize_t{0});
  bool queued = false;
  {
    std::lock_guard lock(mu_);
    if (state_ != State::kStreaming || closed_) return;
    state_ = State::kEnded;
    if (setup_.http11) queued = QueueLocked("0\r\n\r\n", peer, promise);
  }
  if (queued) Track(promise, 5);
  RecordStream();
  if (unsent_.load() == 0) Release();
}

void PistacheChannel::Abort() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    on_close_ = nullptr;  // the server ended it: nobody needs telling
    if (auto peer = setup_.peer.lock()) ::shutdown(peer->fd(), SHUT_RDWR);
    gone_ = true;
  }
  RecordStream();
  Done();
}

bool PistacheChannel::Closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

void PistacheChannel::OnClose(std::function<void()> handler) {
  {
    std::lock_guard lock(mu_);
    if (!closed_) {
      on_close_ = std::move(handler);
      return;
    }
  }
  if (handler) handler();
}

void PistacheChannel::OnDrained(size_t low_water, std::function<void()> handler) {
  std::lock_guard lock(mu_);
  low_water_ = low_water;
  on_drained_ = std::move(handler);
}

void PistacheChannel::PeerClosed() {
  std::function<void()> handler;
  bool waiting = false;
  {
    std::lock_guard lock(mu_);
    if (!closed_) handler = std::move(on_close_);
    on_close_ = nullptr;
    on_drained_ = nullptr;
    closed_ = true;
    gone_ = true;
    waiting = state_ == State::kWaiting;
    if (waiting) state_ = State::kDone;
  }
  if (waiting) {
    // The client gave up on a long-poll: 499, as nginx logs it.
    HttpResponse gone;
    gone.status = 499;
    gone.content_type.clear();
    if (!recorded_.exchange(true) && setup_.record) setup_.record(gone);
  } else {
    RecordStream();
  }
  if (handler) handler();
  Done();
}

void PistacheChannel::Written(size_t bytes) {
  const size_t before = unsent_.fetch_sub(bytes);
  const size_t now = before - bytes;
  std::function<void()> drained;
  bool ended = false;
  {
    std::lock_guard lock(mu_);
    ended = state_ == State::kEnded;
    if (on_drained_ && before > low_water_ && now <= low_water_ && !closed_) drained = on_drained_;
  }
  if (drained) drained();
  if (ended && now == 0) Release();
}

void PistacheChannel::WriteFailed() { PeerClosed(); }

void PistacheChannel::Release() {
  if (released_.exchange(true)) return;
  {
    std::lock_guard lock(mu_);
    if (!closed_) {
      auto peer = setup_.peer.lock();
      if (peer && (!setup_.http11 || !setup_.keep_alive)) {
        // The body (HTTP/1.0) or the connection (Connection: close) ends here.
        ::shutdown(peer->fd(), SHUT_RDWR);
      } else if (peer) {
        // The answer is complete: the keep-alive timer may judge the peer
        // again, and the next request on it is read as usual.
        peer->setIdle(true);
        if (setup_.parser) setup_.parser->EndAnswering(setup_.answering);
      }
      closed_ = true;
      on_close_ = nullptr;
    }
  }
  Done();
}

void PistacheChannel::RecordStream() {
  int status = 0;
  {
    std::lock_guard lock(mu_);
    status = status_;
  }
  if (status == 0 || recorded_.exchange(true) || !setup_.record) return;
  HttpResponse r;
  r.status = status;
  r.content_type.clear();
  setup_.record(r);
}

void PistacheChannel::Done() {
  if (!done_.exchange(true) && setup_.on_done) setup_.on_done(this);
}

}  // namespace jobtrail::http
