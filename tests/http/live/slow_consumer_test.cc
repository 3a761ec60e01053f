// A reader that stops reading cannot make the server hold more than
// max_buffered_bytes for it: its stream is dropped with a final message,
// and it resumes from its last id, missing nothing.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/http/live/live_fixture.h"

namespace jobtrail::testing {
namespace {

class SlowConsumerTest : public LiveTest {
 protected:
  void Configure() override { live_options_.max_buffered_bytes = 16 * 1024; }
};

// Opens an HTTP/1.0 stream (the body ends with the connection) with a tiny
// receive buffer, and does not read.
int OpenStalledStream(uint16_t port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  int small = 4096;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: x\r\n\r\n";
  if (write(fd, request.data(), request.size()) != ssize_t(request.size())) return -1;
  return fd;
}

std::string ReadToEnd(int fd) {
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, size_t(n));
  return out;
}

TEST_F(SlowConsumerTest, IsDroppedWithAFinalMessageAndResumesFromItsLastId) {
  const std::string id = Enqueue();
  const int fd = OpenStalledStream(server_->port(), "/v1/events/stream");
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(WaitForStreams(1));
  // Events of 2 KB until the server gives up on the reader: what it holds
  // for it is bounded, whatever the kernel buffers take first.
  const std::string line(2000, 'x');
  int appended = 0;
  while (hub().Stats().dropped == 0) {
    ASSERT_LT(appended, 20000) << "never dropped";
    MustAppend(id, R"({"type":"logged","data":{"level":"INFO","message":")" + line + "\"}}");
    ++appended;
  }
  EXPECT_TRUE(WaitForStreams(0));
  // The reader wakes up and reads what was sent: events, then the message.
  const std::string body = ReadToEnd(fd);
  close(fd);
  ASSERT_EQ(body.rfind("HTTP/1.0 200", 0), 0u) << body.substr(0, 200);
  SseParser parser;
  StreamReader::Events got;
  parser.Feed(body.substr(body.find("\r\n\r\n") + 4), [&](const SseEvent& e) {
    got.push_back(e);
    return true;
  });
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.back().event, "dropped");
  EXPECT_NE(got.back().data.find("SLOW_CONSUMER"), std::string::npos) << got.back().data;
  const std::vector<uint64_t> before = EventIds(got);
  ASSERT_FALSE(before.empty());

  // The job went on meanwhile. Resume from the last id it has: the rest,
  // once each.
  for (int i = 0; i < 5; ++i) {
    MustAppend(id, R"({"type":"logged","data":{"level":"INFO","message":"after"}})");
  }
  const uint64_t last = LogPosition();
  StreamReader resumed(base_ + "/v1/events/stream", {"Last-Event-ID: " + std::to_string(before.back())},
                       [last](const auto& e) {
                         auto ids = EventIds(e);
                         return !ids.empty() && ids.back() == last;
                       });
  ASSERT_TRUE(resumed.WaitFinished());
  std::vector<uint64_t> all = before;
  for (uint64_t p : EventIds(resumed.events())) all.push_back(p);
  // Positions 2.. are the appends (1 is the enqueue, before the stream began).
  std::vector<uint64_t> expected;
  for (uint64_t p = 2; p <= last; ++p) expected.push_back(p);
  EXPECT_EQ(all, expected);
}

}  // namespace
}  // namespace jobtrail::testing
