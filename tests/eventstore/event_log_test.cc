// The EventLog contract from one thread, on every backend (log_backend.h):
// versions, positions, expected-version checks, idempotency by event id,
// argument validation, reopening.
#include <gtest/gtest.h>

#include <algorithm>

#include "eventstore/log_verifier.h"
#include "tests/eventstore/log_backend.h"
#include "tests/eventstore/test_util.h"

namespace jobtrail::eventstore {
namespace {

using testing_util::EventLogTest;
using testing_util::Events;
using testing_util::Ids;

TEST_P(EventLogTest, AppendsAndReadsAStream) {
  AppendResult r = MustAppend("job-1", kNoStream, Events("a", 3));
  EXPECT_EQ(r.first_position, 1u);
  EXPECT_EQ(r.last_position, 3u);
  EXPECT_EQ(r.first_version, 1u);
  EXPECT_EQ(r.last_version, 3u);
  EXPECT_FALSE(r.duplicate);
  EXPECT_EQ(log_->LastPosition(), 3u);

  std::vector<StoredEvent> events = Stream("job-1");
  ASSERT_EQ(events.size(), 3u);
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(events[i].stream, "job-1");
    EXPECT_EQ(events[i].version, i + 1);
    EXPECT_EQ(events[i].position, i + 1);
    EXPECT_EQ(events[i].event_id, "a-" + std::to_string(i));
    EXPECT_EQ(events[i].data, "data of a-" + std::to_string(i));
    EXPECT_EQ(events[i].hash.size(), 32u);
  }
  EXPECT_EQ(Stream("job-1", 2).size(), 2u);
  EXPECT_EQ(Stream("job-1", 2).front().version, 2u);
  EXPECT_EQ(Stream("job-1", 4).size(), 0u);
  auto limited = log_->ReadStream("job-1", 1, 2);
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited.value().size(), 2u);
  EXPECT_TRUE(Stream("no-such-job").empty());
  EXPECT_EQ(log_->StreamVersion("job-1").value(), 3u);
  EXPECT_EQ(log_->StreamVersion("no-such-job").value(), 0u);
}

// Reads of a few versions (the RocksDB log answers them by point lookups,
// longer ones with an iterator) hand over the same records either way.
TEST_P(EventLogTest, ShortAndLongReadsOfAStreamAgree) {
  MustAppend("job-1", kNoStream, Events("a", 3));
  MustAppend("job-2", kNoStream, Events("b", 2));
  MustAppend("job-1", 3, Events("c", 9));  // job-1: 12 versions, positions 1-3 and 6-14
  const std::vector<StoredEvent> whole = Stream("job-1");
  ASSERT_EQ(whole.size(), 12u);
  for (uint64_t from : {1u, 2u, 3u, 4u, 5u, 11u, 12u, 13u}) {
    for (size_t count : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{8}, size_t{9}, size_t{100}}) {
      auto read = log_->ReadStream("job-1", from, count);
      ASSERT_TRUE(read) << read.error().message;
      const size_t expected = from > 12 ? 0 : std::min<size_t>(count, 13 - from);
      ASSERT_EQ(read.value().size(), expected) << "from " << from << ", count " << count;
      for (size_t i = 0; i < expected; ++i) {
        const StoredEvent& want = whole[from - 1 + i];
        EXPECT_EQ(read.value()[i].position, want.position);
        EXPECT_EQ(read.value()[i].version, want.version);
        EXPECT_EQ(read.value()[i].event_id, want.event_id);
        EXPECT_EQ(read.value()[i].data, want.data);
        EXPECT_EQ(read.value()[i].hash, want.hash);
      }
    }
  }
  auto none = log_->ReadStream("no-such-job", 1, 3);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none.value().empty());
}

TEST_P(EventLogTest, GlobalOrderInterleavesStreams) {
  MustAppend("a", kNoStream, Events("a1", 2));
  MustAppend("b", kNoStream, Events("b1", 1));
  MustAppend("a", 2, Events("a2", 1));
  std::vector<StoredEvent> all = All();
  ASSERT_EQ(all.size(), 4u);
  const std::vector<std::pair<std::string, uint64_t>> expected = {
      {"a", 1}, {"a", 2}, {"b", 1}, {"a", 3}};
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].position, i + 1);
    EXPECT_EQ(all[i].stream, expected[i].first);
    EXPECT_EQ(all[i].version, expected[i].second);
  }
  EXPECT_EQ(All(3).size(), 2u);
  EXPECT_EQ(All(5).size(), 0u);
  EXPECT_EQ(log_->ReadAll(1, 2).value().size(), 2u);
  // A stream whose name is a prefix of another's stays apart from it.
  MustAppend("ab", kNoStream, Events("ab", 1));
  EXPECT_EQ(Stream("a").size(), 3u);
  EXPECT_EQ(Stream("ab").size(), 1u);
}

