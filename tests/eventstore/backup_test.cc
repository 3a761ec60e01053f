// The log beside a writer and its backups: a secondary instance reads what
// the writer committed (and refuses appends), and Backup - the writer's
// checkpoint and a secondary's copy - gives a log of its own that verifies
// and holds every append acknowledged before it began, while appends go on.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "eventstore/log_verifier.h"
#include "eventstore/rocks_event_log.h"
#include "tests/eventstore/test_util.h"

namespace jobtrail::eventstore {
namespace {

using testing_util::Events;
using testing_util::OpenLog;
using testing_util::TempDir;

std::unique_ptr<RocksEventLog> OpenReader(const std::string& dir, const std::string& scratch) {
  auto log = RocksEventLog::OpenSecondary(dir, scratch, RocksEventLogOptions());
  EXPECT_TRUE(log.has_value()) << (log ? "" : log.error().message);
  return log ? std::move(log.value()) : nullptr;
}

// Appenders writing one-event appends to their own streams until stopped;
// `acknowledged` counts, per stream, the appends that returned.
class Appenders {
 public:
  Appenders(RocksEventLog& log, int threads) : acknowledged_(size_t(threads)) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, &log, t] {
        for (uint64_t i = 0; !stop_.load(); ++i) {
          const std::string stream = "s" + std::to_string(t);
          auto r = log.Append(stream, i, Events(stream + "-" + std::to_string(i), 1));
          if (!r) {
            failed_.store(true);
            return;
          }
          acknowledged_[size_t(t)].store(i + 1);
        }
      });
    }
  }
  ~Appenders() { Stop(); }
  void Stop() {
    stop_.store(true);
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  // Waits (bounded) until every appender has had `n` appends acknowledged.
  bool WaitFor(uint64_t n) {
    for (int spin = 0; spin < 10'000'000; ++spin) {
      bool all = true;
      for (auto& a : acknowledged_) all = all && a.load() >= n;
      if (all || failed_.load()) return all;
      std::this_thread::yield();
    }
    return false;
  }
  std::vector<uint64_t> Acknowledged() const {
    std::vector<uint64_t> out;
    for (auto& a : acknowledged_) out.push_back(a.load());
    return out;
  }
  bool failed() const { return failed_.load(); }

 private:
  std::vector<std::atomic<uint64_t>> acknowledged_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
};

// The copy opens as a writable log of its own, verifies, and holds at least
// `at_least[t]` events of stream s<t>.
void ExpectSoundCopy(const std::string& dir, const std::vector<uint64_t>& at_least) {
  auto copy = OpenLog(dir);
  ASSERT_NE(copy, nullptr);
  auto report = VerifyLog(*copy, nullptr, nullptr);
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report.value().ok()) << report.value().problems.front();
  for (size_t t = 0; t < at_least.size(); ++t) {
    auto version = copy->StreamVersion("s" + std::to_string(t));
    ASSERT_TRUE(version.has_value());
    EXPECT_GE(version.value(), at_least[t]) << "stream s" << t << " lost acknowledged appends";
  }
  // It takes appends of its own.
  EXPECT_TRUE(copy->Append("after-restore", kNoStream, Events("after", 1)).has_value());
}

TEST(SecondaryTest, ReadsWhatTheWriterCommittedAndRefusesAppends) {
  TempDir dir;
  auto writer = OpenLog(dir.Sub("log"));
  ASSERT_TRUE(writer->Append("a", kNoStream, Events("a", 3)).has_value());
  auto reader = OpenReader(dir.Sub("log"), dir.Sub("scratch"));
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(reader->read_only());
  EXPECT_EQ(reader->LastPosition(), 3u);
  ASSERT_TRUE(writer->Append("b", kNoStream, Events("b", 2)).has_value());
  EXPECT_EQ(reader->LastPosition(), 3u);  // as of its open, until it catches up
  auto caught_up = reader->CatchUp();
  ASSERT_TRUE(caught_up.has_value()) << caught_up.error().message;
  EXPECT_EQ(caught_up.value(), 5u);
  auto b = reader->ReadStream("b", 1, 10);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b.value().size(), 2u);
  auto appended = reader->Append("c", kNoStream, Events("c", 1));
  ASSERT_FALSE(appended.has_value());
  EXPECT_EQ(appended.error().code, StoreCode::kInvalidArgument);
  auto many = reader->AppendMany({StreamAppend{"c", kNoStream, Events("c", 1)}});
  ASSERT_EQ(many.size(), 1u);
  EXPECT_FALSE(many[0].has_value());
  EXPECT_EQ(writer->LastPosition(), 5u);  // nothing reached the writer's log
}

TEST(SecondaryTest, MissingOrForeignDirectoryIsRefused) {
  TempDir dir;
  auto missing = RocksEventLog::OpenSecondary(dir.Sub("none"), dir.Sub("scratch"), {});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, StoreCode::kNotFound);
  std::filesystem::create_directories(dir.Sub("foreign"));
  std::ofstream(dir.Sub("foreign") + "/notes.txt") << "not a log";
  auto foreign = RocksEventLog::OpenSecondary(dir.Sub("foreign"), dir.Sub("scratch"), {});
  ASSERT_FALSE(foreign.has_value());
  EXPECT_EQ(foreign.error().code, StoreCode::kCorruption);
}

TEST(BackupTest, WritersCheckpointUnderLoadHoldsEveryAcknowledgedAppend) {
  TempDir dir;
  auto writer = OpenLog(dir.Sub("log"));
  Appenders load(*writer, 4);
  ASSERT_TRUE(load.WaitFor(50));
  const std::vector<uint64_t> before = load.Acknowledged();
  auto backup = writer->Backup(dir.Sub("copy"));
  ASSERT_TRUE(backup.has_value()) << backup.error().message;
  ASSERT_TRUE(load.WaitFor(before.front() + 20));  // appends went on meanwhile
  load.Stop();
  ASSERT_FALSE(load.failed());
  uint64_t sum = 0;
  for (uint64_t n : before) sum += n;
  EXPECT_GE(backup.value(), sum);
  ExpectSoundCopy(dir.Sub("copy"), before);
}

TEST(BackupTest, SecondarysCopyUnderLoadHoldsEveryAcknowledgedAppend) {
  TempDir dir;
  auto writer = OpenLog(dir.Sub("log"));
  Appenders load(*writer, 4);
  ASSERT_TRUE(load.WaitFor(20));
  auto reader = OpenReader(dir.Sub("log"), dir.Sub("scratch"));
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(load.WaitFor(load.Acknowledged().front() + 50));
  const std::vector<uint64_t> before = load.Acknowledged();
  auto backup = reader->Backup(dir.Sub("copy"));  // catches up first
  ASSERT_TRUE(backup.has_value()) << backup.error().message;
  load.Stop();
  ASSERT_FALSE(load.failed());
  ExpectSoundCopy(dir.Sub("copy"), before);
}

TEST(BackupTest, ExistingDestinationIsRefusedAndLeftAlone) {
  TempDir dir;
  auto writer = OpenLog(dir.Sub("log"));
  ASSERT_TRUE(writer->Append("a", kNoStream, Events("a", 1)).has_value());
  std::filesystem::create_directories(dir.Sub("copy"));
  std::ofstream(dir.Sub("copy") + "/keep.txt") << "mine";
  auto backup = writer->Backup(dir.Sub("copy"));
  ASSERT_FALSE(backup.has_value());
  EXPECT_EQ(backup.error().code, StoreCode::kInvalidArgument);
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("copy") + "/keep.txt"));
}

}  // namespace
}  // namespace jobtrail::eventstore
