// Log compaction: archived streams leave the log for the archive and come
// back whole; the log keeps versions, positions and the hash chain, which
// VerifyLog proves across the gaps with the archive - and catches an
// archive that was tampered with or lost.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "eventstore/log_verifier.h"
#include "eventstore/rocks_event_log.h"
#include "tests/eventstore/test_util.h"

namespace jobtrail::eventstore {
namespace {

using testing_util::Events;
using testing_util::TempDir;

std::unique_ptr<RocksEventLog> OpenArchiving(const std::string& dir, const std::string& archive,
                                             ArchiveCompression compression) {
  RocksEventLogOptions options;
  options.archive_dir = archive;
  options.archive_compression = compression;
  options.archive_renderer = [](const StoredEvent& e) {
    return "{\"id\":\"" + e.event_id + "\"}";
  };
  auto log = RocksEventLog::Open(dir, options);
  EXPECT_TRUE(log.has_value()) << (log ? "" : log.error().message);
  return log ? std::move(log.value()) : nullptr;
}

LogReport Verify(EventLog& log) {
  auto report = VerifyLog(log, nullptr, nullptr);
  EXPECT_TRUE(report.has_value()) << (report ? "" : report.error().message);
  return report ? report.value() : LogReport{};
}

std::string Problems(const LogReport& r) {
  std::string out;
  for (const auto& p : r.problems) out += p + "\n";
  return out;
}

class CompactionTest : public ::testing::TestWithParam<ArchiveCompression> {
 protected:
  // Streams a, b, c interleaved: a1 b1 c1 a2 b2 c2 a3 (positions 1..7).
  void SetUp() override {
    log_ = OpenArchiving(dir_.Sub("log"), dir_.Sub("archive"), GetParam());
    ASSERT_NE(log_, nullptr);
    for (int round = 0; round < 3; ++round) {
      for (const char* s : {"a", "b", "c"}) {
        if (round == 2 && std::string(s) != "a") continue;
        ASSERT_TRUE(log_->Append(s, uint64_t(round), Events(std::string(s) + std::to_string(round), 1))
                        .has_value());
      }
    }
    auto a = log_->ReadStream("a", 1, 10);
    ASSERT_TRUE(a.has_value());
    before_a_ = a.value();
  }
  TempDir dir_;
  std::unique_ptr<RocksEventLog> log_;
  std::vector<StoredEvent> before_a_;
};

TEST_P(CompactionTest, ArchivedStreamsReadBackWholeAndVerify) {
  auto done = log_->ArchiveStreams({"a", "c", "unknown"}, 7);
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done.value().streams, 2u);
  EXPECT_EQ(done.value().events, 5u);
  EXPECT_GT(done.value().archive_bytes, 0u);

  // The log has only b's records left; a and c read back from the archive.
  auto all = log_->ReadAll(1, 100);
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all.value().size(), 2u);
  EXPECT_EQ(all.value()[0].stream, "b");
  EXPECT_EQ(all.value()[1].position, 5u);
  auto a = log_->ReadStream("a", 1, 10);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  ASSERT_EQ(a.value().size(), before_a_.size());
  for (size_t i = 0; i < a.value().size(); ++i) {
    EXPECT_EQ(a.value()[i].position, before_a_[i].position);
    EXPECT_EQ(a.value()[i].version, before_a_[i].version);
    EXPECT_EQ(a.value()[i].event_id, before_a_[i].event_id);
    EXPECT_EQ(a.value()[i].data, before_a_[i].data);
    EXPECT_EQ(a.value()[i].hash, before_a_[i].hash);
  }
  auto tail = log_->ReadStream("a", 3, 10);
  ASSERT_TRUE(tail.has_value());
  ASSERT_EQ(tail.value().size(), 1u);
  EXPECT_EQ(tail.value()[0].version, 3u);
  // Short reads (point lookups on the live log) find the archive as well.
  for (uint64_t from : {1u, 2u, 3u}) {
    auto few = log_->ReadStream("a", from, 2);
    ASSERT_TRUE(few.has_value()) << few.error().message;
    ASSERT_EQ(few.value().size(), std::min<size_t>(2, 4 - from)) << from;
    EXPECT_EQ(few.value()[0].version, from);
    EXPECT_EQ(few.value()[0].hash, before_a_[from - 1].hash);
  }
  EXPECT_EQ(log_->StreamVersion("a").value(), 3u);  // the stream keeps its version
  EXPECT_EQ(log_->LastPosition(), 7u);
  EXPECT_EQ(log_->CompactionCursor().value(), 7u);
  EXPECT_EQ(log_->ArchivedThrough().value(), 7u);

  LogReport report = Verify(*log_);
  EXPECT_TRUE(report.ok()) << Problems(report);
  EXPECT_EQ(report.events, 7u);
  EXPECT_EQ(report.archived_events, 5u);
  EXPECT_EQ(report.streams, 3u);