TEST_P(EventLogTest, ScanHandsOverTheRecordsOfARangeInOrder) {
  MustAppend("a", kNoStream, Events("a", 2));
  MustAppend("b", kNoStream, Events("b", 1));
  MustAppend("a", 2, Events("c", 2));
  auto all = All();
  std::vector<StoredEvent> seen;
  auto copy = [&](const EventRef& e) {
    seen.push_back(StoredEvent{e.position, std::string(e.stream), e.version,
                               std::string(e.event_id), std::string(e.data),
                               std::string(e.hash)});
    return true;
  };
  auto last = log_->Scan(1, 100, copy);  // past the head: up to the head
  ASSERT_TRUE(last);
  EXPECT_EQ(last.value(), 5u);
  ASSERT_EQ(seen.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(seen[i].position, all[i].position);
    EXPECT_EQ(seen[i].stream, all[i].stream);
    EXPECT_EQ(seen[i].version, all[i].version);
    EXPECT_EQ(seen[i].event_id, all[i].event_id);
    EXPECT_EQ(seen[i].data, all[i].data);
    EXPECT_EQ(seen[i].hash, all[i].hash);
  }
  seen.clear();
  EXPECT_EQ(log_->Scan(2, 4, copy).value(), 4u);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen.front().position, 2u);
  // The callback stops the scan; an empty range hands over nothing.
  seen.clear();
  EXPECT_EQ(log_->Scan(1, 5, [&](const EventRef& e) { return copy(e) && e.position < 2; }).value(),
            2u);
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_EQ(log_->Scan(6, 10, copy).value(), 5u);
  EXPECT_EQ(seen.size(), 2u);
}

TEST_P(EventLogTest, RejectsAStaleExpectedVersion) {
  MustAppend("job", kNoStream, Events("a", 2));
  auto stale = log_->Append("job", 1, Events("b", 1));
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code, StoreCode::kWrongExpectedVersion);
  EXPECT_EQ(stale.error().current_version, 2u);

  auto exists = log_->Append("job", kNoStream, Events("c", 1));
  ASSERT_FALSE(exists);
  EXPECT_EQ(exists.error().code, StoreCode::kWrongExpectedVersion);
  EXPECT_EQ(exists.error().current_version, 2u);

  auto ahead = log_->Append("job", 7, Events("d", 1));
  ASSERT_FALSE(ahead);
  EXPECT_EQ(ahead.error().current_version, 2u);

  auto missing = log_->Append("other", 3, Events("e", 1));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, StoreCode::kWrongExpectedVersion);
  EXPECT_EQ(missing.error().current_version, 0u);

  // Nothing of the rejected appends is in the log; their ids stay free.
  EXPECT_EQ(log_->LastPosition(), 2u);
  EXPECT_EQ(Stream("job").size(), 2u);
  AppendResult ok = MustAppend("job", 2, Events("b", 1));
  EXPECT_EQ(ok.first_version, 3u);
  EXPECT_EQ(ok.first_position, 3u);
}

TEST_P(EventLogTest, AnyVersionSkipsTheCheck) {
  EXPECT_EQ(MustAppend("job", kAnyVersion, Events("a", 1)).first_version, 1u);
  EXPECT_EQ(MustAppend("job", kAnyVersion, Events("b", 2)).last_version, 3u);
}

TEST_P(EventLogTest, RetryWithTheSameIdsReturnsTheFirstResult) {
  AppendResult first = MustAppend("job", kNoStream, Ids({"x", "y"}));
  MustAppend("other", kNoStream, Events("o", 3));
  MustAppend("job", 2, Events("later", 1));

  // A retry of the first append: its expected version is stale by now, and
  // the data may differ (say, a re-rendered timestamp); the ids decide.
  auto retry = log_->Append("job", kNoStream, {{"x", "other data"}, {"y", ""}});
  ASSERT_TRUE(retry) << retry.error().message;
  EXPECT_TRUE(retry.value().duplicate);
  EXPECT_EQ(retry.value().first_position, first.first_position);
  EXPECT_EQ(retry.value().last_position, first.last_position);
  EXPECT_EQ(retry.value().first_version, first.first_version);
  EXPECT_EQ(retry.value().last_version, first.last_version);
  EXPECT_EQ(log_->LastPosition(), 6u);
  EXPECT_EQ(Stream("job").size(), 3u);
  EXPECT_EQ(Stream("job").front().data, "data of x");

  auto single = log_->Append("other", 0, Events("o", 3));
  ASSERT_TRUE(single);
  EXPECT_TRUE(single.value().duplicate);
  EXPECT_EQ(single.value().first_position, 3u);
}

