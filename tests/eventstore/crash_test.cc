// kill -9 at random moments: a child process (crash_child.cc) appends
// batches from several threads and reports each acknowledged append; the
// test kills it after a random number of acknowledgements, reopens the log
// and checks that every acknowledged event is there, that no batch is
// partly there, and that VerifyLog passes. Rounds alternate kSync and
// kNoSync: a process crash must lose nothing acknowledged in either mode.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "eventstore/log_verifier.h"
#include "eventstore/rocks_event_log.h"
#include "tests/eventstore/test_util.h"

namespace jobtrail::eventstore {
namespace {

using testing_util::OpenLog;
using testing_util::TempDir;

struct Ack {
  std::string stream;
  uint64_t last_version = 0;
  uint64_t count = 0;
};

// A running child with its stdout on a pipe.
class Child {
 public:
  Child(const std::string& dir, const std::string& run, int threads, bool sync) {
    int fds[2];
    if (pipe(fds) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      const std::string threads_arg = std::to_string(threads);
      execl(JOBTRAIL_CRASH_CHILD, JOBTRAIL_CRASH_CHILD, dir.c_str(), run.c_str(),
            threads_arg.c_str(), sync ? "sync" : "nosync", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    fd_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0) KillAndReap();
    if (fd_ >= 0) close(fd_);
  }
  bool started() const { return pid_ > 0 && fd_ >= 0; }

  // Reads acknowledgements until `count` are in or the child exits.
  void ReadAcks(size_t count, std::vector<Ack>& acks) {
    while (acks.size() < count && ReadLine(acks)) {
    }
  }
  // SIGKILL, then collect what the child had written before it died.
  int KillAndReap(std::vector<Ack>* acks = nullptr) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    if (acks != nullptr) {
      while (ReadLine(*acks)) {
      }
    }
    return status;
  }

 private:
  bool ReadLine(std::vector<Ack>& acks) {
    size_t newline;
    while ((newline = buffer_.find('\n')) == std::string::npos) {
      char chunk[4096];
      ssize_t n = read(fd_, chunk, sizeof(chunk));
      if (n <= 0) return false;
      buffer_.append(chunk, size_t(n));
    }
    std::istringstream line(buffer_.substr(0, newline));
    buffer_.erase(0, newline + 1);
    Ack ack;
    line >> ack.stream >> ack.last_version >> ack.count;
    acks.push_back(ack);
    return true;
  }

  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
};

// Walks the global log: every batch must be whole and contiguous.
void ExpectWholeBatches(EventLog& log) {
  auto all = log.ReadAll(1, 1 << 24);
  ASSERT_TRUE(all);
  const auto& events = all.value();
  size_t i = 0;
  while (i < events.size()) {
    std::istringstream head(events[i].data);
    std::string word, batch;
    size_t size = 0, index = 0;
    head >> word >> batch >> word >> size >> word >> index;
    ASSERT_EQ(index, 0u) << "batch " << batch << " starts mid-way at " << events[i].position;
    ASSERT_LE(i + size, events.size()) << "batch " << batch << " is cut short";
    for (size_t k = 0; k < size; ++k) {
      const std::string expected =
          "batch " + batch + " size " + std::to_string(size) + " index " + std::to_string(k);
      ASSERT_EQ(events[i + k].data, expected) << "at position " << events[i + k].position;
    }
    i += size;
  }
}

TEST(CrashTest, KillNineLosesNothingAcknowledgedAndNoBatchIsPartial) {
  TempDir dir;
  const std::string log_dir = dir.Sub("log");
  const uint32_t seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  constexpr int kRounds = 24;
  size_t total_acks = 0;
  for (int round = 0; round < kRounds; ++round) {
    const bool sync = round % 2 == 0;
    SCOPED_TRACE("round " + std::to_string(round) + (sync ? " sync" : " nosync"));
    std::vector<Ack> acks;
    {
      Child child(log_dir, "r" + std::to_string(round), 1 + int(rng() % 6), sync);
      ASSERT_TRUE(child.started());
      const size_t kill_after = 1 + rng() % 300;
      child.ReadAcks(kill_after, acks);
      ASSERT_EQ(acks.size(), kill_after) << "the child stopped early";
      const int status = child.KillAndReap(&acks);
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    }
    total_acks += acks.size();

    auto log = OpenLog(log_dir);
    ASSERT_NE(log, nullptr);
    for (const Ack& ack : acks) {
      auto stream = log->ReadStream(ack.stream, ack.last_version - ack.count + 1, ack.count);
      ASSERT_TRUE(stream);
      ASSERT_EQ(stream.value().size(), ack.count)
          << ack.stream << " lost acknowledged version " << ack.last_version;
      EXPECT_EQ(stream.value().back().version, ack.last_version);
    }
    ExpectWholeBatches(*log);
    auto report = VerifyLog(*log, nullptr, nullptr);
    ASSERT_TRUE(report);
    ASSERT_TRUE(report.value().ok()) << report.value().problems.front();
  }
  RecordProperty("acknowledged_appends", int(total_acks));
}

}  // namespace
}  // namespace jobtrail::eventstore