  // Archiving again is a no-op; the stream cannot be recreated.
  EXPECT_EQ(log_->ArchiveStreams({"a"}, 7).value().streams, 0u);
  auto again = log_->Append("a", kNoStream, Events("a-again", 1));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, StoreCode::kWrongExpectedVersion);

  // Reopened (the last record was archived: the head comes from the gap),
  // the chain goes on.
  log_.reset();
  log_ = OpenArchiving(dir_.Sub("log"), dir_.Sub("archive"), GetParam());
  ASSERT_NE(log_, nullptr);
  EXPECT_EQ(log_->LastPosition(), 7u);
  auto next = log_->Append("d", kNoStream, Events("d", 2));
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next.value().first_position, 8u);
  report = Verify(*log_);
  EXPECT_TRUE(report.ok()) << Problems(report);
  EXPECT_EQ(report.events, 9u);
  // b next: the gaps around it merge with its own run into one.
  ASSERT_EQ(log_->ArchiveStreams({"b"}, 9).value().streams, 1u);
  auto gap = log_->GapAt(1);
  ASSERT_TRUE(gap.has_value() && gap.value().has_value());
  EXPECT_EQ(gap.value()->last, 7u);
  report = Verify(*log_);
  EXPECT_TRUE(report.ok()) << Problems(report);
  EXPECT_EQ(report.archived_events, 7u);
}

TEST_P(CompactionTest, ASecondaryReadsArchivedStreamsToo) {
  ASSERT_TRUE(log_->ArchiveStreams({"a"}, 7).has_value());
  // Without an archive directory of its own: the one the log recorded.
  auto reader = RocksEventLog::OpenSecondary(dir_.Sub("log"), dir_.Sub("scratch"), {});
  ASSERT_TRUE(reader.has_value()) << reader.error().message;
  auto a = reader.value()->ReadStream("a", 1, 10);
  ASSERT_TRUE(a.has_value()) << a.error().message;
  EXPECT_EQ(a.value().size(), 3u);
  EXPECT_TRUE(Verify(*reader.value()).ok());
}

TEST_P(CompactionTest, ASubscriptionMovesPastATrailingArchivedRange) {
  auto sub = log_->Subscribe(4);
  ASSERT_TRUE(log_->ArchiveStreams({"a", "c"}, 7).has_value());  // 6 and 7 archived
  auto first = sub->Next(10, std::chrono::milliseconds(0));
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first.value().size(), 1u);  // b's second event, at 5
  auto rest = sub->Next(10, std::chrono::milliseconds(0));
  ASSERT_TRUE(rest.has_value());
  EXPECT_TRUE(rest.value().empty());
  EXPECT_EQ(sub->position(), 7u);  // so the next Next waits for new events
}

INSTANTIATE_TEST_SUITE_P(Formats, CompactionTest,
                         ::testing::Values(ArchiveCompression::kNone, ArchiveCompression::kGzip));

TEST(CompactionTamperTest, AnAlteredLostOrMissingArchiveIsCaught) {
  TempDir dir;
  auto log = OpenArchiving(dir.Sub("log"), dir.Sub("archive"), ArchiveCompression::kNone);
  ASSERT_TRUE(log->Append("a", kNoStream, Events("a", 2)).has_value());
  ASSERT_TRUE(log->Append("b", kNoStream, Events("b", 2)).has_value());
  ASSERT_TRUE(log->Append("c", kNoStream, Events("c", 2)).has_value());
  ASSERT_TRUE(log->ArchiveStreams({"a", "b"}, 6).has_value());
  ASSERT_TRUE(Verify(*log).ok());
  std::string file;
  for (const auto& entry : std::filesystem::directory_iterator(dir.Sub("archive"))) {
    file = entry.path().string();
  }
  ASSERT_NE(file.find("events-"), std::string::npos);
  ASSERT_EQ(file.substr(file.size() - 7), ".ndjson");
  std::stringstream text;
  text << std::ifstream(file).rdbuf();
  const std::string original = text.str();
  EXPECT_NE(original.find(R"("event":{"id":"a-0"})"), std::string::npos) << original;

  // One archived event's data rewritten (same length: base64 of other bytes).
  std::string altered = original;
  const size_t data = altered.find("\"data\":\"") + 8;
  altered[data] = altered[data] == 'Z' ? 'Y' : 'Z';
  std::ofstream(file, std::ios::trunc) << altered;
  LogReport report = Verify(*log);
  EXPECT_FALSE(report.ok());
  EXPECT_NE(Problems(report).find("does not hash to its recorded hash"), std::string::npos)
      << Problems(report);

  // A line dropped: the segment is short of a record.
  std::string dropped = original;
  dropped.erase(0, dropped.find('\n') + 1);
  std::ofstream(file, std::ios::trunc) << dropped;
  EXPECT_FALSE(Verify(*log).ok());

  // The file gone: reading the stream and verifying both say so.
  std::filesystem::remove(file);
  auto a = log->ReadStream("a", 1, 10);
  ASSERT_FALSE(a.has_value());
  EXPECT_EQ(a.error().code, StoreCode::kNotFound);
  report = Verify(*log);
  EXPECT_FALSE(report.ok());
  EXPECT_NE(Problems(report).find("missing"), std::string::npos) << Problems(report);

  // The original back: sound again.
  std::ofstream(file, std::ios::trunc) << original;
  EXPECT_TRUE(Verify(*log).ok()) << Problems(Verify(*log));
}

TEST(CompactionTamperTest, CompactionNeedsAnArchiveAndAWriter) {
  TempDir dir;
  auto log = testing_util::OpenLog(dir.Sub("log"));
  ASSERT_TRUE(log->Append("a", kNoStream, Events("a", 1)).has_value());
  auto refused = log->ArchiveStreams({"a"}, 1);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, StoreCode::kInvalidArgument);
  EXPECT_EQ(log->ReadStream("a", 1, 10).value().size(), 1u);
}

}  // namespace
}  // namespace jobtrail::eventstore
