// Holds N keep-alive connections to one job's status for bench/live/run.sh:
//
//   jobtrail_live_waiters HOST PORT JOB_ID N longpoll SECONDS
//     each connection long-polls (?wait=60, If-None-Match: the version it
//     last saw) and asks again as soon as it is answered;
//   jobtrail_live_waiters HOST PORT JOB_ID N poll SECONDS INTERVAL_MS
//     each connection polls (If-None-Match) every INTERVAL_MS, as the seed
//     clients do.
// One thread, epoll. Prints a line per second: connections open, requests
// waiting for their answer, answers by status; and "all-changed <epoch ms>"
// the moment every connection has been answered 200 for one new version.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Conn {
  int fd = -1;
  std::string in;
  std::string etag = "\"1\"";
  bool waiting = false;  // a request is out, its answer not yet in
  Clock::time_point next_send{};
};

long long EpochMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One complete response at the front of `in`: its status, new ETag, length.
bool TakeResponse(std::string& in, int& status, std::string& etag) {
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  const std::string head = in.substr(0, end);
  status = std::atoi(head.c_str() + 9);
  size_t length = 0;
  size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string::npos) {
    pos += 2;
    if (strncasecmp(head.c_str() + pos, "Content-Length:", 15) == 0) {
      length = std::strtoul(head.c_str() + pos + 15, nullptr, 10);
    } else if (strncasecmp(head.c_str() + pos, "ETag:", 5) == 0) {
      size_t v = pos + 5;
      while (v < head.size() && head[v] == ' ') ++v;
      etag = head.substr(v, head.find("\r\n", v) - v);
    }
  }
  if (in.size() < end + 4 + length) return false;
  in.erase(0, end + 4 + length);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: %s HOST PORT JOB_ID N longpoll|poll SECONDS [INTERVAL_MS]\n",
                 argv[0]);
    return 2;
  }
  const std::string host = argv[1];
  const int port = std::atoi(argv[2]);
  const std::string job = argv[3];
  const int n = std::atoi(argv[4]);
  const bool longpoll = std::string(argv[5]) == "longpoll";
  const int seconds = std::atoi(argv[6]);
  const int interval_ms = argc > 7 ? std::atoi(argv[7]) : 5000;

  const int ep = epoll_create1(0);
  std::vector<Conn> conns(n);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(port));
  inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  auto send_request = [&](Conn& c) {
    std::string req = "GET /v1/jobs/" + job + (longpoll ? "?wait=60" : "") +
                      " HTTP/1.1\r\nHost: bench\r\nIf-None-Match: " + c.etag + "\r\n\r\n";
    // Small requests on a fresh socket buffer: one write takes it all.
    if (write(c.fd, req.data(), req.size()) == ssize_t(req.size())) c.waiting = true;
  };
  const auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    Conn& c = conns[i];
    c.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c.fd < 0 || connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      std::perror("connect");
      return 1;
    }
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c.fd, F_SETFL, O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = uint32_t(i);
    epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    // Pollers start spread over one interval, as independent clients would.
    c.next_send = longpoll ? start : start + std::chrono::milliseconds(int64_t(i) * interval_ms / n);
    if (longpoll) send_request(c);
    // Pistache 0.0.5 listens with a backlog of 128 whatever its options say
    // (Endpoint::init does not pass it on) and accepts one connection per
    // wake-up: connecting faster than that overflows the queue, and the
    // kernel's SYN retries add a second each. Pace the connects.
    if (i % 64 == 63) usleep(10'000);
  }
  std::printf("connected %d in %lld ms\n", n,
              (long long)std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start)
                  .count());
  long long answered_200 = 0, answered_304 = 0, answered_other = 0, closed = 0;
  std::string version_seen = "\"1\"";
  int changed = 0;  // connections answered 200 with the newest ETag
  auto next_report = Clock::now() + std::chrono::seconds(1);
  const auto stop = start + std::chrono::seconds(seconds);
  std::vector<epoll_event> events(1024);
  char buf[65536];
  while (Clock::now() < stop) {
    const int ready = epoll_wait(ep, events.data(), int(events.size()), longpoll ? 100 : 5);
    for (int k = 0; k < ready; ++k) {
      Conn& c = conns[events[k].data.u32];
      for (;;) {
        const ssize_t got = read(c.fd, buf, sizeof buf);
        if (got > 0) {
          c.in.append(buf, size_t(got));
          continue;
        }
        if (got == 0) {
          ++closed;
          epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
          close(c.fd);
          c.fd = -1;
        }
        break;
      }
      int status = 0;
      while (c.fd >= 0 && TakeResponse(c.in, status, c.etag)) {
        c.waiting = false;
        if (status == 200) {
          ++answered_200;
          if (c.etag != version_seen) {
            version_seen = c.etag;
            changed = 0;
          }
          if (++changed == n) std::printf("all-changed %lld\n", EpochMs());
        } else if (status == 304) {
          ++answered_304;
        } else {
          ++answered_other;
        }
        if (longpoll) {
          send_request(c);
        } else {
          c.next_send = Clock::now() + std::chrono::milliseconds(interval_ms);
        }
      }
    }
    const auto now = Clock::now();
    if (!longpoll) {
      for (Conn& c : conns) {
        if (c.fd >= 0 && !c.waiting && c.next_send <= now) send_request(c);
      }
    }
    if (now >= next_report) {
      long long open = 0, waiting = 0;
      for (const Conn& c : conns) {
        open += c.fd >= 0;
        waiting += c.fd >= 0 && c.waiting;
      }
      std::printf("t=%llds open=%lld waiting=%lld 200=%lld 304=%lld other=%lld closed=%lld\n",
                  (long long)std::chrono::duration_cast<std::chrono::seconds>(now - start).count(),
                  open, waiting, answered_200, answered_304, answered_other, closed);
      std::fflush(stdout);
      next_report += std::chrono::seconds(1);
    }
  }
  return 0;
}
