// VerifyLog over a log tampered with behind its back: the test opens the
// RocksDB directly and rewrites or deletes records in the `log` family.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "eventstore/hash_chain.h"
#include "eventstore/key_format.h"
#include "eventstore/log_verifier.h"
#include "eventstore/rocks_event_log.h"
#include "tests/eventstore/test_util.h"

namespace jobtrail::eventstore {
namespace {

namespace kf = key_format;
using testing_util::Events;
using testing_util::OpenLog;
using testing_util::TempDir;

// The log's RocksDB opened raw, with its four column families.
class RawDb {
 public:
  explicit RawDb(const std::string& dir) {
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, {}},
        {std::string(kf::kLogFamily), {}},
        {std::string(kf::kStreamsFamily), {}},
        {std::string(kf::kIdsFamily), {}}};
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(), dir, families, &handles_, &raw);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(raw);
  }
  ~RawDb() {
    for (auto* h : handles_) EXPECT_TRUE(db_->DestroyColumnFamilyHandle(h).ok());
  }
  StoredEvent Read(uint64_t position) {
    std::string value;
    EXPECT_TRUE(db_->Get({}, handles_[1], kf::PositionKey(position), &value).ok());
    return kf::DecodeRecord(position, value).value_or(StoredEvent{});
  }
  void Write(const StoredEvent& e) {
    ASSERT_TRUE(db_->Put({}, handles_[1], kf::PositionKey(e.position), kf::EncodeRecord(e)).ok());
  }
  void Delete(uint64_t position) {
    ASSERT_TRUE(db_->Delete({}, handles_[1], kf::PositionKey(position)).ok());
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = OpenLog(dir_.path());
    ASSERT_NE(log, nullptr);
    // Positions 1-2 in a, 3-4 in b, 5 in a, 6 in b.
    ASSERT_TRUE(log->Append("a", kNoStream, Events("a1", 2)));
    ASSERT_TRUE(log->Append("b", kNoStream, Events("b1", 2)));
    ASSERT_TRUE(log->Append("a", 2, Events("a2", 1)));
    ASSERT_TRUE(log->Append("b", 2, Events("b2", 1)));
  }
  LogReport Verify() {
    auto log = OpenLog(dir_.path());
    EXPECT_NE(log, nullptr);
    if (log == nullptr) return {};
    auto report = VerifyLog(*log, nullptr, nullptr);
    EXPECT_TRUE(report) << report.error().message;
    return report ? report.value() : LogReport{};
  }
  static bool Mentions(const LogReport& report, const std::string& text) {
    for (const auto& p : report.problems) {
      if (p.find(text) != std::string::npos) return true;
    }
    return false;
  }

  TempDir dir_;
};

TEST_F(VerifyTest, SoundLogPasses) {
  LogReport report = Verify();
  EXPECT_TRUE(report.ok()) << report.problems.front();
  EXPECT_EQ(report.events, 6u);
  EXPECT_EQ(report.streams, 2u);
}

TEST_F(VerifyTest, RewrittenRecordIsCaught) {
  {
    RawDb db(dir_.path());
    StoredEvent e = db.Read(3);
    e.data = "forged";
    db.Write(e);
  }
  LogReport report = Verify();
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(Mentions(report, "position 3: hash chain broken"));
}

TEST_F(VerifyTest, RewrittenAndRehashedRecordBreaksTheNext) {
  {
    RawDb db(dir_.path());
    StoredEvent e = db.Read(3);
    e.data = "forged";
    e.hash = ChainHash(db.Read(2).hash, e);
    db.Write(e);
  }
  LogReport report = Verify();
  EXPECT_FALSE(report.ok());
  EXPECT_FALSE(Mentions(report, "position 3:"));
  EXPECT_TRUE(Mentions(report, "position 4: hash chain broken"));
}

TEST_F(VerifyTest, DroppedRecordIsCaught) {
  {
    RawDb db(dir_.path());
    db.Delete(4);
  }
  LogReport report = Verify();
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(Mentions(report, "events are missing"));
  EXPECT_TRUE(Mentions(report, "position 5: hash chain broken"));
  EXPECT_TRUE(Mentions(report, "stream 'b' goes from version 1 to 3"));
}

TEST_F(VerifyTest, DroppedLastRecordIsCaught) {
  {
    RawDb db(dir_.path());
    db.Delete(6);
  }
  LogReport report = Verify();
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(Mentions(report, "log ends at position 5 but its head is 6"))
      << report.problems.front();
}

// A forger who recomputes the whole chain after moving an event to another
// version still leaves a stream with a gap.
TEST_F(VerifyTest, BrokenStreamIsCaughtEvenWithARecomputedChain) {
  {
    RawDb db(dir_.path());
    std::string prev = db.Read(4).hash;
    StoredEvent e5 = db.Read(5);
    e5.version = 4;  // a: 1, 2, then 4
    e5.hash = ChainHash(prev, e5);
    db.Write(e5);
    StoredEvent e6 = db.Read(6);
    e6.hash = ChainHash(e5.hash, e6);
    db.Write(e6);
  }
  LogReport report = Verify();
  EXPECT_FALSE(report.ok());
  EXPECT_FALSE(Mentions(report, "hash chain broken"));
  EXPECT_TRUE(Mentions(report, "stream 'a' goes from version 2 to 4"));
}

TEST_F(VerifyTest, CheckEventHookReportsPerEventProblems) {
  auto log = OpenLog(dir_.path());
  ASSERT_NE(log, nullptr);
  uint64_t progressed = 0;
  auto report = VerifyLog(
      *log,
      [](const StoredEvent& e) -> std::optional<std::string> {
        if (e.event_id == "b1-1") return "does not decode";
        return std::nullopt;
      },
      [&](uint64_t position) { progressed = position; });
  ASSERT_TRUE(report);
  ASSERT_EQ(report.value().problems.size(), 1u);
  EXPECT_EQ(report.value().problems[0], "position 4: does not decode");
  EXPECT_EQ(progressed, 6u);
}

}  // namespace
}  // namespace jobtrail::eventstore