TEST_P(EventLogTest, PartialReuseOfIdsIsAnError) {
  MustAppend("job", kNoStream, Ids({"a", "b"}));
  MustAppend("job", 2, Ids({"c"}));
  const std::vector<std::vector<EventToAppend>> not_retries = {
      Ids({"a"}),            // fewer
      Ids({"a", "b", "z"}),  // more
      Ids({"a", "z"}),       // a different second id
      Ids({"b"}),            // not the first id of its append
      Ids({"z", "a"}),       // a fresh first id, a used second one
      Ids({"a", "c"}),       // ids of two appends
      Ids({"b", "a"}),       // reordered
  };
  for (const auto& events : not_retries) {
    auto r = log_->Append("job", kAnyVersion, events);
    ASSERT_FALSE(r) << events.size();
    EXPECT_EQ(r.error().code, StoreCode::kInvalidArgument) << r.error().message;
  }
  EXPECT_EQ(log_->LastPosition(), 3u);
  EXPECT_EQ(Stream("job").size(), 3u);
}

TEST_P(EventLogTest, SameIdsInAnotherStreamIsAnError) {
  MustAppend("job-1", kNoStream, Ids({"a", "b"}));
  auto r = log_->Append("job-2", kNoStream, Ids({"a", "b"}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, StoreCode::kInvalidArgument);
  EXPECT_NE(r.error().message.find("job-1"), std::string::npos) << r.error().message;
  EXPECT_TRUE(Stream("job-2").empty());
  EXPECT_EQ(log_->LastPosition(), 2u);
}

TEST_P(EventLogTest, InvalidRequestsAreRejected) {
  const std::string long_name(257, 'x');
  struct Case {
    std::string stream;
    std::vector<EventToAppend> events;
  };
  const std::vector<Case> cases = {
      {"job", {}},
      {"", Ids({"a"})},
      {long_name, Ids({"a"})},
      {"job", {{"", "data"}}},
      {"job", {{long_name, "data"}}},
      {"job", Ids({"a", "b", "a"})},
  };
  for (const Case& c : cases) {
    auto r = log_->Append(c.stream, kAnyVersion, c.events);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, StoreCode::kInvalidArgument);
  }
  // 17 events with a repeat: the larger-request duplicate check.
  std::vector<EventToAppend> many = Events("m", 17);
  many.push_back(many[3]);
  EXPECT_FALSE(log_->Append("job", kAnyVersion, many));
  EXPECT_EQ(log_->LastPosition(), 0u);
  EXPECT_TRUE(All().empty());
}

TEST_P(EventLogTest, BinaryNamesAndDataRoundTrip) {
  const std::string stream("job\0\xff", 5);
  const std::string id("\0id\n", 4);
  const std::string data("\0\1\2\xff", 4);
  MustAppend(stream, kNoStream, {{id, data}});
  std::vector<StoredEvent> events = Stream(stream);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event_id, id);
  EXPECT_EQ(events[0].data, data);
  EXPECT_TRUE(Stream("job").empty());
}

TEST_P(EventLogTest, ReopenRecoversTheHeadAndTheChain) {
  MustAppend("a", kNoStream, Events("a", 3));
  MustAppend("b", kNoStream, Events("b", 2));
  const std::string head_hash = All().back().hash;
  Reopen();
  EXPECT_EQ(log_->LastPosition(), 5u);
  EXPECT_EQ(log_->StreamVersion("a").value(), 3u);
  EXPECT_EQ(All().back().hash, head_hash);
  // Versions, positions and the chain go on where they stopped...
  AppendResult r = MustAppend("a", 3, Events("a2", 1));
  EXPECT_EQ(r.first_position, 6u);
  EXPECT_EQ(r.first_version, 4u);
  // ...and retries are still recognised.
  auto retry = log_->Append("b", kNoStream, Events("b", 2));
  ASSERT_TRUE(retry);
  EXPECT_TRUE(retry.value().duplicate);
  EXPECT_EQ(retry.value().first_position, 4u);

  auto report = VerifyLog(*log_, nullptr, nullptr);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report.value().ok()) << report.value().problems.front();
  EXPECT_EQ(report.value().events, 6u);
  EXPECT_EQ(report.value().streams, 2u);
}

}  // namespace
}  // namespace jobtrail::eventstore
