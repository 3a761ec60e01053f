#include "eventstore/postgres/pg_listener.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <charconv>

#include "eventstore/postgres/pg_connection.h"
#include "eventstore/postgres/pg_schema.h"

namespace jobtrail::eventstore::pg_internal {
namespace {

// Reconnection pacing: doubles from the first to the last value.
constexpr auto kFirstRetry = std::chrono::milliseconds(50);
constexpr auto kMaxRetry = std::chrono::seconds(2);

}  // namespace

Listener::Listener(std::string url, std::function<void(uint64_t)> on_position,
                   std::function<void()> on_connected)
    : url_(std::move(url)),
      on_position_(std::move(on_position)),
      on_connected_(std::move(on_connected)) {
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  thread_ = std::thread([this] { Loop(); });
}

Listener::~Listener() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  const uint64_t one = 1;
  if (stop_fd_ >= 0) (void)!write(stop_fd_, &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
  if (stop_fd_ >= 0) close(stop_fd_);
}

bool Listener::WaitListening(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return listening_.load() || stop_.load(); });
  return listening_.load();
}

bool Listener::WaitReadable(int socket) {
  pollfd fds[2] = {{socket, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  while (poll(fds, 2, -1) < 0) {
    if (errno != EINTR) return false;  // reconnects, or stops
  }
  return !stop_.load() && (fds[1].revents & POLLIN) == 0;
}

void Listener::Loop() {
  auto backoff = kFirstRetry;
  bool warned = false;
  while (!stop_.load()) {
    auto connected = pg::Connect(url_, "jobtrail listener");
    if (connected) {
      const std::string listen = std::string("LISTEN ") + pg::kNotifyChannel;
      auto listened = pg::Exec(connected.value().get(), listen.c_str(), nullptr, "LISTEN");
      if (!listened) connected = listened.error();
    }
    if (!connected) {
      lost_ = true;
      if (!warned) {
        spdlog::warn("event log: cannot listen for commits ({}); retrying",
                     connected.error().message);
        warned = true;
      }
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, backoff, [&] { return stop_.load(); });
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxRetry);
      continue;
    }
    if (warned) spdlog::info("event log: listening for commits again");
    warned = false;
    backoff = kFirstRetry;
    pg::Conn conn = std::move(connected).value();
    // Listening from here on; what committed before is read now. Only then
    // is the listener "listening": from then on every commit is notified.
    on_connected_();
    {
      std::lock_guard lock(mu_);
      listening_ = true;
      lost_ = false;
    }
    cv_.notify_all();
    while (WaitReadable(PQsocket(conn.get()))) {
      if (PQconsumeInput(conn.get()) != 1) break;  // the connection is gone
      uint64_t highest = 0;
      while (PGnotify* n = PQnotifies(conn.get())) {
        uint64_t position = 0;
        const std::string_view payload = n->extra;
        std::from_chars(payload.data(), payload.data() + payload.size(), position);
        highest = std::max(highest, position);
        PQfreemem(n);
      }
      if (highest != 0) on_position_(highest);
    }
    listening_ = false;
    if (!stop_.load()) lost_ = true;
  }
}

}  // namespace jobtrail::eventstore::pg_internal
